/**
 * Heartbeat-miss handling, pure: from the poller's facts (a successful /jsonstats poll is the
 * heartbeat, a failed one a miss) decide the alerts downstream services subscribe to —
 * WorkerWentOffline after `offlineAfterMisses` consecutive misses, WorkerRecovered when an offline
 * worker answers again, WorkerUnhealthy when a worker turns unhealthy by the Cocoon rule, and, from
 * the same classification the projections apply (domain/telemetry.ts), WorkerTelemetryAnomaly /
 * WorkerOwnerChanged / WorkerIdentityChanged when a worker's samples turn not credible or the
 * reason changes (once per episode, not once per poll).
 * Alert ids are derived from the facts, so deciding twice appends once.
 */
import { classifySample, DEFAULT_TELEMETRY_LIMITS, EMPTY_TELEMETRY, telemetrySample, type TelemetryLimits, type TelemetryState, type Verdict } from '../../domain/telemetry.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';

export interface WorkerWatch {
  missed: number;
  lastSeenAtMs: number | null;
  /** when the offline alert was raised; null while online */
  offlineSinceMs: number | null;
  unhealthy: boolean;
  /** unix ms of the last telemetry event applied (a sample not newer is ignored, as in the projections) */
  lastPollAtMs?: number;
  /** classification state; absent in a state saved before it was kept (then the next sample re-baselines) */
  telemetry?: TelemetryState;
  /** what the current anomaly episode is about (reason and reported value); null while samples are credible */
  anomaly?: string | null;
}

export type HeartbeatState = Record<string, WorkerWatch>;

export interface HeartbeatSettings {
  /** consecutive failed polls before a worker is reported offline */
  offlineAfterMisses: number;
  /** the limits the projections classify samples with (config telemetry; default DEFAULT_TELEMETRY_LIMITS) */
  telemetry?: TelemetryLimits;
}

const fresh = (): WorkerWatch => ({ missed: 0, lastSeenAtMs: null, offlineSinceMs: null, unhealthy: false });

/** Applies one telemetry event to `state` (mutating it) and returns the alerts it causes. */
export function heartbeatStep(state: HeartbeatState, event: RecordedEvent, settings: HeartbeatSettings): PoolEvent[] {
  if (event.type !== 'WorkerPollFailed' && event.type !== 'WorkerStatsSampled') return [];
  const id = event.data.workerId;
  const w = (state[id] ??= fresh());
  const at = event.data.observedAtMs;
  if (w.lastPollAtMs !== undefined && at <= w.lastPollAtMs) return [];
  w.lastPollAtMs = at;
  const alerts: PoolEvent[] = [];
  if (event.type === 'WorkerPollFailed') {
    w.missed += 1;
    if (w.missed >= settings.offlineAfterMisses && w.offlineSinceMs === null) {
      w.offlineSinceMs = at;
      alerts.push({ type: 'WorkerWentOffline', version: 1, id: `offline:${id}:${at}`, data: { workerId: id, lastSeenAtMs: w.lastSeenAtMs, missedPolls: w.missed, atMs: at } });
    }
    return alerts;
  }
  if (w.offlineSinceMs !== null) {
    const downSeconds = Math.max(0, (at - (w.lastSeenAtMs ?? w.offlineSinceMs)) / 1000);
    alerts.push({ type: 'WorkerRecovered', version: 1, id: `recovered:${id}:${at}`, data: { workerId: id, downSeconds, atMs: at } });
  }
  const unhealthy = !event.data.health.healthy;
  if (unhealthy && !w.unhealthy) {
    alerts.push({ type: 'WorkerUnhealthy', version: 1, id: `unhealthy:${id}:${at}`, data: { workerId: id, reasons: event.data.health.reasons, atMs: at } });
  }
  const { verdict, state: telemetry } = classifySample(w.telemetry ?? EMPTY_TELEMETRY, telemetrySample(event.data), settings.telemetry ?? DEFAULT_TELEMETRY_LIMITS);
  const anomaly = verdict.kind === 'anomaly' ? anomalyAlert(id, at, verdict, w.telemetry ?? EMPTY_TELEMETRY, event.data) : null;
  if (anomaly && anomaly.episode !== w.anomaly) alerts.push(anomaly.alert);
  Object.assign(w, { missed: 0, lastSeenAtMs: at, offlineSinceMs: null, unhealthy, telemetry, anomaly: anomaly?.episode ?? null });
  return alerts;
}

/** The alert for an anomalous sample, and the key of its episode (a new key raises a new alert). */
function anomalyAlert(
  workerId: string,
  at: number,
  verdict: Extract<Verdict, { kind: 'anomaly' }>,
  before: TelemetryState,
  data: { ownerAddress: string | null; walletAddress?: string | null },
): { episode: string; alert: PoolEvent } {
  switch (verdict.reason) {
    case 'owner-changed':
      return {
        episode: `owner-changed:${data.ownerAddress}`,
        alert: {
          type: 'WorkerOwnerChanged',
          version: 1,
          id: `owner-changed:${workerId}:${at}`,
          data: { workerId, expectedOwnerAddress: before.ownerAddress!, reportedOwnerAddress: data.ownerAddress!, sampleAtMs: at },
        },
      };
    case 'identity-changed':
      return {
        episode: `identity-changed:${data.walletAddress}`,
        alert: {
          type: 'WorkerIdentityChanged',
          version: 1,
          id: `identity-changed:${workerId}:${at}`,
          data: { workerId, expectedWalletAddress: before.walletAddress!, reportedWalletAddress: data.walletAddress!, sampleAtMs: at },
        },
      };
    default:
      return {
        episode: verdict.reason,
        alert: {
          type: 'WorkerTelemetryAnomaly',
          version: 1,
          id: `anomaly:${workerId}:${at}`,
          data: { workerId, reason: verdict.reason, detail: verdict.detail.slice(0, 2000), sampleAtMs: at },
        },
      };
  }
}
