/**
 * Operator alert rules over HTTP (a Fastify plugin of the read API), behind the operator's bearer
 * token (`Authorization: Bearer <token>`; the token is read from the variable the config names,
 * `alerts.operatorTokenEnv`, default POOL_OPERATOR_TOKEN):
 *
 *   GET    /api/v1/alerts                      the rules (secrets not returned: `hasSecret`)
 *   POST   /api/v1/alerts                      a new rule (alerts/rules.ts AlertRuleInput) → 201;
 *                                              409 when its id exists
 *   DELETE /api/v1/alerts/:id                  → 204; 404 when there is none
 *   GET    /api/v1/alerts/deliveries?rule=&status=&limit=&before=<deliveryId>   newest first, paged
 *
 * 401 without the token or with another one; 503 when no token is configured (the routes are
 * then closed to everyone). Deliveries are made by alerts/dispatcher.ts.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import Type from 'typebox';
import { ALERT_EVENT_TYPES, AlertRuleInput, type AlertRule } from '../alerts/rules.ts';
import { deleteRule, insertRule, listDeliveries, listRules } from '../alerts/store.ts';
import type { Database } from '../db/schema.ts';
import { operatorAuth, OperatorErrorBody, OperatorSecurity, type OperatorAuthOptions } from './operatorAuth.ts';

export interface AlertsApiOptions extends OperatorAuthOptions {
  db: Kysely<Database>;
  /** the event stream's last sequence: a new rule triggers on later events only */
  streamSequence: () => Promise<number>;
}

/** Most deliveries one page holds. */
const MAX_DELIVERIES = 1000;

const Rule = Type.Object({
  id: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  workerId: Type.Union([Type.String(), Type.Null()]),
  url: Type.String(),
  hasSecret: Type.Boolean(),
  fromSequence: Type.Integer({ description: 'stream sequence at creation: later events trigger it' }),
  createdAtMs: Type.Integer({ description: 'unix ms' }),
});
const Delivery = Type.Object({
  deliveryId: Type.Integer(),
  ruleId: Type.String(),
  url: Type.String(),
  eventSequence: Type.Integer({ description: 'stream sequence' }),
  eventType: Type.String(),
  eventId: Type.String(),
  status: Type.Union([Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  responseStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  finishedAtMs: Type.Integer({ description: 'unix ms' }),
});
const ErrorBody = OperatorErrorBody;
const Security = OperatorSecurity;

const publicRule = (r: AlertRule) => ({ id: r.id, description: r.description, events: r.events, workerId: r.workerId, url: r.url, hasSecret: r.secret !== null, fromSequence: r.fromSequence, createdAtMs: r.createdAtMs });

/** The plugin; register it on the read API (`app.register(alertsApi, options)`). */
export const alertsApi: FastifyPluginAsyncTypebox<AlertsApiOptions> = async (app, options) => {
  const { db } = options;

  app.addHook('onRequest', operatorAuth(options, '/api/v1/alerts'));

  app.get('/api/v1/alerts', {
    schema: { summary: 'Alert rules', security: Security, querystring: Type.Object({}, { additionalProperties: false }), response: { 200: Type.Object({ rules: Type.Array(Rule) }), 401: ErrorBody, 503: ErrorBody } },
  }, async () => ({ rules: (await listRules(db)).map(publicRule) }));

  app.post('/api/v1/alerts', {
    schema: {
      summary: 'Create an alert rule', description: `Events: ${ALERT_EVENT_TYPES.join(', ')}`, security: Security, body: AlertRuleInput,
      response: { 201: Rule, 401: ErrorBody, 409: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const b = req.body;
    const rule: AlertRule = {
      id: b.id ?? randomUUID(), description: b.description ?? null, events: b.events, workerId: b.workerId ?? null, url: b.url,
      secret: b.secret ?? null, fromSequence: await options.streamSequence(), createdAtMs: Date.now(),
    };
    if (!(await insertRule(db, rule))) return reply.code(409).send({ error: 'conflict', message: `alert rule ${rule.id} exists; delete it first or choose another id` });
    return reply.code(201).send(publicRule(rule));
  });

  app.delete('/api/v1/alerts/:id', {
    schema: { summary: 'Delete an alert rule', security: Security, params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }), response: { 204: Type.Null({ description: 'deleted' }), 401: ErrorBody, 404: ErrorBody, 503: ErrorBody } },
  }, async (req, reply) => {
    if (!(await deleteRule(db, req.params.id))) return reply.code(404).send({ error: 'not_found', message: `no alert rule ${req.params.id}` });
    return reply.code(204).send(null);
  });

  app.get('/api/v1/alerts/deliveries', {
    schema: {
      summary: 'Deliveries of alerts to the webhooks, newest first', security: Security,
      querystring: Type.Object({
        rule: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
        status: Type.Optional(Type.Union([Type.Literal('delivered'), Type.Literal('failed')])),
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `a count, decimal 1..${MAX_DELIVERIES} (default 100)` })),
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'a deliveryId: the page after it (`next` of the previous page)' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ deliveries: Type.Array(Delivery), next: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (limit < 1 || limit > MAX_DELIVERIES) return reply.code(400).send({ error: 'bad_request', message: `querystring/limit must be 1..${MAX_DELIVERIES}, got ${req.query.limit}` });
    const rows = await listDeliveries(db, { limit, before: req.query.before === undefined ? undefined : Number(req.query.before), rule: req.query.rule, status: req.query.status });
    return {
      deliveries: rows.map((d) => ({
        deliveryId: d.delivery_id, ruleId: d.rule_id, url: d.url, eventSequence: Number(d.event_sequence), eventType: d.event_type, eventId: d.event_id,
        status: d.status as 'delivered' | 'failed', attempts: d.attempts, responseStatus: d.response_status, lastError: d.last_error, finishedAtMs: Number(d.finished_at_ms),
      })),
      next: rows.length === limit ? String(rows[rows.length - 1]!.delivery_id) : null,
    };
  });
};
