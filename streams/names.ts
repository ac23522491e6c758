/**
 * One pool's JetStream names, all derived from its pool id (config `poolId`, env POOL_ID), so that
 * two pools can share one NATS cluster without touching each other's data.
 *
 * The code and the events speak logical subjects, `pool.<context>.<aggregate id>`
 * (schemas/catalog.ts `subjectFor`): sagas, projectors and audits never see a pool id. The pool's
 * store maps them to its wire subjects at the boundary (`<poolId>.<context>.<aggregate id>`,
 * streams/natsEventStore.ts), and so do the dead letters, the buckets and the NATS permissions.
 * The default pool id is `pool`, whose names are the ones every earlier release used (stream POOL,
 * `pool.>`, POOL_DLQ, `dlq.pool.>`, buckets pool_artifacts and pool_cursors): an existing data
 * directory needs no migration.
 *
 * Every consumer the pool creates is ephemeral (ordered consumers) on its own stream, so consumer
 * names need no prefix; the durable pieces are the streams and buckets named here.
 */

/** The pool id of a pool that sets none; its names are those of every earlier release. */
export const DEFAULT_POOL_ID = 'pool';

/** The logical subject root every event subject starts with in code (`pool.<context>.<id>`). */
export const LOGICAL_ROOT = 'pool';

/** Thrown for a pool id that cannot name a stream, a bucket and a subject token. */
export class PoolIdError extends Error {
  override name = 'PoolIdError';
}

export interface PoolNames {
  /** the pool id, e.g. `pool` or `acme` */
  poolId: string;
  /** the event stream (every fact and decision, one order), e.g. POOL, ACME */
  eventStream: string;
  /** the dead-letter stream, e.g. POOL_DLQ */
  deadLetterStream: string;
  /** first token of the event stream's wire subjects (`<poolId>.>`) */
  subjectRoot: string;
  /** prefix of dead-letter subjects (`dlq.<poolId>.<source>`) */
  deadLetterRoot: string;
  /** object store of epoch artifacts, e.g. pool_artifacts */
  artifactBucket: string;
  /** KV bucket of producer cursors and saga checkpoints, e.g. pool_cursors */
  cursorBucket: string;
  /** KV bucket of the single-writer leases (streams/lease.ts), e.g. pool_leases */
  leaseBucket: string;
}

const POOL_ID = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * The names of pool `poolId`: lower-case letters, digits and `-`, starting with a letter, at most
 * 31 characters (a subject token, a stream name once upper-cased, a bucket name with a suffix).
 * @throws PoolIdError for an id outside that alphabet, or `dlq` (its subjects would be another
 *   pool's dead letters).
 */
export function poolNames(poolId: string): PoolNames {
  if (!POOL_ID.test(poolId)) {
    throw new PoolIdError(`pool id ${JSON.stringify(poolId)}: use 1-31 lower-case letters, digits or '-', starting with a letter`);
  }
  if (poolId === 'dlq') throw new PoolIdError('pool id "dlq" is reserved: the dead letters of every pool live under dlq.<pool id>');
  const upper = poolId.toUpperCase();
  return {
    poolId,
    eventStream: upper,
    deadLetterStream: `${upper}_DLQ`,
    subjectRoot: poolId,
    deadLetterRoot: `dlq.${poolId}`,
    artifactBucket: `${poolId}_artifacts`,
    cursorBucket: `${poolId}_cursors`,
    leaseBucket: `${poolId}_leases`,
  };
}

/** The names of the default pool (`pool`). */
export const DEFAULT_POOL_NAMES: PoolNames = poolNames(DEFAULT_POOL_ID);

/**
 * The wire subject of a logical one: `pool.work.w1` → `acme.work.w1` for pool `acme` (unchanged for
 * the default pool). Also maps filters (`pool.>`, `pool.epoch.>`).
 * @throws PoolIdError when `subject` is not under the logical root (a caller's bug).
 */
export function wireSubject(names: PoolNames, subject: string): string {
  if (subject !== LOGICAL_ROOT && !subject.startsWith(`${LOGICAL_ROOT}.`)) throw new PoolIdError(`subject ${subject} is not under ${LOGICAL_ROOT}.`);
  return names.subjectRoot === LOGICAL_ROOT ? subject : names.subjectRoot + subject.slice(LOGICAL_ROOT.length);
}

/** The logical subject of a wire one (the inverse of {@link wireSubject}); a subject of another pool is returned unchanged. */
export function logicalSubject(names: PoolNames, subject: string): string {
  if (names.subjectRoot === LOGICAL_ROOT || !subject.startsWith(`${names.subjectRoot}.`)) return subject;
  return LOGICAL_ROOT + subject.slice(names.subjectRoot.length);
}
