/**
 * Operator alert rules (pure, no I/O): which events an operator can subscribe a webhook to, the
 * shape of a rule as the API takes it (TypeBox), whether an event triggers a rule, and the
 * webhook's body and signature.
 */
import { createHmac } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { EventType, RecordedEvent } from '../schemas/catalog.ts';
import { WorkerId } from '../schemas/common.ts';

/**
 * The events a rule can name: the alerts context (decided by the heartbeat saga and the
 * projections: offline, recovered, unhealthy, telemetry anomaly, owner or identity changed) and
 * the epoch and chain events an operator acts on (halted, settled, divergence, failed transaction).
 */
export const ALERT_EVENT_TYPES = [
  'WorkerWentOffline',
  'WorkerRecovered',
  'WorkerUnhealthy',
  'WorkerTelemetryAnomaly',
  'WorkerOwnerChanged',
  'WorkerIdentityChanged',
  'EpochHalted',
  'EpochSettled',
  'ContributionDivergenceDetected',
  'ChainTransactionFailed',
  'WorkerTokensDiverged',
] as const satisfies readonly EventType[];
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** A rule as an operator posts it to /api/v1/alerts. */
export const AlertRuleInput = Type.Object(
  {
    /** chosen by the operator, or generated */
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    description: Type.Optional(Type.String({ maxLength: 200 })),
    events: Type.Array(Type.Union(ALERT_EVENT_TYPES.map((t) => Type.Literal(t))), { minItems: 1, maxItems: ALERT_EVENT_TYPES.length, uniqueItems: true }),
    /** only this worker's events (events without a worker never match then) */
    workerId: Type.Optional(WorkerId),
    url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 400 }),
    /** key of the HMAC-SHA256 signature sent in X-Pool-Signature (never returned by the API) */
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type AlertRuleInput = Static<typeof AlertRuleInput>;

/** A stored rule. */
export interface AlertRule {
  id: string;
  description: string | null;
  events: AlertEventType[];
  workerId: string | null;
  url: string;
  secret: string | null;
  /** stream sequence when it was created: only events after it trigger the rule */
  fromSequence: number;
  createdAtMs: number;
}

/** Whether `event` triggers `rule`: a type it names, after its creation, of its worker when it names one. */
export function ruleMatches(rule: AlertRule, event: RecordedEvent): boolean {
  if (event.sequence <= rule.fromSequence) return false;
  if (!(rule.events as string[]).includes(event.type)) return false;
  if (rule.workerId === null) return true;
  return (event.data as { workerId?: unknown }).workerId === rule.workerId;
}

/**
 * The JSON body posted to the rule's webhook: `{ rule, event: { type, id, sequence, subject,
 * storedAtMs, data } }` (`sequence` is the stream sequence; `data` as in the event catalog, schemas/json/).
 */
export function webhookBody(rule: AlertRule, event: RecordedEvent): string {
  const { type, id, sequence, subject, storedAtMs, data } = event;
  return JSON.stringify({ rule: { id: rule.id, description: rule.description }, event: { type, id, sequence, subject, storedAtMs, data } });
}

/** `sha256=<hex HMAC-SHA256 of body under secret>`, the X-Pool-Signature header. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
