/**
 * The worker's token accounting (cocoon runners/helpers/CountTokens.cpp, Ton.h adjust_tokens;
 * shared worker-observability-formats.txt "Token accounting"), reproduced with the same double
 * arithmetic so the emulator's adjusted counts are the ones a real worker would log.
 */

/** Raw usage as reported by the inference server (OpenAI `usage`). */
export interface RawUsage {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  reasoningTokens: number;
}

/** Adjusted (billing) tokens: total = prompt + cached + completion + reasoning. */
export interface AdjustedUsage {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

/** Price multipliers from the root contract params, 10000 = 1.0x. */
export interface TokenMultipliers {
  prompt: number;
  cached: number;
  completion: number;
  reasoning: number;
}

/** `(int64)(n * (coef * 0.001) * mult * 0.0001)`: coefficient 1000 = 1.0x, multiplier 10000 = 1.0x. */
export function adjustTokens(n: number, coefficient: number, multiplier: number): number {
  return Math.trunc(n * (coefficient * 0.001) * multiplier * 0.0001);
}

/**
 * Adjusted usage of one request: prompt counts `prompt - cached`, completion counts
 * `completion - reasoning`, each part adjusted with its own multiplier, total = sum of the four.
 */
export function adjustUsage(raw: RawUsage, coefficient: number, m: TokenMultipliers): AdjustedUsage {
  const promptTokens = adjustTokens(raw.promptTokens - raw.cachedTokens, coefficient, m.prompt);
  const cachedTokens = adjustTokens(raw.cachedTokens, coefficient, m.cached);
  const completionTokens = adjustTokens(raw.completionTokens - raw.reasoningTokens, coefficient, m.completion);
  const reasoningTokens = adjustTokens(raw.reasoningTokens, coefficient, m.reasoning);
  return {
    promptTokens,
    cachedTokens,
    completionTokens,
    reasoningTokens,
    totalTokens: promptTokens + cachedTokens + completionTokens + reasoningTokens,
  };
}
