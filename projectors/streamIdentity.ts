/**
 * Checkpoints are positions in ONE stream: read models built from one POOL stream and then
 * followed on another (a DATABASE_URL reused with a new nats store) would silently skip the new
 * stream's events up to the old checkpoints. The database therefore records which stream its read
 * models belong to (`stream_identity`: the stream's name and the creation time JetStream keeps for
 * it, which a new stream of the same name never shares), and a start on another stream is refused
 * with what to do, or rebuilds from the first event when asked to (`pool start --rebuild`).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Projection } from './projection.ts';
import { resetProjection } from './runner.ts';

/** A stream's identity: its name and its creation time as JetStream reports it (ISO 8601). */
export interface StreamIdentity {
  stream: string;
  created: string;
}

/** Thrown when the database's read models belong to another stream; the message says what to do. */
export class StreamIdentityError extends Error {
  override name = 'StreamIdentityError';
}

/** Reads the identity of `stream` from the server. @throws JetStreamApiError when it does not exist. */
export async function readStreamIdentity(jsm: JetStreamManager, stream: string): Promise<StreamIdentity> {
  const info = await jsm.streams.info(stream);
  return { stream, created: info.created };
}

export interface ClaimOptions {
  /** the stream the pool follows */
  identity: StreamIdentity;
  /** the stream's last sequence: a checkpoint beyond it proves the read models are another stream's */
  lastSequence: number;
  /** every projection of the pool (their tables are dropped by a rebuild) */
  projections: readonly Projection[];
  /** drop the read models and replay from the first event, whatever stream they belong to */
  rebuild: boolean;
  /** the database as shown to the operator, e.g. "postgres://host:5432/pool" */
  database: string;
}

/**
 * Makes sure the read models in `db` belong to `identity`, before any projection runs:
 * - `rebuild`: empties every projection (tables, epoch cursors, checkpoints), then records the identity;
 * - recorded and equal: nothing to do;
 * - recorded and different: refused;
 * - none recorded (a new database, or one from before identities were recorded): recorded, unless a
 *   checkpoint lies beyond the stream's end (then it is certainly another stream's: refused).
 * The identity is written last, so a rebuild interrupted half way is refused (or redone) at the next start.
 * @returns what was done.
 * @throws StreamIdentityError naming both streams and what to do.
 */
export async function claimStreamIdentity(db: Kysely<Database>, options: ClaimOptions): Promise<'rebuilt' | 'matched' | 'recorded'> {
  const { identity } = options;
  const recorded = await db.selectFrom('stream_identity').select(['stream', 'created']).where('id', '=', 1).executeTakeFirst();
  if (options.rebuild) {
    for (const projection of options.projections) await resetProjection(db, projection);
    await db.deleteFrom('projection_checkpoints').execute();
    await db.deleteFrom('epoch_cursors').execute();
    await record(db, identity);
    return 'rebuilt';
  }
  const what = `Point DATABASE_URL at the database of this stream, or start with --rebuild to drop the read models in it and replay stream ${identity.stream} from its first event.`;
  if (recorded) {
    if (recorded.stream === identity.stream && recorded.created === identity.created) return 'matched';
    throw new StreamIdentityError(
      `the read models in ${options.database} were built from stream ${recorded.stream} created ${recorded.created}, ` +
        `but the NATS server's stream ${identity.stream} was created ${identity.created}: their checkpoints would skip its events. ${what}`,
    );
  }
  const beyond = await db.selectFrom('projection_checkpoints').select(['name', 'position']).where('position', '>', options.lastSequence).executeTakeFirst();
  if (beyond) {
    throw new StreamIdentityError(
      `the read models in ${options.database} are at stream sequence ${beyond.position} (projection ${beyond.name}), ` +
        `beyond the end (${options.lastSequence}) of the NATS server's stream ${identity.stream} created ${identity.created}: they were built from another stream. ${what}`,
    );
  }
  await record(db, identity);
  return 'recorded';
}

async function record(db: Kysely<Database>, identity: StreamIdentity): Promise<void> {
  await db
    .insertInto('stream_identity')
    .values({ id: 1, stream: identity.stream, created: identity.created, recorded_at_ms: Date.now() })
    .onConflict((oc) => oc.column('id').doUpdateSet({ stream: identity.stream, created: identity.created, recorded_at_ms: Date.now() }))
    .execute();
}
