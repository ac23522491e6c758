/**
 * Per-worker time series (issue 8, projectors/workerStats.ts): per worker and UTC minute the
 * adjusted tokens, tasks, uptime and polls credited in it (the same amounts the contributions
 * projection credits per epoch), and the projection's own state: the last observation per worker
 * (restart-aware deltas, domain/contribution.ts) and the Cocoon request ids already counted.
 * The read API aggregates the minutes into coarser buckets (GET /api/v1/workers/:id/stats).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    `create table worker_stats_minutes (
      worker_id text not null,
      bucket_start_ms bigint not null check (bucket_start_ms % 60000 = 0),
      adjusted_tokens numeric not null default 0,
      tasks integer not null default 0,
      tasks_succeeded integer not null default 0,
      uptime_ms bigint not null default 0,
      polls_ok integer not null default 0,
      polls_failed integer not null default 0,
      primary key (worker_id, bucket_start_ms)
    )`,
    `create table worker_stats_counters (
      worker_id text primary key,
      participant text,
      observed_at_ms bigint,
      telemetry jsonb,
      online boolean not null default false
    )`,
    `create table worker_stats_tasks (
      request_id text primary key
    )`,
  ]) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['worker_stats_tasks', 'worker_stats_counters', 'worker_stats_minutes']) await sql.raw(`drop table ${table}`).execute(db);
}
