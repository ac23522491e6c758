/**
 * The epoch's rewards split (formula version 1), pure and in integer nanoTON.
 *
 * Sources: DESIGN.md "Rewards"; seed 003 (Smart Contract Specifications) `calculate_contribution_score`:
 * weights 50% adjusted tokens, 20% uptime, 20% tasks, 10% quality, "real implementation would
 * normalize based on pool-wide metrics", times `reputation / 1000`; `min_uptime_percentage` for
 * eligibility; operator fee in basis points.
 *
 * Made precise here:
 * - Each component is normalised pool-wide over ELIGIBLE participants: share = m_i / Σm. A
 *   component nobody scored on (Σm = 0) drops out. The score is exact: a bigint over the common
 *   denominator Π Σm, so the split is reproducible bit for bit in any language.
 * - quality (ppm) = 80% success rate + 20% response, response = max(0, 1 − avg task time /
 *   `maxTaskSeconds`); no tasks → quality 0.
 * - Eligible: uptime ≥ minUptimeBps/10000 × expected uptime (time the pool was observing × workers,
 *   domain/observation.ts: the pool's own downtime counts against nobody). Nothing observed
 *   (expected 0): nobody is eligible and the pot carries over.
 * - Times are integers (ms, µs) so that sums are exact in every database and language.
 * - operatorFee = floor(revenue × feeBps / 10000) (on new revenue only, never on carried amounts);
 *   pot = revenue − operatorFee + carryIn, split by score with the largest remainder method.
 * - A participant slashed during the epoch forfeits its share: `slashed`. With no eligible score
 *   the whole pot is carried to the next epoch: `carryOut`. Both go into the next epoch's carryIn.
 * - Invariant, checked: revenue + carryIn = operatorFee + Σrewards + slashed + carryOut.
 */
import { feeOf, splitLargestRemainder } from './money.ts';

export const REWARDS_FORMULA_VERSION = 1;

export interface RewardParams {
  /** operator fee, basis points (default 500 = 5%) */
  operatorFeeBps: number;
  /** minimum uptime for eligibility, basis points of expected uptime (default 5000 = 50%) */
  minUptimeBps: number;
  /** component weights in basis points; they need not sum to 10000 */
  weightTokensBps: number;
  weightUptimeBps: number;
  weightTasksBps: number;
  weightQualityBps: number;
  /** task duration at which the response part of quality reaches 0, seconds */
  maxTaskSeconds: number;
}

export const DEFAULT_REWARD_PARAMS: RewardParams = {
  operatorFeeBps: 500,
  minUptimeBps: 5000,
  weightTokensBps: 5000,
  weightUptimeBps: 2000,
  weightTasksBps: 2000,
  weightQualityBps: 1000,
  maxTaskSeconds: 60,
};

/** One participant's frozen contribution for the epoch. */
export interface ParticipantContribution {
  /** raw address `0:<hex>` */
  participant: string;
  adjustedTokens: bigint;
  tasks: number;
  tasksSucceeded: number;
  /** Σ task durations, microseconds (for the average latency) */
  taskMicros: number;
  /** credited uptime, milliseconds */
  uptimeMs: number;
  /** time the pool observed during the epoch × number of the participant's workers, milliseconds */
  expectedMs: number;
  /** reputation in force, 0..1000 */
  reputation: number;
  /** slashed during the epoch: forfeits its share */
  slashed: boolean;
}

export interface EpochRewardsInput {
  revenue: bigint;
  carryIn: bigint;
  params: RewardParams;
  contributions: readonly ParticipantContribution[];
}

export interface RewardLine {
  participant: string;
  amount: bigint;
  /** share of the total score in parts per billion (display only) */
  scorePpb: number;
}

export interface EpochRewards {
  operatorFee: bigint;
  /** revenue − operatorFee + carryIn */
  pot: bigint;
  /** leaves of the rewards table: amount > 0, ordered by participant address; leaf index = position */
  rewards: RewardLine[];
  rewardsTotal: bigint;
  slashed: bigint;
  carryOut: bigint;
  eligible: number;
}

/** Thrown when input is invalid or the conservation invariant fails (a bug: never pay then). */
export class RewardsError extends Error {
  override name = 'RewardsError';
}

const PPM = 1_000_000n;

/** Quality in ppm: 80% success rate + 20% response (see module doc). */
export function qualityPpm(c: Pick<ParticipantContribution, 'tasks' | 'tasksSucceeded' | 'taskMicros'>, maxTaskSeconds: number): bigint {
  if (c.tasks <= 0) return 0n;
  const success = (BigInt(c.tasksSucceeded) * PPM) / BigInt(c.tasks);
  // response = 1 − avg/max, in ppm, exact: 10^6 − taskMicros / (tasks · maxTaskSeconds)
  const lateness = BigInt(c.taskMicros) / (BigInt(c.tasks) * BigInt(maxTaskSeconds));
  const response = lateness >= PPM ? 0n : PPM - lateness;
  return (success * 8n + response * 2n) / 10n;
}

/** True when the participant met the minimum uptime. */
export function isEligible(c: Pick<ParticipantContribution, 'uptimeMs' | 'expectedMs'>, minUptimeBps: number): boolean {
  if (c.expectedMs <= 0) return false;
  return BigInt(c.uptimeMs) * 10_000n >= BigInt(minUptimeBps) * BigInt(c.expectedMs);
}

function validate(input: EpochRewardsInput): void {
  if (input.revenue < 0n || input.carryIn < 0n) throw new RewardsError('revenue and carryIn must be ≥ 0');
  const seen = new Set<string>();
  for (const c of input.contributions) {
    if (seen.has(c.participant)) throw new RewardsError(`participant ${c.participant} appears twice`);
    seen.add(c.participant);
    if (c.adjustedTokens < 0n || c.tasks < 0 || c.tasksSucceeded < 0 || c.tasksSucceeded > c.tasks || c.uptimeMs < 0 || c.taskMicros < 0) {
      throw new RewardsError(`participant ${c.participant}: negative or inconsistent metrics`);
    }
    if (![c.tasks, c.tasksSucceeded, c.uptimeMs, c.expectedMs, c.taskMicros].every(Number.isSafeInteger)) {
      throw new RewardsError(`participant ${c.participant}: counts and times must be integers`);
    }
    if (!Number.isInteger(c.reputation) || c.reputation < 0 || c.reputation > 1000) {
      throw new RewardsError(`participant ${c.participant}: reputation ${c.reputation} outside 0..1000`);
    }
  }
}

/**
 * Computes the epoch's operator fee and rewards table.
 * @throws RewardsError on invalid input or a broken invariant.
 */
export function computeEpochRewards(input: EpochRewardsInput): EpochRewards {
  validate(input);
  const { params } = input;
  const operatorFee = feeOf(input.revenue, params.operatorFeeBps);
  const pot = input.revenue - operatorFee + input.carryIn;

  const people = [...input.contributions].sort((a, b) => (a.participant < b.participant ? -1 : a.participant > b.participant ? 1 : 0));
  const eligible = people.map((c) => isEligible(c, params.minUptimeBps) && c.reputation > 0);
  const metrics = people.map((c) => [
    c.adjustedTokens,
    BigInt(c.uptimeMs),
    BigInt(c.tasksSucceeded),
    qualityPpm(c, params.maxTaskSeconds),
  ]);
  const weights = [params.weightTokensBps, params.weightUptimeBps, params.weightTasksBps, params.weightQualityBps].map(BigInt);
  const sums = [0n, 0n, 0n, 0n];
  people.forEach((_, i) => {
    if (eligible[i]) for (let k = 0; k < 4; k++) sums[k]! += metrics[i]![k]!;
  });
  // score_i = rep_i × Σ_k w_k · m_ik · (D / S_k), D = Π non-zero S_k: exact, no division loss
  const denominator = sums.reduce((d, s) => (s > 0n ? d * s : d), 1n);
  const scores = people.map((c, i) => {
    if (!eligible[i]) return 0n;
    let s = 0n;
    for (let k = 0; k < 4; k++) if (sums[k]! > 0n) s += weights[k]! * metrics[i]![k]! * (denominator / sums[k]!);
    return s * BigInt(c.reputation);
  });
  const totalScore = scores.reduce((a, b) => a + b, 0n);

  const rewards: RewardLine[] = [];
  let slashed = 0n;
  let carryOut = 0n;
  if (totalScore === 0n) {
    carryOut = pot;
  } else {
    const amounts = splitLargestRemainder(pot, scores);
    people.forEach((c, i) => {
      const amount = amounts[i]!;
      if (amount === 0n) return;
      if (c.slashed) slashed += amount;
      else rewards.push({ participant: c.participant, amount, scorePpb: Number((scores[i]! * 1_000_000_000n) / totalScore) });
    });
  }
  const rewardsTotal = rewards.reduce((a, r) => a + r.amount, 0n);
  if (input.revenue + input.carryIn !== operatorFee + rewardsTotal + slashed + carryOut) {
    throw new RewardsError('conservation violated: revenue + carryIn ≠ fee + rewards + slashed + carryOut');
  }
  return { operatorFee, pot, rewards, rewardsTotal, slashed, carryOut, eligible: eligible.filter(Boolean).length };
}
