/**
 * Revenue authenticity (issue 10): the members' cocoon wallet floats returned to the pool ("w"
 * replies), owed to the member and never revenue (projectors/revenueFloats.ts), and the revenue
 * kind `unverified_payout` (domain/revenue.ts): rows booked before as `cocoon_payout` from a sender
 * that was not a known proxy are relabelled, as a replay of their events labels them.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    `create table float_workers (
      worker_id text primary key,
      participant text,
      owner_address text,
      wallet_address text
    )`,
    `create index float_workers_wallet on float_workers (wallet_address)`,
    `create table member_floats (
      tx_hash text primary key,
      contract text not null,
      lt numeric not null,
      chain_time bigint not null,
      wallet_address text not null,
      amount_nanoton numeric not null,
      status text not null,
      participant text,
      workers jsonb not null
    )`,
    `create index member_floats_participant on member_floats (participant)`,
    `update revenue set kind = 'unverified_payout' where kind = 'cocoon_payout' and not known_proxy`,
  ]) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`update revenue set kind = 'cocoon_payout' where kind = 'unverified_payout'`).execute(db);
  await sql.raw('drop table member_floats').execute(db);
  await sql.raw('drop table float_workers').execute(db);
}
