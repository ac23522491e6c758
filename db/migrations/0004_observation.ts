/**
 * The pool's own observation time (domain/observation.ts), kept by the contributions projection:
 * the last heartbeat seen and the observed milliseconds per epoch. Existing read models need no
 * data change: a stream without heartbeats keeps measuring epochs against wall time.
 */
import { sql, type Kysely } from 'kysely';

const statements = [
  `create table observation_state (
    observer text primary key,
    at_ms bigint not null,
    valid_for_ms bigint not null
  )`,
  `create table epoch_observations (
    epoch_id integer primary key,
    observed_ms bigint not null,
    heartbeats integer not null
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['epoch_observations', 'observation_state']) await sql.raw(`drop table ${table}`).execute(db);
}
