/**
 * Contribution from cumulative worker counters (Cocoon `/jsonstats` stats.*[0]).
 *
 * Every `stats.*[0]` value is a total since the worker PROCESS started and resets to zero when it
 * restarts (../tests/fixtures/cocoon/README.md, "Worker observability"). Work in an interval is
 * therefore the delta between two polls, except across a restart, where it is the new total
 * (the work between the last poll and the restart is not observable and is lost: a documented
 * under-count, never an over-count). Whether a sample continues the last one, follows a real
 * restart, or is an anomaly that credits nothing is decided by domain/telemetry.ts.
 *
 * Uptime: a successful poll IS the heartbeat. A successful poll that follows a successful poll
 * credits the time between them (milliseconds, integers so sums are exact), capped at
 * `maxCreditMs` (so a long silence — the pool
 * itself being down — is not credited); the first success after a failure credits nothing.
 */
import { classifySample, EMPTY_TELEMETRY, type TelemetryLimits, type TelemetrySample, type TelemetryState, type Verdict } from './telemetry.ts';

/** What the projection keeps per worker between observations. */
export interface CounterState {
  /** unix ms of the last observation (successful or failed poll) */
  observedAtMs: number;
  /** whether the last observation was a successful poll */
  online: boolean;
  /** what classifies the next sample (domain/telemetry.ts) */
  telemetry: TelemetryState;
}

export interface SampleDelta {
  /** adjusted tokens credited for this sample (integer, ≥ 0; 0 for an anomaly) */
  adjustedTokens: number;
  /** whole milliseconds */
  uptimeMs: number;
  restarted: boolean;
  /** the classification (domain/telemetry.ts); an anomaly credits no tokens */
  verdict: Verdict;
  /** the telemetry state after this sample */
  telemetry: TelemetryState;
}

/**
 * Delta of a successful poll against the previous state. A worker's first sample only sets the
 * baseline (work done before the pool watched is not the pool's). Returns null for a sample not
 * newer than the state (a duplicate or out-of-order delivery). Tokens: see classifySample; an
 * anomaly credits none.
 */
export function sampleDelta(prev: CounterState | null, next: TelemetrySample, maxCreditMs: number, limits: TelemetryLimits): SampleDelta | null {
  if (prev && next.observedAtMs <= prev.observedAtMs) return null;
  const { verdict, state } = classifySample(prev?.telemetry ?? EMPTY_TELEMETRY, next, limits);
  if (verdict.kind === 'stale') return null;
  const gapMs = prev ? Math.round(next.observedAtMs - prev.observedAtMs) : 0;
  return {
    adjustedTokens: verdict.kind === 'continued' || verdict.kind === 'restarted' ? verdict.adjustedTokens : 0,
    uptimeMs: prev?.online ? Math.min(gapMs, maxCreditMs) : 0,
    restarted: verdict.kind === 'restarted',
    verdict,
    telemetry: state,
  };
}

/** The state after a successful poll. */
export function afterSample(sample: TelemetrySample, delta: SampleDelta): CounterState {
  return { observedAtMs: sample.observedAtMs, online: true, telemetry: delta.telemetry };
}

/** The state after a failed poll: telemetry unchanged, offline (the next success credits no uptime). */
export function afterFailure(prev: CounterState | null, observedAtMs: number): CounterState | null {
  if (!prev || observedAtMs <= prev.observedAtMs) return prev;
  return { ...prev, observedAtMs, online: false };
}
