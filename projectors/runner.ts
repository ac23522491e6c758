/**
 * Runs projections: reads their checkpoints (stream sequences), follows the event store from there,
 * and applies each batch and the new checkpoints in ONE database transaction, so a crash at any
 * moment replays the uncommitted batch and never applies an event twice (DESIGN.md guarantee 1).
 * {@link runProjections} feeds every projection from one shared read; {@link runProjection} is it
 * with one projection.
 *
 * Failures (per projection):
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
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { EventType, RecordedEvent } from '../schemas/catalog.ts';
import type { ArtifactStore } from '../streams/artifacts.ts';
import { quarantineInvalid, type DeadLetterSink } from '../streams/deadLetter.ts';
import type { EventBatch, EventStore } from '../streams/eventStore.ts';
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
  /**
   * runProjections: how far (stream sequences) a projection may be behind the one furthest ahead
   * and still start in the shared read; one further behind catches up in a lane of its own.
   * Default 10 000.
   */
  catchUpWindow?: number;
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
    const from = committed ? Number(committed.position) : 0;
    if (from >= position) return; // an earlier attempt committed it
    const fresh = events.filter((e) => e.sequence > from);
    if (fresh.length) await projection.handle(fresh, { db: trx, artifacts: options.artifacts });
    await saveCheckpoints(trx, [projection.name], position);
  });
}

/** Sets the checkpoint of each of `names` to `position`, in one statement. */
async function saveCheckpoints(trx: Transaction<Database>, names: readonly string[], position: number): Promise<void> {
  const now = Date.now();
  await trx
    .insertInto('projection_checkpoints')
    .values(names.map((name) => ({ name, position, updated_at_ms: now })))
    .onConflict((oc) => oc.column('name').doUpdateSet({ position: sql`excluded.position`, updated_at_ms: sql`excluded.updated_at_ms` }))
    .execute();
}

/** Runs `fn` with retries on transient errors (capped back-off, each attempt logged); rethrows anything else. */
async function retrying<T>(options: RunProjectionOptions, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || options.signal?.aborted) throw err;
      // loud, never silent: every attempt is logged, an outage past ~8 s at error
      options.logger[attempt >= 5 ? 'error' : 'warn']({ err, projection: what, attempt }, 'database unavailable; retrying the batch');
      await sleep(Math.min(10_000, 250 * 2 ** attempt), options.signal);
    }
  }
}

/** Commits with retries on transient errors; rethrows anything else. */
function commitRetrying(projection: Projection, options: RunProjectionOptions, events: readonly RecordedEvent[], position: number) {
  return retrying(options, projection.name, () => commit(projection, options, events, position));
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
 * Runs `projection` alone until `signal` aborts (or, with `follow: false`, until caught up):
 * {@link runProjections} with one projection.
 * @throws as runProjections.
 */
export async function runProjection(projection: Projection, options: RunProjectionOptions): Promise<void> {
  return runProjections([projection], options);
}

interface Member {
  projection: Projection;
  types: ReadonlySet<EventType>;
  /** committed position (stream sequence) as far as this runner knows */
  position: number;
  /** shared: fed by the shared read; catching-up: its own lane is reading; ready: caught up, joins at the next shared batch; failed: waiting to restart */
  state: 'shared' | 'catching-up' | 'ready' | 'failed';
  failures: number;
}

/**
 * Runs several projections on ONE ordered read of the stream (one consumer, each message decoded
 * and validated once), each batch committed for every projection in ONE transaction:
 * `BEGIN`, one `SELECT … FOR UPDATE` of their checkpoints, each projection's own batched writes,
 * one multi-row checkpoint upsert, `COMMIT`. Each projection keeps its own checkpoint (stream
 * sequence), written in that transaction, and is fed only the events after it that it handles;
 * the projections' handlers run side by side in it (disjoint tables), and the next batch is read
 * and decoded while one commits. A crash at any moment replays and never applies an event twice
 * (DESIGN.md guarantee 1).
 *
 * - A projection whose checkpoint is more than `catchUpWindow` behind the one furthest
 *   ahead (one reset for a rebuild, a new one) catches up in a lane of its own (its own read from
 *   its checkpoint, its own transactions) while the shared read serves the others from theirs; once
 *   its lane has reached the stream's end and is not behind the shared read, it joins the shared
 *   read at its next batch (else its lane reads on).
 * - When the shared transaction fails for any reason that is not transient, nothing of it is kept
 *   and each projection commits the batch in a transaction of its own, with the single-projection
 *   rules (module header): the event that still fails is dead-lettered for THAT projection
 *   (`projection-<name>`), the others commit theirs.
 * - A projection that fails beyond that (e.g. the dead-letter stream is unavailable) while the
 *   database answers is logged at error and restarted in a catch-up lane from its checkpoint after a
 *   back-off (1 s doubling to 60 s); the others go on, their checkpoints untouched. With
 *   `follow: false` the failure is thrown instead (an audit must not end short).
 * - A stored message that is not a valid event is dead-lettered once (streams/deadLetter.ts
 *   `quarantineInvalid`, source `projections` for the shared read, `projection-<name>` for a lane).
 *
 * @throws when the database does not answer during a failure (the caller's supervisor restarts the
 *   runner, every projection from its checkpoint), or, with `follow: false`, any failure.
 */
export async function runProjections(projections: readonly Projection[], options: RunProjectionOptions): Promise<void> {
  if (!projections.length) return;
  const { db, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const follow = options.follow !== false;
  const ctl = new AbortController();
  const stopOnAbort = () => ctl.abort();
  options.signal?.addEventListener('abort', stopOnAbort, { once: true });
  const signal = ctl.signal;
  const inner: RunProjectionOptions = { ...options, signal };
  let fatal: { err: unknown } | null = null;
  const lanes: Promise<void>[] = [];
  let stopReading: () => unknown = () => undefined;

  const committed = await readCheckpoints(db, projections.map((p) => p.name));
  const members: Member[] = projections.map((projection) => ({
    projection,
    types: new Set(projection.canHandle),
    position: committed.get(projection.name) ?? 0,
    state: 'shared',
    failures: 0,
  }));
  const lead = Math.max(...members.map((m) => m.position));
  const start = Math.min(...members.filter((m) => m.position >= lead - (options.catchUpWindow ?? 10_000)).map((m) => m.position));

  const fail = async (m: Member, err: unknown): Promise<void> => {
    if (signal.aborted) return;
    if (!follow || !(await databaseAnswers(db))) {
      fatal ??= { err };
      ctl.abort();
      return;
    }
    m.state = 'failed';
    m.failures++;
    const backoffMs = Math.min(60_000, 1000 * 2 ** (m.failures - 1));
    logger.error({ err, projection: m.projection.name, position: m.position, restartInMs: backoffMs, failures: m.failures }, 'projection failed; restarting it from its checkpoint, the others go on');
    lanes.push(sleep(backoffMs, signal).then(() => (signal.aborted ? undefined : catchUp(m))));
  };

  const catchUp = async (m: Member): Promise<void> => {
    m.state = 'catching-up';
    const source = `projection-${m.projection.name}`;
    try {
      for await (const batch of options.store.read({
        fromSequence: m.position + 1,
        types: m.projection.canHandle,
        batchSize,
        signal,
        onInvalid: quarantineInvalid(options.deadLetter, source, logger),
      })) {
        await applyBatch(m.projection, inner, batch.events, batch.lastSequence);
        m.position = batch.lastSequence;
        if (signal.aborted) return;
      }
      if (!signal.aborted) m.state = 'ready';
    } catch (err) {
      await fail(m, err);
    }
  };
  for (const m of members) if (m.position < start) lanes.push(catchUp(m));

  try {
    let previous = start;
    const read = follow ? options.store.subscribe.bind(options.store) : options.store.read.bind(options.store);
    const source = projections.length === 1 ? `projection-${projections[0]!.name}` : 'projections';
    const batches = read({
      fromSequence: start + 1,
      types: [...new Set(projections.flatMap((p) => p.canHandle))],
      batchSize,
      signal,
      onInvalid: quarantineInvalid(options.deadLetter, source, logger),
    })[Symbol.asyncIterator]();
    stopReading = () => batches.return?.(undefined);
    // the next batch is read and decoded while this one commits
    let next = batches.next();
    for (;;) {
      const got = await next;
      if (got.done) break;
      const batch = got.value;
      next = batches.next();
      next.catch(() => undefined); // awaited at the next turn; an early end must not leave it unhandled
      for (const m of members) {
        if (m.state !== 'ready') continue;
        if (m.position >= previous) m.state = 'shared';
        else lanes.push(catchUp(m)); // the shared read moved on while it caught up: read on
      }
      const due = members.filter((m) => m.state === 'shared' && m.position < batch.lastSequence);
      if (due.length) await commitShared(due, batch, inner, fail);
      previous = batch.lastSequence;
      if (signal.aborted) break;
    }
    if (follow && !signal.aborted) throw new Error(`projections ${projections.map((p) => p.name).join(', ')}: the subscription to the stream ended`);
  } catch (err) {
    if (!fatal && !signal.aborted) fatal = { err };
    ctl.abort();
  } finally {
    if (!follow && !fatal) await Promise.all(lanes); // a rebuild ends when every lane has
    ctl.abort(); // ends a read ahead still waiting for messages, then the read itself
    await stopReading();
    await Promise.all(lanes);
    options.signal?.removeEventListener('abort', stopOnAbort);
  }
  if (fatal) throw (fatal as { err: unknown }).err;
}

/** Committed checkpoints of `names` (absent: never committed). */
async function readCheckpoints(db: Kysely<Database>, names: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', names).execute();
  return new Map(rows.map((r) => [r.name, Number(r.position)]));
}

/**
 * Commits `batch` for every member of `due` in one transaction (retried on transient errors);
 * when that fails otherwise, each member commits on its own (applyBatch) and a member that still
 * fails goes to `fail`.
 */
async function commitShared(due: Member[], batch: EventBatch, options: RunProjectionOptions, fail: (m: Member, err: unknown) => Promise<void>): Promise<void> {
  const last = batch.lastSequence;
  try {
    await retrying(options, due.map((m) => m.projection.name).join(','), () =>
      options.db.transaction().execute(async (trx) => {
        const names = due.map((m) => m.projection.name);
        const rows = await trx.selectFrom('projection_checkpoints').select(['name', 'position']).where('name', 'in', names).forUpdate().execute();
        const at = new Map(rows.map((r) => [r.name, Number(r.position)]));
        const advanced = due.filter((m) => (at.get(m.projection.name) ?? 0) < last); // the others: an earlier attempt committed it
        // the projections write disjoint tables: their handlers run side by side on the one connection
        // (the JS of one overlaps the queries of another); any failure rolls the whole transaction back
        const settled = await Promise.allSettled(
          advanced.map(async (m) => {
            const from = at.get(m.projection.name) ?? 0;
            const events = batch.events.filter((e) => e.sequence > from && m.types.has(e.type));
            if (events.length) await m.projection.handle(events, { db: trx, artifacts: options.artifacts });
          }),
        );
        const errors = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        if (errors.length) throw errors.find(isTransient) ?? errors[0];
        if (advanced.length) await saveCheckpoints(trx, advanced.map((m) => m.projection.name), last);
      }),
    );
    for (const m of due) m.position = last;
    return;
  } catch (err) {
    if (options.signal?.aborted) return;
    options.logger.warn({ err, projections: due.map((m) => m.projection.name), lastSequence: last }, 'shared batch failed; committing each projection on its own');
  }
  for (const m of due) {
    try {
      await applyBatch(m.projection, options, batch.events.filter((e) => e.sequence > m.position && m.types.has(e.type)), last);
      m.position = last;
    } catch (err) {
      await fail(m, err);
    }
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
