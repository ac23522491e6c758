/**
 * Heartbeat-miss handling, pure: from the poller's facts (a successful /jsonstats poll is the
 * heartbeat, a failed one a miss) decide the alerts downstream services subscribe to —
 * WorkerWentOffline after `offlineAfterMisses` consecutive misses, WorkerRecovered when an offline
 * worker answers again, WorkerUnhealthy when a worker turns unhealthy by the Cocoon rule.
 * Alert ids are derived from the facts, so deciding twice appends once.
 */
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';

export interface WorkerWatch {
  missed: number;
  lastSeenAtMs: number | null;
  /** when the offline alert was raised; null while online */
  offlineSinceMs: number | null;
  unhealthy: boolean;
}

export type HeartbeatState = Record<string, WorkerWatch>;

export interface HeartbeatSettings {
  /** consecutive failed polls before a worker is reported offline */
  offlineAfterMisses: number;
}

const fresh = (): WorkerWatch => ({ missed: 0, lastSeenAtMs: null, offlineSinceMs: null, unhealthy: false });

/** Applies one telemetry event to `state` (mutating it) and returns the alerts it causes. */
export function heartbeatStep(state: HeartbeatState, event: RecordedEvent, settings: HeartbeatSettings): PoolEvent[] {
  if (event.type !== 'WorkerPollFailed' && event.type !== 'WorkerStatsSampled') return [];
  const id = event.data.workerId;
  const w = (state[id] ??= fresh());
  const at = event.data.observedAtMs;
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
  Object.assign(w, { missed: 0, lastSeenAtMs: at, offlineSinceMs: null, unhealthy });
  return alerts;
}
