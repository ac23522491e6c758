/**
 * The stream the read models were built from (projectors/streamIdentity.ts): checkpoints are
 * positions in ONE stream, so a database reused with another stream must be refused or rebuilt.
 * One row; an existing database gets it at its next start (adopted or refused there).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`create table stream_identity (
    id integer primary key check (id = 1),
    stream text not null,
    created text not null,
    recorded_at_ms bigint not null
  )`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table stream_identity').execute(db);
}
