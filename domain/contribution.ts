/**
 * Contribution from cumulative worker counters (Cocoon `/jsonstats` stats.*[0]).
 *
 * Every `stats.*[0]` value is a total since the worker PROCESS started and resets to zero when it
 * restarts (../tests/fixtures/cocoon/README.md, "Worker observability"). Work in an interval is
 * therefore the delta between two polls, except across a restart, where it is the new total
 * (the work between the last poll and the restart is not observable and is lost: a documented
 * under-count, never an over-count). A restart is recognised by any total going down or by
 * `git_commit` changing.
 *
 * Uptime: a successful poll IS the heartbeat. A successful poll that follows a successful poll
 * credits the time between them (milliseconds, integers so sums are exact), capped at
 * `maxCreditMs` (so a long silence — the pool
 * itself being down — is not credited); the first success after a failure credits nothing.
 */

/** The counters we track per worker (raw cumulative totals). */
export interface CounterSample {
  observedAtMs: number;
  gitCommit: string;
  totalAdjustedTokens: number;
  queries: number;
}

/** What the projection keeps per worker between samples. */
export interface CounterState extends CounterSample {
  /** whether the last observation was a successful poll */
  online: boolean;
}

export interface SampleDelta {
  /** adjusted tokens done since the previous sample (integer, ≥ 0) */
  adjustedTokens: number;
  /** whole milliseconds */
  uptimeMs: number;
  restarted: boolean;
}

/**
 * Delta of a successful poll against the previous state (null for a worker's first sample, which
 * only sets the baseline: work done before the pool watched is not the pool's).
 * Returns null for a sample not newer than the state (a duplicate or out-of-order delivery).
 * Token totals are doubles printed `%.6f`; deltas are rounded to whole adjusted tokens.
 */
export function sampleDelta(prev: CounterState | null, next: CounterSample, maxCreditMs: number): SampleDelta | null {
  if (!prev) return { adjustedTokens: 0, uptimeMs: 0, restarted: false };
  if (next.observedAtMs <= prev.observedAtMs) return null;
  const restarted =
    next.gitCommit !== prev.gitCommit || next.totalAdjustedTokens < prev.totalAdjustedTokens || next.queries < prev.queries;
  const tokens = restarted ? next.totalAdjustedTokens : next.totalAdjustedTokens - prev.totalAdjustedTokens;
  const gapMs = Math.round(next.observedAtMs - prev.observedAtMs);
  return {
    adjustedTokens: Math.max(0, Math.round(tokens)),
    uptimeMs: prev.online ? Math.min(gapMs, maxCreditMs) : 0,
    restarted,
  };
}

/** The state after a successful poll. */
export function afterSample(sample: CounterSample): CounterState {
  return { ...sample, online: true };
}

/** The state after a failed poll: counters unchanged, offline (the next success credits no uptime). */
export function afterFailure(prev: CounterState | null, observedAtMs: number): CounterState | null {
  if (!prev || observedAtMs <= prev.observedAtMs) return prev;
  return { ...prev, observedAtMs, online: false };
}
