/**
 * GET /api/v1/dead-letters over a real nats-server: the operator sees what was refused and why,
 * newest first, per source, paged; without the operator token the route is closed.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deadLettersApi } from '../../read-api/deadLetters.ts';
import { buildReadApi, type ReadApi } from '../../read-api/server.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

const TOKEN = 'dead-letters-test-token';
let nats: TestNats;
let pg: TestDb;
let api: ReadApi;

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const sink = deadLetterTo(nats.js);
  await sink({ source: 'poller', reason: 'jsonstats: not JSON', payload: '<html>', context: { workerId: 'w1' } });
  await sink({ source: 'tailer', reason: 'log line: unknown format', payload: 'x'.repeat(5000) });
  await sink({ source: 'poller', reason: 'jsonstats: tokens went down', payload: '{"tokens":1}', origin: { subject: 'pool.telemetry.w2', sequence: 17 } });
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  await api.register(deadLettersApi, { jsm: nats.jsm, operatorToken: TOKEN, operatorTokenEnv: 'POOL_OPERATOR_TOKEN' });
});
test.after(async () => {
  await api.close();
  await nats.stop();
  await pg.drop();
});

const get = async (url: string, token: string | null = TOKEN) => {
  const r = await api.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.statusCode, body: r.json() };
};

test('newest first, with reason, origin, context and a bounded preview; counts per source', async () => {
  const { status, body } = await get('/api/v1/dead-letters');
  assert.is(status, 200);
  assert.is(body.total, 3);
  assert.equal(body.bySource, { poller: 2, tailer: 1 });
  assert.equal(body.letters.map((l: { sequence: number; source: string }) => [l.sequence, l.source]), [[3, 'poller'], [2, 'tailer'], [1, 'poller']]);
  const [newest, long, first] = body.letters;
  assert.equal(newest.origin, { subject: 'pool.telemetry.w2', sequence: 17 });
  assert.is(newest.reason, 'jsonstats: tokens went down');
  assert.is(long.payloadBytes, 5000);
  assert.is(long.payloadPreview.length, 2048);
  assert.equal(first.context, { workerId: 'w1' });
  assert.is(first.payloadPreview, '<html>');
  assert.is(body.next, null);
});

test('filtered by source and paged with next', async () => {
  const page1 = (await get('/api/v1/dead-letters?source=poller&limit=1')).body;
  assert.equal(page1.letters.map((l: { sequence: number }) => l.sequence), [3]);
  const page2 = (await get(`/api/v1/dead-letters?source=poller&limit=1&before=${page1.next}`)).body;
  assert.equal(page2.letters.map((l: { sequence: number }) => l.sequence), [1]);
  assert.is(page2.next, null);
  assert.is((await get('/api/v1/dead-letters?limit=0')).status, 400);
  assert.is((await get('/api/v1/dead-letters?source=a.b')).status, 400);
});

test('the operator token is required; without one configured the route is closed', async () => {
  assert.is((await get('/api/v1/dead-letters', null)).status, 401);
  assert.is((await get('/api/v1/dead-letters', 'wrong')).status, 401);
  const closed = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  await closed.register(deadLettersApi, { jsm: nats.jsm, operatorToken: null, operatorTokenEnv: 'POOL_OPERATOR_TOKEN' });
  const r = await closed.inject({ method: 'GET', url: '/api/v1/dead-letters', headers: { authorization: `Bearer ${TOKEN}` } });
  await closed.close();
  assert.is(r.statusCode, 503);
  assert.match(r.json().message, 'POOL_OPERATOR_TOKEN');
});

test.run();
