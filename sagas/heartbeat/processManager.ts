/**
 * Runs heartbeat-miss handling (decide.ts) over the telemetry stream and appends its alerts on
 * `pool.alerts.<worker>`. Its position and state are kept in the cursor bucket after each batch's
 * alerts are acknowledged; after a crash the last batch is decided again and its alerts, having
 * the same ids, are dropped by JetStream's duplicate window.
 */
import type { Logger } from 'pino';
import type { CursorStore } from '../../streams/cursors.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { heartbeatStep, type HeartbeatSettings, type HeartbeatState } from './decide.ts';

export interface HeartbeatSagaOptions {
  store: EventStore;
  cursors: CursorStore;
  settings: HeartbeatSettings;
  logger: Logger;
  signal: AbortSignal;
}

const KEY = 'saga.heartbeat';

/** Runs until `signal` aborts. */
export async function runHeartbeatSaga(options: HeartbeatSagaOptions): Promise<void> {
  const saved = await options.cursors.get<{ sequence: number; workers: HeartbeatState }>(KEY);
  const state: HeartbeatState = saved?.workers ?? {};
  for await (const batch of options.store.subscribe({ fromSequence: (saved?.sequence ?? 0) + 1, types: ['WorkerStatsSampled', 'WorkerPollFailed'], signal: options.signal })) {
    const alerts = batch.events.flatMap((e) => heartbeatStep(state, e, options.settings));
    if (alerts.length) {
      await options.store.appendMany(alerts.map((event) => ({ subject: `pool.alerts.${(event.data as { workerId: string }).workerId}`, event })));
      for (const a of alerts) options.logger.warn({ alert: a.type, ...(a.data as object) }, 'worker alert');
    }
    await options.cursors.put(KEY, { sequence: batch.lastSequence, workers: state });
  }
}
