/** Read models of the first release: workers, contributions, epochs, revenue, rewards/payouts, reputation. */
import { sql, type Kysely } from 'kysely';

const statements = [
  `create table projection_checkpoints (
    name text primary key,
    position bigint not null,
    updated_at_ms bigint not null
  )`,
  `create table workers (
    worker_id text primary key,
    participant text,
    endpoint text,
    status text not null default 'unknown',
    healthy boolean,
    health_reasons jsonb not null default '[]',
    last_seen_at_ms bigint,
    last_poll_at_ms bigint,
    consecutive_failures integer not null default 0,
    polls_ok bigint not null default 0,
    polls_failed bigint not null default 0,
    uptime_ms bigint not null default 0,
    restarts integer not null default 0,
    git_commit text,
    model text,
    owner_address text,
    wallet_balance_nanoton numeric,
    adjusted_tokens numeric not null default 0,
    last_totals jsonb
  )`,
  `create index workers_participant on workers (participant)`,
  `create table epoch_cursors (
    projection text primary key,
    current_epoch integer not null
  )`,
  `create table worker_counters (
    worker_id text primary key,
    participant text,
    observed_at_ms bigint,
    git_commit text,
    total_tokens double precision,
    queries double precision,
    online boolean not null default false
  )`,
  `create table contributions (
    epoch_id integer not null,
    worker_id text not null,
    participant text not null,
    adjusted_tokens numeric not null default 0,
    tasks bigint not null default 0,
    tasks_succeeded bigint not null default 0,
    task_us bigint not null default 0,
    uptime_ms bigint not null default 0,
    polls_ok bigint not null default 0,
    polls_failed bigint not null default 0,
    restarts integer not null default 0,
    primary key (epoch_id, worker_id, participant)
  )`,
  `create index contributions_participant on contributions (participant, epoch_id)`,
  `create table counted_tasks (
    request_id text primary key,
    epoch_id integer not null
  )`,
  `create table epochs (
    epoch_id integer primary key,
    status text not null,
    started_at_ms bigint,
    ends_at_ms bigint,
    closed_at_ms bigint,
    cut_sequence bigint,
    revenue_nanoton numeric not null default 0,
    carry_in_nanoton numeric,
    operator_fee_nanoton numeric,
    rewards_nanoton numeric,
    slashed_nanoton numeric,
    carry_out_nanoton numeric,
    eligible integer,
    leaf_count integer,
    merkle_root text,
    formula_version integer,
    params jsonb,
    root_tx_hash text,
    batches_planned integer not null default 0,
    batches_confirmed integer not null default 0,
    payouts_confirmed integer not null default 0,
    paid_nanoton numeric not null default 0,
    settled_at_ms bigint
  )`,
  `create table revenue (
    tx_hash text primary key,
    epoch_id integer not null,
    lt numeric not null,
    chain_time bigint not null,
    sender text not null,
    kind text not null,
    amount_nanoton numeric not null,
    query_id text,
    known_proxy boolean not null
  )`,
  `create index revenue_epoch on revenue (epoch_id)`,
  `create table rewards (
    epoch_id integer not null,
    leaf_index integer not null,
    participant text not null,
    amount_nanoton numeric not null,
    score_ppb bigint not null,
    status text not null default 'pending',
    method text,
    batch integer,
    tx_hash text,
    paid_at_ms bigint,
    primary key (epoch_id, leaf_index)
  )`,
  `create index rewards_participant on rewards (participant, epoch_id)`,
  `create table reputation (
    participant text primary key,
    score integer not null,
    last_epoch_id integer not null
  )`,
  `create table reputation_history (
    participant text not null,
    epoch_id integer not null,
    score_before integer not null,
    target integer not null,
    score_after integer not null,
    primary key (participant, epoch_id)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // one statement per query
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const tables = ['reputation_history', 'reputation', 'rewards', 'revenue', 'epochs', 'counted_tasks', 'contributions', 'worker_counters', 'epoch_cursors', 'workers', 'projection_checkpoints'];
  for (const table of tables) await sql.raw(`drop table ${table}`).execute(db);
}
