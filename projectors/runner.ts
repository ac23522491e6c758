/**
 * Runs a projection: reads its checkpoint (a stream sequence), follows the event store from there,
 * and applies each batch and the new checkpoint in ONE database transaction, so a crash at any
 * moment replays the uncommitted batch and never applies an event twice (DESIGN.md guarantee 1).
 *
 * Failures:
 * - a stored message that is not a valid event → one dead letter (streams/deadLetter.ts
 *   `quarantineInvalid`), position advances;
 * - a transient database error (connection lost, server shut down or restarting, failover,
 *   serialization) → retried with a capped back-off, each attempt logged; a retry whose first
 *   COMMIT did reach the server (the reply was lost) finds the checkpoint there and applies nothing;
 * - any other error while applying a batch → the batch is retried event by event; the event that
 *   still fails while the database answers is dead-lettered with the reason and skipped, the rest
 *   commit (guarantee 5). If the database does not answer, nothing is quarantined: the error ends
 *   the run (the supervisor restarts it from the checkpoint).
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { ArtifactStore } from '../streams/artifacts.ts';
import { quarantineInvalid, type DeadLetterSink } from '../streams/deadLetter.ts';
import type { EventStore } from '../streams/eventStore.ts';
import type { Projection } from './projection.ts';
import { sleep } from '../runtime/sleep.ts';

export interface RunProjectionOptions {
  store: EventStore;
  db: Kysely<Database>;
  artifacts: ArtifactStore;
  deadLetter: DeadLetterSink;
  logger: Logger;
  /** Events per transaction; default 500. */
  batchSize?: number;
  /** Follow live (default) or stop once caught up (rebuilds, audits, tests). */
  follow?: boolean;
  signal?: AbortSignal;
}

/** The committed position of a projection (0 before its first batch). */
export async function readCheckpoint(db: Kysely<Database>, name: string): Promise<number> {
  const row = await db.selectFrom('projection_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
  return row ? Number(row.position) : 0;
}

/**
 * Errors worth retrying: SQLSTATE classes connection (08), resources (53), operator intervention
 * (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now), serialization and
 * deadlock; and `pg`'s own errors for a connection lost or refused.
 */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|53|57P|40001|40P01|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)/.test(code)) return true;
  return /ECONNREFUSED|ECONNRESET|EPIPE|Connection terminated|not queryable|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)/i.test(String(err));
}

async function commit(
  projection: Projection,
  options: RunProjectionOptions,
  events: readonly RecordedEvent[],
  position: number,
): Promise<void> {
  await options.db.transaction().execute(async (trx) => {
    const committed = await trx.selectFrom('projection_checkpoints').select('position').where('name', '=', projection.name).forUpdate().executeTakeFirst();
    if (committed && Number(committed.position) >= position) return; // an earlier attempt committed it
    if (events.length) await projection.handle(events, { db: trx, artifacts: options.artifacts });
    await trx
      .insertInto('projection_checkpoints')
      .values({ name: projection.name, position, updated_at_ms: Date.now() })
      .onConflict((oc) => oc.column('name').doUpdateSet({ position: sql`excluded.position`, updated_at_ms: sql`excluded.updated_at_ms` }))
      .execute();
  });
}

/** Commits with retries on transient errors; rethrows anything else. */
async function commitRetrying(projection: Projection, options: RunProjectionOptions, events: readonly RecordedEvent[], position: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await commit(projection, options, events, position);
    } catch (err) {
      if (!isTransient(err) || options.signal?.aborted) throw err;
      // loud, never silent: every attempt is logged, an outage past ~8 s at error
      options.logger[attempt >= 5 ? 'error' : 'warn']({ err, projection: projection.name, attempt }, 'database unavailable; retrying the batch');
      await sleep(Math.min(10_000, 250 * 2 ** attempt), options.signal);
    }
  }
}

async function databaseAnswers(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

async function applyBatch(projection: Projection, options: RunProjectionOptions, events: readonly RecordedEvent[], lastSequence: number) {
  try {
    await commitRetrying(projection, options, events, lastSequence);
    return;
  } catch (err) {
    if (!events.length) throw err;
    options.logger.warn({ err, projection: projection.name, events: events.length }, 'batch failed; isolating the event');
  }
  for (const [i, event] of events.entries()) {
    const position = i === events.length - 1 ? lastSequence : event.sequence;
    try {
      await commitRetrying(projection, options, [event], position);
    } catch (err) {
      if (!(await databaseAnswers(options.db))) throw err; // an outage is not bad input: quarantine nothing
      const reason = err instanceof Error ? err.message : String(err);
      options.logger.error({ err, projection: projection.name, sequence: event.sequence, type: event.type }, 'event quarantined');
      await options.deadLetter({
        source: `projection-${projection.name}`,
        reason,
        payload: JSON.stringify({ type: event.type, version: event.version, id: event.id, data: event.data }),
        origin: { subject: event.subject, sequence: event.sequence },
        id: `projection-${projection.name}:${event.subject}:${event.sequence}`,
      });
      await commitRetrying(projection, options, [], position);
    }
  }
}

/**
 * Runs `projection` until `signal` aborts (or, with `follow: false`, until caught up).
 * @throws only on errors that neither retries nor quarantine can handle (e.g. dead-letter stream
 *   unavailable), so the caller can restart it.
 */
export async function runProjection(projection: Projection, options: RunProjectionOptions): Promise<void> {
  const from = (await readCheckpoint(options.db, projection.name)) + 1;
  const read = options.follow === false ? options.store.read.bind(options.store) : options.store.subscribe.bind(options.store);
  for await (const batch of read({
    fromSequence: from,
    types: projection.canHandle,
    batchSize: options.batchSize ?? 500,
    signal: options.signal,
    onInvalid: quarantineInvalid(options.deadLetter, `projection-${projection.name}`, options.logger),
  })) {
    await applyBatch(projection, options, batch.events, batch.lastSequence);
    if (options.signal?.aborted) return;
  }
  if (options.follow !== false && !options.signal?.aborted) throw new Error(`projection ${projection.name}: the subscription to the stream ended`);
}

/**
 * Empties a projection's tables, its epoch cursor and its checkpoint so the next run rebuilds it
 * from the first event.
 */
export async function resetProjection(db: Kysely<Database>, projection: Projection): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const table of projection.tables) await trx.deleteFrom(table).execute();
    await trx.deleteFrom('epoch_cursors').where('projection', '=', projection.name).execute();
    await trx.deleteFrom('projection_checkpoints').where('name', '=', projection.name).execute();
  });
}
