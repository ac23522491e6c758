/**
 * Runs a projection: reads its checkpoint (a stream sequence), follows the event store from there,
 * and applies each batch and the new checkpoint in ONE database transaction, so a crash at any
 * moment replays the uncommitted batch and never applies an event twice (DESIGN.md guarantee 1).
 *
 * Failures:
 * - a stored message that is not a valid event → dead letter, position advances;
 * - a transient database error (connection, shutdown, serialization) → retried with backoff;
 * - any other error while applying a batch → the batch is retried event by event; the event that
 *   still fails is dead-lettered with the reason and skipped, the rest commit (guarantee 5).
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { ArtifactStore } from '../streams/artifacts.ts';
import type { DeadLetterSink } from '../streams/deadLetter.ts';
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

/** SQLSTATE classes that are worth retrying: connection, resources, shutdown, serialization. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|53|57P|40001|40P01)/.test(code)) return true;
  return /ECONNREFUSED|ECONNRESET|Connection terminated|timeout exceeded when trying to connect/i.test(String(err));
}

async function commit(
  projection: Projection,
  options: RunProjectionOptions,
  events: readonly RecordedEvent[],
  position: number,
): Promise<void> {
  await options.db.transaction().execute(async (trx) => {
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
      options.logger.warn({ err, projection: projection.name, attempt }, 'transient database error; retrying');
      await sleep(Math.min(30_000, 250 * 2 ** attempt), options.signal);
    }
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
      const reason = err instanceof Error ? err.message : String(err);
      options.logger.error({ err, projection: projection.name, sequence: event.sequence, type: event.type }, 'event quarantined');
      await options.deadLetter({
        source: `projection-${projection.name}`,
        reason,
        payload: JSON.stringify({ type: event.type, version: event.version, id: event.id, data: event.data }),
        origin: { subject: event.subject, sequence: event.sequence },
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
    onInvalid: (invalid) =>
      options.deadLetter({
        source: `projection-${projection.name}`,
        reason: invalid.reason,
        payload: invalid.payload,
        origin: { subject: invalid.subject, sequence: invalid.sequence },
      }),
  })) {
    await applyBatch(projection, options, batch.events, batch.lastSequence);
    if (options.signal?.aborted) return;
  }
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
