/**
 * Operator alerts end to end over real NATS and PostgreSQL: rules managed at /api/v1/alerts behind
 * the operator token, the dispatcher following the stream and posting to a real local webhook that
 * fails its first attempt, every delivery recorded (GET /api/v1/alerts/deliveries), a webhook that
 * never answers well given up after the bounded attempts (error log and metric), and a restart
 * that delivers nothing twice.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alertMetrics, runAlertDispatcher, type AlertMetrics } from '../../alerts/dispatcher.ts';
import { alertsApi } from '../../read-api/alerts.ts';
import { buildReadApi } from '../../read-api/server.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

const TOKEN = 'operator-token-for-the-test';
const SECRET = 'webhook-secret-0123456789';
let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let receiver: http.Server;
let receiverUrl = '';
/** every request the receiver got: path, headers, body */
const received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
const logLines: { level: number; msg: string }[] = [];
const logger = pino({ level: 'warn' }, new Writable({ write(chunk, _enc, done) { logLines.push(JSON.parse(String(chunk))); done(); } }));
let metrics: AlertMetrics;
let dispatcher: { ctl: AbortController; done: Promise<void> } | null = null;

const offline = (workerId: string, atMs: number): PoolEvent => ({ type: 'WorkerWentOffline', version: 1, id: `offline:${workerId}:${atMs}`, data: { workerId, lastSeenAtMs: atMs - 500, missedPolls: 3, atMs } });
const append = (e: PoolEvent) => nats.store.append(`pool.alerts.${(e.data as { workerId: string }).workerId}`, e);

function startDispatcher() {
  const ctl = new AbortController();
  const done = runAlertDispatcher({ store: nats.store, db: pg.db, settings: { attempts: 3, attemptTimeoutMs: 2000, firstRetryMs: 100 }, metrics, logger, signal: ctl.signal });
  dispatcher = { ctl, done };
}
async function stopDispatcher() {
  dispatcher!.ctl.abort();
  await dispatcher!.done.catch(() => {});
  dispatcher = null;
}

const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token: string | null = TOKEN) => {
  const r = await api.inject({ method, url, payload: body as object | undefined, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.statusCode, body: r.body ? r.json() : null, headers: r.headers };
};
const deliveries = async (query = '') => (await call('GET', `/api/v1/alerts/deliveries${query}`)).body.deliveries as { ruleId: string; status: string; attempts: number; responseStatus: number | null; lastError: string | null; eventType: string; eventSequence: number }[];

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  // the webhook: /flaky fails its first request of each event (503), then accepts; /down always answers 503
  const seen = new Set<string>();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body });
      const key = `${req.url}:${req.headers['idempotency-key']}`;
      if (req.url === '/flaky' && !seen.has(key)) {
        seen.add(key);
        res.writeHead(503).end('busy');
      } else if (req.url === '/down') res.writeHead(503).end('down for maintenance');
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  await api.register(alertsApi, { db: pg.db, operatorToken: TOKEN, operatorTokenEnv: 'POOL_OPERATOR_TOKEN', streamSequence: () => nats.store.lastSequence() });
  metrics = alertMetrics();
});
test.after(async () => {
  if (dispatcher) await stopDispatcher();
  await api?.close();
  await new Promise((r) => receiver?.close(r));
  await nats?.stop();
  await pg?.drop();
});

test('the alerts routes need the operator token', async () => {
  const none = await call('GET', '/api/v1/alerts', undefined, null);
  assert.is(none.status, 401);
  assert.is(none.headers['www-authenticate'], 'Bearer realm="pool operator"');
  assert.is((await call('GET', '/api/v1/alerts', undefined, 'not-the-token')).status, 401);
  assert.is((await call('GET', '/api/v1/alerts/deliveries', undefined, 'not-the-token')).status, 401);
  assert.is((await call('POST', '/api/v1/alerts', { events: ['WorkerWentOffline'], url: `${receiverUrl}/flaky` }, null)).status, 401);
  assert.equal((await call('GET', '/api/v1/alerts')).body, { rules: [] });
});

test('without a configured token the routes are closed (503 naming the variable)', async () => {
  const closed = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  await closed.register(alertsApi, { db: pg.db, operatorToken: null, operatorTokenEnv: 'POOL_OPERATOR_TOKEN', streamSequence: async () => 0 });
  const r = await closed.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: 'Bearer anything' } });
  await closed.close();
  assert.is(r.statusCode, 503);
  assert.match(r.json().message, 'POOL_OPERATOR_TOKEN');
});

test('a rule is validated: unknown event type, bad URL, unknown field, empty events', async () => {
  for (const bad of [
    { events: ['NoSuchEvent'], url: `${receiverUrl}/x` },
    { events: ['WorkerWentOffline'], url: 'ftp://example.com/hook' },
    { events: ['WorkerWentOffline'], url: `${receiverUrl}/x`, colour: 'red' },
    { events: [], url: `${receiverUrl}/x` },
    { events: ['WorkerWentOffline'], url: `${receiverUrl}/x`, secret: 'short' },
  ]) {
    const r = await call('POST', '/api/v1/alerts', bad);
    assert.is(r.status, 400, JSON.stringify(bad));
    assert.is(r.body.error, 'bad_request');
  }
  assert.is((await call('GET', '/api/v1/alerts')).body.rules.length, 0);
});

test('rules: created (201, the secret not returned), a duplicate id refused (409)', async () => {
  // an event before the rules exist triggers none of them
  await append(offline('w1', 1_000));
  const flaky = await call('POST', '/api/v1/alerts', { id: 'pager', description: 'page on offline', events: ['WorkerWentOffline', 'WorkerRecovered'], url: `${receiverUrl}/flaky`, secret: SECRET });
  assert.is(flaky.status, 201);
  assert.equal({ ...flaky.body, createdAtMs: 0 }, {
    id: 'pager', description: 'page on offline', events: ['WorkerWentOffline', 'WorkerRecovered'], workerId: null, url: `${receiverUrl}/flaky`, hasSecret: true,
    fromSequence: await nats.store.lastSequence(), createdAtMs: 0,
  });
  assert.is((await call('POST', '/api/v1/alerts', { id: 'w2-only', events: ['WorkerWentOffline'], workerId: 'w2', url: `${receiverUrl}/w2` })).status, 201);
  const down = await call('POST', '/api/v1/alerts', { events: ['WorkerWentOffline'], url: `${receiverUrl}/down` });
  assert.is(down.status, 201);
  assert.match(down.body.id, /^[0-9a-f-]{36}$/);
  const dup = await call('POST', '/api/v1/alerts', { id: 'pager', events: ['EpochHalted'], url: `${receiverUrl}/other` });
  assert.is(dup.status, 409);
  const rules = (await call('GET', '/api/v1/alerts')).body.rules as { id: string; secret?: string }[];
  assert.equal(rules.map((r) => r.id).sort(), [down.body.id, 'pager', 'w2-only'].sort());
  assert.ok(rules.every((r) => r.secret === undefined));
});

test('an alert reaches the webhook after a failed first attempt; every delivery recorded', async () => {
  startDispatcher();
  // its first start begins at the stream's end: once it has stored that position, later events are its
  const end = await nats.store.lastSequence();
  await until('the dispatcher at the stream end', async () => (await pg.db.selectFrom('alert_dispatch').select('position').executeTakeFirst())?.position === end, 30_000, 250);
  const { sequence } = await append(offline('w1', 9_000));
  const done = await until('both deliveries recorded', async () => ((await deliveries()).length === 2 ? deliveries() : null), 30_000, 250);
  const pager = done.find((d) => d.ruleId === 'pager')!;
  assert.equal({ status: pager.status, attempts: pager.attempts, responseStatus: pager.responseStatus, lastError: pager.lastError, eventType: pager.eventType, eventSequence: pager.eventSequence }, {
    status: 'delivered', attempts: 2, responseStatus: 200, lastError: null, eventType: 'WorkerWentOffline', eventSequence: sequence,
  });
  // the webhook got the same request twice: same idempotency key, signed body naming the event
  const posts = received.filter((r) => r.path === '/flaky');
  assert.is(posts.length, 2);
  assert.is(posts[0]!.headers['idempotency-key'], `pager:${sequence}`);
  assert.is(posts[1]!.body, posts[0]!.body);
  assert.is(posts[0]!.headers['x-pool-signature'], `sha256=${createHmac('sha256', SECRET).update(posts[0]!.body).digest('hex')}`);
  const body = JSON.parse(posts[0]!.body);
  assert.equal(body.event, { type: 'WorkerWentOffline', id: 'offline:w1:9000', sequence, subject: 'pool.alerts.w1', storedAtMs: body.event.storedAtMs, data: { workerId: 'w1', lastSeenAtMs: 8500, missedPolls: 3, atMs: 9000 } });
  // the rule of w2 only saw nothing; the event before the rules was posted nowhere
  assert.is(received.filter((r) => r.path === '/w2').length, 0);
  assert.ok(received.every((r) => !r.body.includes('offline:w1:1000')));
});

test('a webhook that keeps failing is given up after the bounded attempts: recorded failed, logged at error, counted', async () => {
  const failed = (await deliveries('?status=failed'))!;
  assert.is(failed.length, 1);
  assert.equal({ status: failed[0]!.status, attempts: failed[0]!.attempts, responseStatus: failed[0]!.responseStatus, lastError: failed[0]!.lastError }, {
    status: 'failed', attempts: 3, responseStatus: 503, lastError: 'HTTP 503: down for maintenance',
  });
  assert.is(received.filter((r) => r.path === '/down').length, 3);
  const loud = logLines.filter((l) => l.level === 50);
  assert.is(loud.length, 1);
  assert.match(loud[0]!.msg, /^ALERT NOT DELIVERED: webhook of rule [0-9a-f-]{36} failed 3 attempt\(s\) for WorkerWentOffline/);
  assert.equal((await metrics.deliveries.get()).values.map((v) => [v.labels.result, v.value]).sort(), [['delivered', 1], ['failed', 1]]);
});

test('a restart resumes after what was delivered: nothing twice; a worker filter matches its worker', async () => {
  await stopDispatcher();
  const before = received.length;
  startDispatcher();
  await call('DELETE', `/api/v1/alerts/${(await deliveries('?status=failed'))[0]!.ruleId}`);
  const { sequence } = await append(offline('w2', 20_000));
  await until('the w2 alerts recorded', async () => (await deliveries()).filter((d) => d.eventSequence === sequence).length === 2, 30_000, 250);
  const since = received.slice(before);
  assert.equal(since.map((r) => r.path).sort(), ['/flaky', '/flaky', '/w2']); // pager (fails first) and w2-only; the deleted rule got nothing
  assert.ok(since.every((r) => String(r.headers['idempotency-key']).endsWith(`:${sequence}`)), 'the first event was not posted again');
  assert.is((await deliveries()).length, 4);
});

test('deliveries: newest first, paged by `before`, filtered by rule; limit bounded', async () => {
  const page1 = await call('GET', '/api/v1/alerts/deliveries?limit=3');
  assert.is(page1.body.deliveries.length, 3);
  const page2 = await call('GET', `/api/v1/alerts/deliveries?limit=3&before=${page1.body.next}`);
  assert.is(page2.body.deliveries.length, 1);
  assert.is(page2.body.next, null);
  const ids = [...page1.body.deliveries, ...page2.body.deliveries].map((d: { deliveryId: number }) => d.deliveryId);
  assert.equal(ids, [...ids].sort((a, b) => b - a));
  assert.equal((await deliveries('?rule=w2-only')).map((d) => d.ruleId), ['w2-only']);
  assert.is((await call('GET', '/api/v1/alerts/deliveries?limit=0')).status, 400);
  assert.is((await call('GET', '/api/v1/alerts/deliveries?limit=5000')).status, 400);
  assert.is((await call('GET', '/api/v1/alerts/deliveries?status=lost')).status, 400);
});

test('delete: 204, then 404', async () => {
  assert.is((await call('DELETE', '/api/v1/alerts/w2-only')).status, 204);
  assert.is((await call('DELETE', '/api/v1/alerts/w2-only')).status, 404);
  assert.equal((await call('GET', '/api/v1/alerts')).body.rules.map((r: { id: string }) => r.id), ['pager']);
});

test.run();
