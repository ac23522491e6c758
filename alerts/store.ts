/** The alert tables (db/migrations/0010_alerts.ts): rules, deliveries, the dispatcher's position. */
import type { Kysely, Selectable } from 'kysely';
import type { AlertDeliveriesTable, AlertRulesTable, Database } from '../db/schema.ts';
import type { AlertEventType, AlertRule } from './rules.ts';

const toRule = (r: Selectable<AlertRulesTable>): AlertRule => ({
  id: r.rule_id,
  description: r.description,
  events: r.event_types as AlertEventType[],
  workerId: r.worker_id,
  url: r.url,
  secret: r.secret,
  fromSequence: Number(r.from_sequence),
  createdAtMs: Number(r.created_at_ms),
});

/** Every rule, by id. */
export async function listRules(db: Kysely<Database>): Promise<AlertRule[]> {
  return (await db.selectFrom('alert_rules').selectAll().orderBy('rule_id').execute()).map(toRule);
}

/** Stores a new rule; false when a rule with its id exists (nothing changed). */
export async function insertRule(db: Kysely<Database>, rule: AlertRule): Promise<boolean> {
  const inserted = await db
    .insertInto('alert_rules')
    .values({
      rule_id: rule.id, description: rule.description, event_types: rule.events, worker_id: rule.workerId, url: rule.url,
      secret: rule.secret, from_sequence: rule.fromSequence, created_at_ms: rule.createdAtMs,
    })
    .onConflict((oc) => oc.column('rule_id').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Deletes a rule (its deliveries stay on record); false when there was none. */
export async function deleteRule(db: Kysely<Database>, id: string): Promise<boolean> {
  const r = await db.deleteFrom('alert_rules').where('rule_id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export type AlertDelivery = Omit<Selectable<AlertDeliveriesTable>, 'delivery_id'> & { delivery_id: number };

/** Whether (rule, event sequence) has a final delivery record. */
export async function isDelivered(db: Kysely<Database>, ruleId: string, sequence: number): Promise<boolean> {
  return !!(await db.selectFrom('alert_deliveries').select('delivery_id').where('rule_id', '=', ruleId).where('event_sequence', '=', sequence).executeTakeFirst());
}

/** Records a final delivery (the first record of a (rule, event) stands). */
export async function recordDelivery(db: Kysely<Database>, d: Omit<AlertDelivery, 'delivery_id'>): Promise<void> {
  await db.insertInto('alert_deliveries').values(d).onConflict((oc) => oc.columns(['rule_id', 'event_sequence']).doNothing()).execute();
}

/**
 * Deliveries, newest first: at most `limit`, with delivery id below `before` when given, of one
 * rule and one status when given.
 */
export async function listDeliveries(db: Kysely<Database>, q: { limit: number; before?: number; rule?: string; status?: string }): Promise<AlertDelivery[]> {
  let query = db.selectFrom('alert_deliveries').selectAll().orderBy('delivery_id', 'desc').limit(q.limit);
  if (q.before !== undefined) query = query.where('delivery_id', '<', q.before);
  if (q.rule !== undefined) query = query.where('rule_id', '=', q.rule);
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  return (await query.execute()).map((d) => ({ ...d, delivery_id: Number(d.delivery_id) }));
}

/** The dispatcher's position (stream sequence delivered up to), or null before its first start. */
export async function readDispatchPosition(db: Kysely<Database>): Promise<number | null> {
  const row = await db.selectFrom('alert_dispatch').select('position').where('id', '=', 1).executeTakeFirst();
  return row ? Number(row.position) : null;
}

/** Stores the dispatcher's position. */
export async function writeDispatchPosition(db: Kysely<Database>, position: number): Promise<void> {
  await db.insertInto('alert_dispatch').values({ id: 1, position }).onConflict((oc) => oc.column('id').doUpdateSet({ position })).execute();
}
