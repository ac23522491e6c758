/**
 * Runs heartbeat-miss handling (decide.ts) over the telemetry stream and appends its alerts on
 * `pool.alerts.<worker>`. Its position and state (every worker's) are kept in the cursor bucket
 * at most once a second ({@link CHECKPOINT_INTERVAL_MS}) and when it stops, always after the alerts
 * decided so far are acknowledged: while following, a batch is often one event, and writing the
 * state of every worker per event cost 20 s of the 326 s of CPU of a 1,000-worker run. After a
 * crash the events since the last checkpoint (≤ 1 s of them) are decided again and their alerts,
 * having the same ids, are dropped by JetStream's duplicate window (10 minutes).
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

/** Least time between two checkpoints of the saga's position and state, milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * Runs until `signal` aborts.
 * @throws when the stream, the cursor bucket or the dead-letter stream fails (the supervisor
 *   restarts it from its cursor).
 */
export async function runHeartbeatSaga(options: HeartbeatSagaOptions): Promise<void> {
  const saved = await options.cursors.get<{ sequence: number; workers: HeartbeatState }>(KEY);
  const state: HeartbeatState = saved?.workers ?? {};
  let decided = saved?.sequence ?? 0; // last sequence whose events are in `state`
  let stored = decided;
  let storedAtMs = Date.now();
  const checkpoint = async () => {
    if (decided === stored) return;
    await options.cursors.put(KEY, { sequence: decided, workers: state });
    stored = decided;
    storedAtMs = Date.now();
  };
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
    decided = batch.lastSequence;
    if (Date.now() - storedAtMs >= CHECKPOINT_INTERVAL_MS) await checkpoint();
  }
  await checkpoint();
  if (!options.signal.aborted) throw new Error('the heartbeat saga\'s subscription to the stream ended');
}
