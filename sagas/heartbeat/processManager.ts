/**
 * Runs heartbeat-miss handling (decide.ts) over the telemetry stream and appends its alerts on
 * `pool.alerts.<worker>`. Its position and state are kept in the cursor bucket after each batch's
 * alerts are acknowledged; after a crash the last batch is decided again and its alerts, having
 * the same ids, are dropped by JetStream's duplicate window.
 *
 * It reads the whole stream (telemetry is most of it, so the server does not filter): a stored
 * message anywhere under `pool.>` that is not a valid event is dead-lettered once
 * (streams/deadLetter.ts `quarantineInvalid`) and skipped, its position passes with the batch.
 */
import type { Logger } from 'pino';
import type { CursorStore } from '../../streams/cursors.ts';
import { quarantineInvalid, type DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { heartbeatStep, type HeartbeatSettings, type HeartbeatState } from './decide.ts';

export interface HeartbeatSagaOptions {
  store: EventStore;
  cursors: CursorStore;
  /** where stored messages that are not valid events go (once each) */
  deadLetter: DeadLetterSink;
  settings: HeartbeatSettings;
  logger: Logger;
  signal: AbortSignal;
}

const KEY = 'saga.heartbeat';

/**
 * Runs until `signal` aborts.
 * @throws when the stream, the cursor bucket or the dead-letter stream fails (the supervisor
 *   restarts it from its cursor).
 */
export async function runHeartbeatSaga(options: HeartbeatSagaOptions): Promise<void> {
  const saved = await options.cursors.get<{ sequence: number; workers: HeartbeatState }>(KEY);
  const state: HeartbeatState = saved?.workers ?? {};
  for await (const batch of options.store.subscribe({
    fromSequence: (saved?.sequence ?? 0) + 1,
    types: ['WorkerStatsSampled', 'WorkerPollFailed'],
    signal: options.signal,
    onInvalid: quarantineInvalid(options.deadLetter, 'heartbeat-saga', options.logger),
  })) {
    const alerts = batch.events.flatMap((e) => heartbeatStep(state, e, options.settings));
    if (alerts.length) {
      await options.store.appendMany(alerts.map((event) => ({ subject: `pool.alerts.${(event.data as { workerId: string }).workerId}`, event })));
      for (const a of alerts) options.logger.warn({ alert: a.type, ...(a.data as object) }, 'worker alert');
    }
    await options.cursors.put(KEY, { sequence: batch.lastSequence, workers: state });
  }
  if (!options.signal.aborted) throw new Error('the heartbeat saga\'s subscription to the stream ended');
}
