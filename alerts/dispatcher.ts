/**
 * The alert dispatcher: follows the event stream and posts each event that triggers an operator's
 * rule (alerts/rules.ts) to the rule's webhook, with retries (p-retry: `attempts` in all, the wait
 * doubling from `firstRetryMs`; a 4xx other than 408 and 429 is not retried), then records the
 * delivery once (`alert_deliveries`: delivered after n attempts, or failed with the last error).
 * A delivery given up is logged at error and counted (`pool_alert_deliveries_total{result="failed"}`).
 *
 * The position (`alert_dispatch`) is stored after each batch; a restart resumes after it and skips
 * the (rule, event) pairs already recorded, so each is delivered at least once and recorded once;
 * the webhook can tell a repeat by `Idempotency-Key: <rule>:<sequence>`. On its first start the
 * dispatcher begins at the stream's end: history is not replayed to the webhooks.
 */
import type { Kysely } from 'kysely';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { Database } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { ALERT_EVENT_TYPES, ruleMatches, webhookBody, webhookSignature, type AlertRule } from './rules.ts';
import { isDelivered, listRules, readDispatchPosition, recordDelivery, writeDispatchPosition } from './store.ts';

/** The dispatcher's metrics, unregistered (the caller registers them). */
export interface AlertMetrics {
  /** `pool_alert_deliveries_total{result}`: deliveries finished, `delivered` or `failed` */
  deliveries: Counter<'result'>;
  /** `pool_alert_delivery_attempts_total{outcome}`: webhook requests, `ok` or `error` */
  attempts: Counter<'outcome'>;
}

/** Creates the {@link AlertMetrics}. */
export function alertMetrics(): AlertMetrics {
  return {
    deliveries: new Counter({ name: 'pool_alert_deliveries_total', help: 'Alert deliveries to webhooks finished: delivered, or failed after every attempt', labelNames: ['result'], registers: [] }),
    attempts: new Counter({ name: 'pool_alert_delivery_attempts_total', help: 'Webhook requests of alert deliveries: ok (2xx) or error', labelNames: ['outcome'], registers: [] }),
  };
}

export interface DeliverySettings {
  /** attempts of one delivery in all (>= 1) */
  attempts: number;
  /** deadline of one attempt, milliseconds */
  attemptTimeoutMs: number;
  /** wait before the first retry, milliseconds; doubled before each next one */
  firstRetryMs: number;
}

export interface AlertDispatcherOptions {
  store: Pick<EventStore, 'subscribe' | 'lastSequence'>;
  db: Kysely<Database>;
  settings: DeliverySettings;
  metrics: AlertMetrics;
  logger: Logger;
  signal: AbortSignal;
}

/** Thrown by one attempt: the webhook's answer or why there was none. */
class AttemptError extends Error {
  override name = 'AttemptError';
}

/**
 * Posts `event` to `rule`'s webhook until it answers 2xx or the attempts are spent; never throws
 * (the abort of `signal` excepted): the outcome is returned for the record.
 */
export async function deliver(
  rule: AlertRule,
  event: RecordedEvent,
  settings: DeliverySettings,
  metrics: AlertMetrics,
  logger: Logger,
  signal: AbortSignal,
): Promise<{ status: 'delivered' | 'failed'; attempts: number; responseStatus: number | null; lastError: string | null }> {
  const body = webhookBody(rule, event);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'cocoon-pool-alerts',
    'idempotency-key': `${rule.id}:${event.sequence}`,
    'x-pool-event-type': event.type,
  };
  if (rule.secret) headers['x-pool-signature'] = webhookSignature(rule.secret, body);
  let attempts = 0;
  let responseStatus: number | null = null;
  try {
    await pRetry(
      async () => {
        attempts++;
        let res: Response;
        try {
          res = await fetch(rule.url, { method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.any([signal, AbortSignal.timeout(settings.attemptTimeoutMs)]) });
        } catch (err) {
          metrics.attempts.inc({ outcome: 'error' });
          if (signal.aborted) throw new AbortError(new AttemptError('stopped'));
          responseStatus = null;
          const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
          throw new AttemptError(`no answer: ${(err as Error).name === 'TimeoutError' ? `none within ${settings.attemptTimeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message)}`);
        }
        responseStatus = res.status;
        const text = (await res.text().catch(() => '')).slice(0, 200);
        if (res.ok) return void metrics.attempts.inc({ outcome: 'ok' });
        metrics.attempts.inc({ outcome: 'error' });
        const failure = new AttemptError(`HTTP ${res.status}${text ? `: ${text}` : ''}`);
        // the receiver refuses this request as such: sending it again changes nothing
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new AbortError(failure);
        throw failure;
      },
      {
        retries: settings.attempts - 1,
        minTimeout: settings.firstRetryMs,
        factor: 2,
        randomize: false,
        signal,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
          void logger.warn({ rule: rule.id, url: rule.url, event: event.type, sequence: event.sequence, attempt: attemptNumber, retriesLeft, reason: error.message }, 'alert webhook attempt failed'),
      },
    );
    metrics.deliveries.inc({ result: 'delivered' });
    return { status: 'delivered', attempts, responseStatus, lastError: null };
  } catch (err) {
    if (signal.aborted) throw err;
    const lastError = (err as Error).message;
    metrics.deliveries.inc({ result: 'failed' });
    logger.error(
      { rule: rule.id, url: rule.url, event: event.type, eventId: event.id, sequence: event.sequence, attempts, responseStatus, reason: lastError },
      `ALERT NOT DELIVERED: webhook of rule ${rule.id} failed ${attempts} attempt(s) for ${event.type} (stream sequence ${event.sequence}): ${lastError}`,
    );
    return { status: 'failed', attempts, responseStatus, lastError };
  }
}

/**
 * Follows the stream's alert events until `signal` aborts, delivering each to the rules it
 * triggers (rules are read again for every batch, so a rule posted or deleted applies from the
 * next one). Deliveries of one event run in parallel; events are taken in stream order.
 * @throws the store's and the database's errors (the supervisor restarts it).
 */
export async function runAlertDispatcher(options: AlertDispatcherOptions): Promise<void> {
  const { db, store, logger, signal } = options;
  const last = await store.lastSequence();
  let position = await readDispatchPosition(db);
  // first start: from the stream's end; a position past the end (another stream) restarts at the end too
  if (position === null || position > last) {
    if (position !== null) logger.warn({ position, streamLastSequence: last }, 'alert dispatcher position is past the stream end; resuming at the end');
    position = last;
    await writeDispatchPosition(db, position);
  }
  logger.info({ fromSequence: position + 1 }, 'alert dispatcher following the stream');
  let writtenAtMs = Date.now();
  for await (const batch of store.subscribe({
    fromSequence: position + 1,
    types: ALERT_EVENT_TYPES,
    signal,
    // a message that is not a valid event is no alert; the projections dead-letter it
    onInvalid: async () => {},
  })) {
    if (batch.events.length) {
      const rules = await listRules(db);
      for (const event of batch.events) {
        await Promise.all(
          rules.filter((r) => ruleMatches(r, event)).map(async (rule) => {
            if (await isDelivered(db, rule.id, event.sequence)) return;
            const outcome = await deliver(rule, event, options.settings, options.metrics, logger, signal);
            await recordDelivery(db, {
              rule_id: rule.id, url: rule.url, event_sequence: event.sequence, event_type: event.type, event_id: event.id,
              status: outcome.status, attempts: outcome.attempts, response_status: outcome.responseStatus, last_error: outcome.lastError, finished_at_ms: Date.now(),
            });
          }),
        );
      }
    }
    // stored after every batch with deliveries, else at most once a second (most batches are other events)
    if (batch.lastSequence > position && (batch.events.length || Date.now() - writtenAtMs >= 1000)) {
      await writeDispatchPosition(db, batch.lastSequence);
      position = batch.lastSequence;
      writtenAtMs = Date.now();
    }
  }
}
