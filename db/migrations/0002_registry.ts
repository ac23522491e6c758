/** The on-chain registry's view: participants (stake, status, GPU spec) and slashes per epoch. */
import { sql, type Kysely } from 'kysely';

const statements = [
  `create table participants (
    participant text primary key,
    stake_nanoton numeric not null,
    status text not null,
    gpu_spec_hash text not null,
    gpu_count integer not null,
    worker text,
    registered_at_ms bigint not null,
    pending_withdrawal_nanoton numeric not null default 0,
    unlock_at bigint,
    slashed_nanoton numeric not null default 0,
    slashes integer not null default 0,
    last_lt numeric not null
  )`,
  `create table slashes (
    epoch_id integer not null,
    participant text not null,
    slashes integer not null,
    amount_nanoton numeric not null,
    primary key (epoch_id, participant)
  )`,
  `create table counted_slashes (
    tx_hash text primary key,
    epoch_id integer not null
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['counted_slashes', 'slashes', 'participants']) await sql.raw(`drop table ${table}`).execute(db);
}
