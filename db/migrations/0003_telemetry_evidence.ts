/**
 * Telemetry as evidence (domain/telemetry.ts): each worker's classification state replaces the
 * two counters and git_commit the contribution projection kept, and the workers read model shows
 * anomalies. Existing rows get no state: each worker's next sample sets a new baseline and credits
 * nothing (at most one poll interval of tokens per worker is not counted, never any counted twice).
 */
import { sql, type Kysely } from 'kysely';

const up_ = [
  `alter table worker_counters add column telemetry jsonb`,
  `alter table worker_counters drop column git_commit`,
  `alter table worker_counters drop column total_tokens`,
  `alter table worker_counters drop column queries`,
  `alter table workers add column telemetry jsonb`,
  `alter table workers add column anomalies integer not null default 0`,
  `alter table workers add column anomalous boolean not null default false`,
  `alter table workers add column last_anomaly jsonb`,
];

const down_ = [
  `alter table workers drop column last_anomaly`,
  `alter table workers drop column anomalous`,
  `alter table workers drop column anomalies`,
  `alter table workers drop column telemetry`,
  `alter table worker_counters add column queries double precision`,
  `alter table worker_counters add column total_tokens double precision`,
  `alter table worker_counters add column git_commit text`,
  `alter table worker_counters drop column telemetry`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_) await sql.raw(statement).execute(db);
}
