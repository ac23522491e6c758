/**
 * Verified contribution (issue 11): revenue the distribution contract booked per member through
 * its forwarder (MemberRevenueReceived, projectors/memberRevenue.ts), one row per transaction and
 * the totals per (epoch, member); and the token credits of epochs computed with reward formula v2
 * (domain/rewardsV2.ts, projectors/rewards.ts): claimed and verified tokens side by side.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    `create table member_revenue_receipts (
      tx_hash text primary key,
      epoch_id integer not null,
      member text not null,
      kind text not null,
      forwarder text not null,
      proxy text,
      lt numeric not null,
      chain_time bigint not null,
      amount_nanoton numeric not null,
      paid_nanoton numeric,
      verified_tokens numeric,
      known_proxy boolean not null,
      counted_by_contract boolean not null
    )`,
    `create index member_revenue_receipts_member on member_revenue_receipts (member, epoch_id)`,
    `create table member_revenue (
      epoch_id integer not null,
      member text not null,
      verified_revenue_nanoton numeric not null,
      paid_nanoton numeric not null,
      verified_tokens numeric not null,
      payouts integer not null,
      backlog_nanoton numeric not null,
      primary key (epoch_id, member)
    )`,
    `create index member_revenue_member on member_revenue (member)`,
    `create table token_credits (
      epoch_id integer not null,
      participant text not null,
      claimed_tokens numeric not null,
      verified_tokens numeric not null,
      unpaid_claims_in numeric not null,
      unclaimed_payments_in numeric not null,
      credited_tokens numeric not null,
      unpaid_claims_out numeric not null,
      unclaimed_payments_out numeric not null,
      divergent boolean not null,
      primary key (epoch_id, participant)
    )`,
    `create index token_credits_participant on token_credits (participant)`,
  ]) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['token_credits', 'member_revenue', 'member_revenue_receipts']) await sql.raw(`drop table ${table}`).execute(db);
}
