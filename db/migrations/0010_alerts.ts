/**
 * Operator alerts (issue 8): the rules an operator configured through /api/v1/alerts, a record of
 * every delivery to their webhooks (one per rule and event: the dispatcher's dedupe after a
 * restart), and the dispatcher's position in the event stream (alerts/dispatcher.ts). These are no
 * projection: a rebuild of the read models keeps them.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    `create table alert_rules (
      rule_id text primary key,
      description text,
      event_types text[] not null,
      worker_id text,
      url text not null,
      secret text,
      from_sequence bigint not null,
      created_at_ms bigint not null
    )`,
    `create table alert_deliveries (
      delivery_id bigserial primary key,
      rule_id text not null,
      url text not null,
      event_sequence bigint not null,
      event_type text not null,
      event_id text not null,
      status text not null,
      attempts integer not null,
      response_status integer,
      last_error text,
      finished_at_ms bigint not null,
      unique (rule_id, event_sequence)
    )`,
    `create index alert_deliveries_rule on alert_deliveries (rule_id, delivery_id)`,
    `create table alert_dispatch (
      id integer primary key check (id = 1),
      position bigint not null
    )`,
  ]) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['alert_dispatch', 'alert_deliveries', 'alert_rules']) await sql.raw(`drop table ${table}`).execute(db);
}
