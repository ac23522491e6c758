/**
 * Reputation 0..1000, start 500, updated once per epoch from the epoch's frozen contribution
 * (formula version 1).
 *
 * Source: seed 004 (C4 spec, ReputationSystem "Score Calculation"):
 *   reputation = (uptime·0.4 + response·0.2 + completion·0.3 + (1 − disputes)·0.1) · 1000
 * with uptime = actual / promised time, response = 1 − avg_response / max_acceptable,
 * completion = completed / total; and seed 003 `registry_slash_participant`: a slash lowers
 * reputation by 100.
 * Made precise here: the epoch's value is a target the score moves a quarter of the way towards
 * (so one bad epoch does not erase a good history); Cocoon has no disputes, so a slash in the
 * epoch counts as a dispute (rate 1) and also subtracts 100 per slash; with no tasks (no demand)
 * completion and response count as perfect, the worker is not to blame. Uptime is measured
 * against the time the pool itself was observing (`expectedMs`, domain/observation.ts); an epoch
 * in which the pool observed nothing (expectedMs 0) is no evidence: the target is the previous
 * score (only slashes move it). Integer math throughout.
 */

export const REPUTATION_FORMULA_VERSION = 1;
export const INITIAL_REPUTATION = 500;
export const SLASH_PENALTY = 100;

export interface ReputationInput {
  /** score in force during the epoch, 0..1000 */
  previous: number;
  /** credited uptime, milliseconds */
  uptimeMs: number;
  /** observed time × workers, milliseconds: the pool's own downtime is not in it */
  expectedMs: number;
  tasks: number;
  tasksSucceeded: number;
  /** Σ task durations, microseconds */
  taskMicros: number;
  slashes: number;
  /** task duration at which response reaches 0, seconds */
  maxTaskSeconds: number;
}

export interface ReputationUpdate {
  /** this epoch's own score 0..1000 */
  target: number;
  /** the new reputation 0..1000 */
  score: number;
}

const clampPpm = (x: number) => Math.max(0, Math.min(1_000_000, Math.round(x * 1_000_000)));

/** The next reputation (see module doc). Pure; inputs are validated by the caller's schema. */
export function nextReputation(input: ReputationInput): ReputationUpdate {
  if (input.expectedMs <= 0) {
    return { target: input.previous, score: Math.max(0, Math.min(1000, input.previous - SLASH_PENALTY * input.slashes)) };
  }
  const uptime = input.expectedMs > 0 ? clampPpm(input.uptimeMs / input.expectedMs) : 0;
  const completion = input.tasks > 0 ? clampPpm(input.tasksSucceeded / input.tasks) : 1_000_000;
  const response = input.tasks > 0 ? clampPpm(1 - input.taskMicros / 1e6 / input.tasks / input.maxTaskSeconds) : 1_000_000;
  const disputesFree = input.slashes > 0 ? 0 : 1_000_000;
  // weights in thousandths: 400 + 200 + 300 + 100 = 1000 → target in 0..1000
  const target = Math.round((400 * uptime + 200 * response + 300 * completion + 100 * disputesFree) / 1_000_000);
  const moved = Math.round((input.previous * 3 + target) / 4);
  const score = Math.max(0, Math.min(1000, moved - SLASH_PENALTY * input.slashes));
  return { target, score };
}
