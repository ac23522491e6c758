/**
 * Runs heartbeat-miss handling (decide.ts) over the telemetry stream and appends its alerts on
 * `pool.alerts.<worker>`. Its position and state (every worker's) are kept in the cursor bucket
 * at most once a second ({@link CHECKPOINT_INTERVAL_MS}) and when it stops, always after the alerts
 * decided so far are acknowledged: while following, a batch is often one event, and writing the
 * state of every worker per event cost 20 s of the 326 s of CPU of a 1,000-worker run. After a
 * crash the events since the last checkpoint (≤ 1 s of them) are decided again and their alerts,
 * having the same ids, are dropped by JetStream's duplicate window (10 minutes).
 *
 * The state of every worker outgrows one KV value (NATS max_payload, 1 MiB) at some thousands of
 * workers, so it is stored in chunks of {@link CHUNK_CHARS} under `saga.heartbeat.state.<slot>.<i>`,
 * alternating between two slots: the chunks are written to the slot not in use, then the small
 * head (`saga.heartbeat`: sequence, slot, chunk count) is switched to it, so a crash midway leaves
 * the previous checkpoint whole. A head of the first format (`{ sequence, workers }`) is read too.
 *
 * It reads the whole stream (telemetry is most of it, so the server does not filter): a stored
 * message anywhere under `pool.>` that is not a valid event is dead-lettered once
 * (streams/deadLetter.ts `quarantineInvalid`) and skipped, its position passes with the batch.
 */
import type { Logger } from 'pino';
import { subjectFor } from '../../schemas/catalog.ts';
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

/** Characters of the state's JSON per stored chunk (well under NATS's 1 MiB payload once JSON-quoted). */
export const CHUNK_CHARS = 256 * 1024;

/** The head of a checkpoint: the first format held the state itself; the second names its chunks. */
type SavedHead = { sequence: number; workers: HeartbeatState } | { sequence: number; slot: 0 | 1; chunks: number };

const chunkKey = (slot: number, i: number) => `${KEY}.state.${slot}.${i}`;

/**
 * The checkpointed position and state, or null when there is none.
 * @throws Error when the head names a chunk that is missing (the bucket was tampered with).
 */
async function loadCheckpoint(cursors: CursorStore): Promise<{ sequence: number; slot: 0 | 1; state: HeartbeatState } | null> {
  const head = await cursors.get<SavedHead>(KEY);
  if (!head) return null;
  if ('workers' in head) return { sequence: head.sequence, slot: 1, state: head.workers };
  const parts = await Promise.all(Array.from({ length: head.chunks }, (_, i) => cursors.get<string>(chunkKey(head.slot, i))));
  const missing = parts.findIndex((p) => typeof p !== 'string');
  if (missing >= 0) throw new Error(`heartbeat checkpoint: chunk ${chunkKey(head.slot, missing)} named by ${KEY} is missing in the cursor bucket`);
  return { sequence: head.sequence, slot: head.slot, state: JSON.parse(parts.join('')) as HeartbeatState };
}

/** Least time between two checkpoints of the saga's position and state, milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * Runs until `signal` aborts.
 * @throws when the stream, the cursor bucket or the dead-letter stream fails (the supervisor
 *   restarts it from its cursor).
 */
export async function runHeartbeatSaga(options: HeartbeatSagaOptions): Promise<void> {
  const saved = await loadCheckpoint(options.cursors);
  const state: HeartbeatState = saved?.state ?? {};
  let decided = saved?.sequence ?? 0; // last sequence whose events are in `state`
  let stored = decided;
  let slot: 0 | 1 = saved?.slot ?? 1; // the slot the head names
  let storedAtMs = Date.now();
  const checkpoint = async () => {
    if (decided === stored) return;
    const json = JSON.stringify(state);
    const next: 0 | 1 = slot === 0 ? 1 : 0;
    const chunks = Math.max(1, Math.ceil(json.length / CHUNK_CHARS));
    await Promise.all(Array.from({ length: chunks }, (_, i) => options.cursors.put(chunkKey(next, i), json.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS))));
    await options.cursors.put(KEY, { sequence: decided, slot: next, chunks });
    slot = next;
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
      await options.store.appendMany(alerts.map((event) => ({ subject: subjectFor('alerts', (event.data as { workerId: string }).workerId), event })));
      for (const a of alerts) options.logger.warn({ alert: a.type, ...(a.data as object) }, 'worker alert');
    }
    decided = batch.lastSequence;
    if (Date.now() - storedAtMs >= CHECKPOINT_INTERVAL_MS) await checkpoint();
  }
  await checkpoint();
  if (!options.signal.aborted) throw new Error('the heartbeat saga\'s subscription to the stream ended');
}
