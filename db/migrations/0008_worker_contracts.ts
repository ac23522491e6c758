/**
 * Worker contracts (issue 11): the last cross-check of each worker's `/jsonstats` `cached_out_tokens`
 * against its Cocoon worker contract, per (worker, proxy) (WorkerTokensChecked /
 * WorkerTokensDiverged, projectors/workerContracts.ts): claimed beside on-chain tokens.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    `create table worker_contract_checks (
      worker_id text not null,
      proxy text not null,
      worker_contract text not null,
      owner_address text not null,
      claimed_tokens numeric not null,
      on_chain_tokens numeric,
      paid_nanoton numeric,
      worker_fee_per_token numeric not null,
      genuine boolean not null,
      consistent boolean not null,
      divergence text,
      checks integer not null,
      divergences integer not null,
      sample_at_ms bigint not null,
      primary key (worker_id, proxy)
    )`,
  ]) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table worker_contract_checks').execute(db);
}
