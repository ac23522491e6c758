/**
 * Telemetry is evidence, not truth: classification of a worker's `/jsonstats` sample against what
 * the pool accepted before. Pure (no I/O), so the contribution and workers projections, the
 * heartbeat saga and an audit replay all reach the same verdict for the same events.
 *
 * The format (cocoon runners/helpers/AmortCounter.h @ b75d4447, shared Cocoon README): every
 * `stats.*` value is `[total, r1s, r10s, r1m, r10m, r1h, r1d]`, where `total` is cumulative since
 * the worker PROCESS started and `r_T` is an exponentially decayed accumulator divided by its period
 * `T`: `r_T·T = Σ amountᵢ·e^(−(now−tᵢ)/T)`. Two facts follow for every counter of a real process:
 * - `r_T·T ≤ total` (each amount decays), and
 * - for a process younger than `τ` (all its amounts were added within `τ`): `r_T·T ≥ total·e^(−τ/T)`.
 * A process restarted after the previous poll is younger than the time since that poll, so a
 * restart is accepted only when EVERY counter satisfies both bounds for every window (all totals
 * and all decayed rates reset together) and the new token total could have been earned since the
 * previous poll. Anything else is an anomaly: nothing is credited and the reason is reported.
 *
 * Verdicts (`classifySample`):
 * - `first`: no baseline yet (a new worker, or after an owner/identity mismatch): sets it, credits 0;
 * - `continued`: same git_commit, no counter went down, the token delta is under the ceiling;
 * - `restarted`: a counter went down or git_commit changed, with the restart evidence above;
 * - `anomaly`: credits nothing. `implausible-value` (a value ≥ 2^63), `over-ceiling` (more tokens
 *   than `maxAdjustedTokensPerSecond` × seconds since the baseline), `counter-decreased` /
 *   `commit-changed` (without restart evidence), `owner-changed`, `identity-changed`;
 * - `stale`: not newer than the baseline (a duplicate); the caller ignores it.
 * After a counter anomaly the baseline stays, so the next good sample is credited from the last
 * accepted totals (T−1 after T, then T+5, credits 5). After an owner or identity mismatch the
 * baseline is dropped and the expected owner/identity kept: work done while the worker named
 * another owner, or while another machine answered, is never credited, even once it is back.
 */

/** The 11 cumulative counters (`stats.*[0]`), camelCase as in producers/cocoon/jsonstats.ts. */
export const COUNTER_KEYS = [
  'queries',
  'success',
  'failed',
  'bytesReceived',
  'bytesSent',
  'timeSeconds',
  'totalAdjustedTokens',
  'promptAdjustedTokens',
  'cachedAdjustedTokens',
  'completionAdjustedTokens',
  'reasoningAdjustedTokens',
] as const;
export type CounterKey = (typeof COUNTER_KEYS)[number];
export type CounterTotals = Record<CounterKey, number>;
/** Decayed rates `stats.*[1..6]` (per second; windows 1s, 10s, 1m, 10m, 1h, 1d). */
export type CounterRates = Record<CounterKey, number[]>;

/** Time constants of `stats.*[1..6]`, seconds. */
export const RATE_WINDOWS_SECONDS = [1, 10, 60, 600, 3600, 86400] as const;

/** What one successful poll reported (the data of a WorkerStatsSampled event). */
export interface TelemetrySample {
  /** unix ms when the pool received the reply */
  observedAtMs: number;
  /** round-trip time of the poll, ms */
  pollMs: number;
  gitCommit: string;
  totals: CounterTotals;
  /** null for events recorded before rates were kept (then only the totals are evidence) */
  rates: CounterRates | null;
  /** raw `localconfig.owner_address`; null when not reported */
  ownerAddress: string | null;
  /** raw `wallet.address` (the worker node's Cocoon wallet, its identity); null before it is initialised */
  walletAddress: string | null;
}

/** The last accepted sample's counters. */
export interface CounterBaseline {
  observedAtMs: number;
  pollMs: number;
  gitCommit: string;
  totals: CounterTotals;
}

/** What a consumer keeps per worker to classify the next sample (JSON-serialisable). */
export interface TelemetryState {
  /** null before the first accepted sample and after an owner or identity mismatch */
  baseline: CounterBaseline | null;
  /** the owner_address first reported: later samples must report the same */
  ownerAddress: string | null;
  /** the wallet address first reported: later samples must report the same */
  walletAddress: string | null;
}

export interface TelemetryLimits {
  /** ceiling on adjusted tokens per second of wall time since the baseline (config telemetry.maxAdjustedTokensPerSecond) */
  maxAdjustedTokensPerSecond: number;
}

export type AnomalyReason =
  | 'implausible-value'
  | 'over-ceiling'
  | 'counter-decreased'
  | 'commit-changed'
  | 'owner-changed'
  | 'identity-changed';

export type Verdict =
  | { kind: 'first' }
  | { kind: 'continued'; adjustedTokens: number }
  | { kind: 'restarted'; adjustedTokens: number }
  | { kind: 'anomaly'; reason: AnomalyReason; detail: string }
  | { kind: 'stale' };

export interface Classification {
  verdict: Verdict;
  /** the state to keep for the next sample */
  state: TelemetryState;
}

/**
 * Default limits (config `telemetry`): above what one Cocoon worker VM's GPU serves (an 8B
 * model's prefill on an H100 runs in the tens of thousands of tokens per second).
 */
export const DEFAULT_TELEMETRY_LIMITS: TelemetryLimits = { maxAdjustedTokensPerSecond: 100_000 };

/** 2^63: no int64 counter of the worker can reach it; a value this large is not a measurement. */
export const IMPLAUSIBLE = 2 ** 63;
/** Allowance on a restarted process's age for poll latency and clock jitter, ms. */
const AGE_MARGIN_MS = 1000;

/** The state of a worker never sampled. */
export const EMPTY_TELEMETRY: TelemetryState = { baseline: null, ownerAddress: null, walletAddress: null };

/**
 * Classifies `next` against `state` (see the module comment). Credited tokens are whole adjusted
 * tokens: `round(total)` differences, so the credits of consecutive samples telescope exactly.
 */
export function classifySample(state: TelemetryState, next: TelemetrySample, limits: TelemetryLimits): Classification {
  const base = state.baseline;
  if (base && next.observedAtMs <= base.observedAtMs) return { verdict: { kind: 'stale' }, state };
  const anomaly = (reason: AnomalyReason, detail: string, after: TelemetryState = state): Classification => ({
    verdict: { kind: 'anomaly', reason, detail },
    state: after,
  });

  const implausible = implausibleValue(next);
  if (implausible) return anomaly('implausible-value', implausible);
  if (next.ownerAddress !== null && state.ownerAddress !== null && next.ownerAddress !== state.ownerAddress) {
    return anomaly('owner-changed', `owner_address ${next.ownerAddress}, expected ${state.ownerAddress}`, { ...state, baseline: null });
  }
  if (next.walletAddress !== null && state.walletAddress !== null && next.walletAddress !== state.walletAddress) {
    return anomaly('identity-changed', `wallet ${next.walletAddress} answered, expected ${state.walletAddress}`, { ...state, baseline: null });
  }
  const accepted: TelemetryState = {
    baseline: { observedAtMs: next.observedAtMs, pollMs: next.pollMs, gitCommit: next.gitCommit, totals: next.totals },
    ownerAddress: state.ownerAddress ?? next.ownerAddress,
    walletAddress: state.walletAddress ?? next.walletAddress,
  };
  if (!base) return { verdict: { kind: 'first' }, state: accepted };

  const elapsedMs = next.observedAtMs - base.observedAtMs;
  const ceiling = (limits.maxAdjustedTokensPerSecond * elapsedMs) / 1000;
  const decreased = COUNTER_KEYS.filter((k) => next.totals[k] < base.totals[k]);
  const commitChanged = next.gitCommit !== base.gitCommit;

  if (!decreased.length && !commitChanged) {
    const tokens = Math.round(next.totals.totalAdjustedTokens) - Math.round(base.totals.totalAdjustedTokens);
    if (tokens > ceiling) return anomaly('over-ceiling', overCeiling(tokens, elapsedMs, limits));
    return { verdict: { kind: 'continued', adjustedTokens: tokens }, state: accepted };
  }

  const trigger: AnomalyReason = decreased.length ? 'counter-decreased' : 'commit-changed';
  const what = decreased.length
    ? `${decreased.map((k) => `${k} ${base.totals[k]} → ${next.totals[k]}`).join(', ')}`
    : `git_commit ${base.gitCommit} → ${next.gitCommit}`;
  const maxAgeMs = elapsedMs + base.pollMs + AGE_MARGIN_MS;
  const missing = restartEvidenceMissing(base, next, maxAgeMs);
  if (missing) return anomaly(trigger, `${what} without a restart: ${missing}`);
  const tokens = Math.round(next.totals.totalAdjustedTokens);
  if (tokens > ceiling) return anomaly('over-ceiling', `restart: ${overCeiling(tokens, elapsedMs, limits)}`);
  return { verdict: { kind: 'restarted', adjustedTokens: tokens }, state: accepted };
}

function implausibleValue(s: TelemetrySample): string | null {
  for (const k of COUNTER_KEYS) {
    if (!(s.totals[k] < IMPLAUSIBLE)) return `${k} total ${s.totals[k]} is not below 2^63`;
    const rates = s.rates?.[k] ?? [];
    for (let i = 0; i < rates.length; i++) {
      if (!(rates[i]! < IMPLAUSIBLE)) return `${k} rate [${i + 1}] ${rates[i]} is not below 2^63`;
    }
  }
  return null;
}

function overCeiling(tokens: number, elapsedMs: number, limits: TelemetryLimits): string {
  return `${tokens} adjusted tokens in ${elapsedMs / 1000} s exceed the ceiling of ${limits.maxAdjustedTokensPerSecond}/s`;
}

/**
 * Why `next` is not the first sample of a process started after `base` was taken, or null when
 * it is. With rates: every counter's decayed windows are those of a process younger than
 * `maxAgeMs` (module comment). Without rates (events recorded before they were kept): every
 * counter that was positive went down.
 */
function restartEvidenceMissing(base: CounterBaseline, next: TelemetrySample, maxAgeMs: number): string | null {
  if (!next.rates) {
    const kept = COUNTER_KEYS.filter((k) => base.totals[k] > 0 && next.totals[k] >= base.totals[k]);
    return kept.length ? `${kept.join(', ')} did not reset` : null;
  }
  for (const k of COUNTER_KEYS) {
    const total = next.totals[k];
    const rates = next.rates[k];
    if (rates.length !== RATE_WINDOWS_SECONDS.length) return `${k} has ${rates.length} rates, expected ${RATE_WINDOWS_SECONDS.length}`;
    for (let i = 0; i < RATE_WINDOWS_SECONDS.length; i++) {
      const T = RATE_WINDOWS_SECONDS[i]!;
      const decayed = rates[i]! * T;
      // printed %.6f: rate off by ≤ 5e-7 (× T), total by ≤ 5e-7; doubles add a relative 1e-12
      const slack = 1e-6 * T + 1e-6 + 1e-9 * total;
      if (decayed > total + slack) return `${k} ${T}s window holds ${decayed}, more than its total ${total}`;
      const floor = total * Math.exp(-maxAgeMs / 1000 / T);
      if (decayed < floor - slack) return `${k} ${T}s window holds ${decayed}, a process younger than ${maxAgeMs / 1000} s holds ≥ ${floor}`;
    }
  }
  return null;
}

/**
 * The sample in a WorkerStatsSampled event's data (schemas/telemetry.ts); `rates` and
 * `walletAddress` are absent from events recorded before they were kept.
 */
export function telemetrySample(data: {
  observedAtMs: number;
  pollMs: number;
  gitCommit: string;
  totals: CounterTotals;
  rates?: CounterRates;
  ownerAddress: string | null;
  walletAddress?: string | null;
}): TelemetrySample {
  return {
    observedAtMs: data.observedAtMs,
    pollMs: data.pollMs,
    gitCommit: data.gitCommit,
    totals: data.totals,
    rates: data.rates ?? null,
    ownerAddress: data.ownerAddress,
    walletAddress: data.walletAddress ?? null,
  };
}
