import { Ajv } from 'ajv';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { poolProjections } from '../../projectors/all.ts';
import { runProjections } from '../../projectors/runner.ts';
import { buildReadApi } from '../../read-api/server.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, pollFailed, sample, subjectOf, task } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { prng } from '../support/random.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;

const HOUR = 3_600_000;
/** a whole hour 5 to 6 hours ago: the data lie in [H, H + 2 h), inside the default last 24 hours */
const H = Math.floor((Date.now() - 5 * HOUR) / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const opened = (epochId: number, startedAtMs: number): PoolEvent => ({
  type: 'EpochOpened', version: 1, id: `${epochId}:opened`, data: { epochId, startedAtMs, endsAtMs: startedAtMs + HOUR },
});

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const rand = prng(8);
  const events: PoolEvent[] = [bound('w1', 1), bound('w2', 2), opened(1, H)];
  let tokens = 10_000;
  let request = 0;
  for (let at = H + 500; at < H + 2 * HOUR; at += 20_000) {
    if (at >= H + HOUR && !events.some((e) => e.type === 'EpochClosing')) events.push(closing(1, H + HOUR), opened(2, H + HOUR));
    if (rand() < 0.05) events.push(pollFailed('w1', at));
    else events.push(sample('w1', at, (tokens += Math.floor(rand() * 3_000))));
    if (at < H + HOUR) events.push(sample('w2', at + 1, 0));
    if (rand() < 0.3) {
      const t = task('w1', ++request, rand() < 0.75) as Extract<PoolEvent, { type: 'TaskCompleted' }>;
      events.push({ ...t, data: { ...t.data, loggedAtMs: at + 3_000, observedAtMs: at + 3_500 } });
    }
  }
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
  await runProjections(poolProjections({ pollIntervalMs: 20_000, maxTaskSeconds: 60 }), {
    store: nats.store, db: pg.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false,
  });
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
});
test.after(async () => {
  await api.close();
  await nats.stop();
  await pg.drop();
});

const get = async (url: string) => {
  const r = await api.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
};

interface Bucket { start: string; adjustedTokens: string; tasks: number; tasksSucceeded: number; successRate: number | null; uptimeSeconds: number; pollsOk: number; pollsFailed: number }
const total = (buckets: Bucket[]) => ({
  tokens: buckets.reduce((s, b) => s + BigInt(b.adjustedTokens), 0n),
  tasks: buckets.reduce((s, b) => s + b.tasks, 0),
  succeeded: buckets.reduce((s, b) => s + b.tasksSucceeded, 0),
  uptimeMs: buckets.reduce((s, b) => s + Math.round(b.uptimeSeconds * 1000), 0),
  pollsOk: buckets.reduce((s, b) => s + b.pollsOk, 0),
  pollsFailed: buckets.reduce((s, b) => s + b.pollsFailed, 0),
});

test('minute buckets: dense, ordered, and each epoch hour sums to the worker contribution of that epoch', async () => {
  const { status, body } = await get(`/api/v1/workers/w1/stats?from=${iso(H)}&to=${iso(H + 2 * HOUR)}&step=60`);
  assert.is(status, 200);
  assert.equal([body.workerId, body.from, body.to, body.step, body.buckets.length], ['w1', iso(H), iso(H + 2 * HOUR), 60, 120]);
  assert.equal(body.buckets.map((b: Bucket) => b.start), Array.from({ length: 120 }, (_, i) => iso(H + i * 60_000)));
  for (const b of body.buckets as Bucket[]) {
    assert.ok(b.uptimeSeconds <= 60, `${b.start}: ${b.uptimeSeconds} s of uptime in a minute`);
    assert.is(b.successRate, b.tasks ? b.tasksSucceeded / b.tasks : null);
  }
  const worker = (await get('/api/v1/workers/w1')).body;
  for (const c of worker.contributions as { epochId: number; adjustedTokens: string; tasks: number; tasksSucceeded: number; pollsOk: number; pollsFailed: number }[]) {
    const hour = total(body.buckets.slice((c.epochId - 1) * 60, c.epochId * 60));
    assert.equal(
      { tokens: hour.tokens, tasks: hour.tasks, succeeded: hour.succeeded, pollsOk: hour.pollsOk, pollsFailed: hour.pollsFailed },
      { tokens: BigInt(c.adjustedTokens), tasks: c.tasks, succeeded: c.tasksSucceeded, pollsOk: c.pollsOk, pollsFailed: c.pollsFailed },
      `epoch ${c.epochId}`,
    );
  }
  assert.ok(total(body.buckets).tokens > 0n && total(body.buckets).tasks > 0);
  assert.is(total(body.buckets).tokens, BigInt(worker.adjustedTokens));
});

test('hour buckets are the sums of their minutes; buckets without data are zeros', async () => {
  const minutes = (await get(`/api/v1/workers/w1/stats?from=${iso(H)}&to=${iso(H + 2 * HOUR)}&step=60`)).body.buckets as Bucket[];
  const { status, body } = await get(`/api/v1/workers/w1/stats?from=${iso(H - HOUR)}&to=${iso(H + 3 * HOUR)}&step=3600`);
  assert.is(status, 200);
  assert.equal(body.buckets.map((b: Bucket) => b.start), [iso(H - HOUR), iso(H), iso(H + HOUR), iso(H + 2 * HOUR)]);
  assert.equal(total([body.buckets[1]]), total(minutes.slice(0, 60)));
  assert.equal(total([body.buckets[2]]), total(minutes.slice(60)));
  const zero = { adjustedTokens: '0', tasks: 0, tasksSucceeded: 0, successRate: null, uptimeSeconds: 0, pollsOk: 0, pollsFailed: 0 };
  assert.equal(body.buckets[0], { start: iso(H - HOUR), ...zero });
  assert.equal(body.buckets[3], { start: iso(H + 2 * HOUR), ...zero });
  // w2 polled only in the first hour
  const w2 = (await get(`/api/v1/workers/w2/stats?from=${iso(H)}&to=${iso(H + 2 * HOUR)}&step=3600`)).body.buckets as Bucket[];
  assert.ok(w2[0]!.pollsOk > 100);
  assert.equal(w2[1], { start: iso(H + HOUR), ...zero });
});

test('bounds round outwards to the step; defaults: the last 24 hours, the shortest step giving at most 1000 buckets', async () => {
  const odd = (await get(`/api/v1/workers/w1/stats?from=${iso(H + 61_000)}&to=${iso(H + 299_000)}&step=60`)).body;
  assert.equal([odd.from, odd.to, odd.buckets.length], [iso(H + 60_000), iso(H + 300_000), 4]);

  const before = Date.now();
  const { status, body } = await get('/api/v1/workers/w1/stats');
  const after = Date.now();
  assert.is(status, 200);
  assert.is(body.step, 300); // 24 h of minutes would be 1440 buckets
  assert.ok(body.buckets.length === 288 || body.buckets.length === 289, String(body.buckets.length));
  assert.ok(Date.parse(body.to) >= before && Date.parse(body.to) < after + 300_000);
  assert.ok(Date.parse(body.from) <= before - 24 * HOUR && Date.parse(body.from) > before - 24 * HOUR - 600_000);
  assert.is(total(body.buckets).tokens, BigInt((await get('/api/v1/workers/w1')).body.adjustedTokens));

  const fromOnly = (await get(`/api/v1/workers/w1/stats?from=${iso(H)}`)).body;
  assert.is(fromOnly.step, 60); // about 5 to 6 hours: 300 to 360 minutes
  const week = (await get(`/api/v1/workers/w1/stats?from=${iso(H - 7 * 24 * HOUR)}&to=${iso(H)}`)).body;
  assert.equal([week.step, week.buckets.length], [3600, 168]);
  const long = await get('/api/v1/workers/w1/stats?from=2020-01-01T00:00:00Z&to=2022-09-27T00:00:00Z'); // exactly 1000 days
  assert.equal([long.status, long.body.step, long.body.buckets.length], [200, 86400, 1000]);
});

test('bad input: 400 naming the parameter; unknown worker 404', async () => {
  const cases: [string, string][] = [
    ['step=7', 'querystring/step'],
    ['step=60s', 'querystring/step'],
    [`step=60&from=${iso(H - 24 * HOUR)}&to=${iso(H)}`, 'querystring/step'], // 1440 buckets
    ['from=yesterday', 'querystring/from'],
    ['from=2026-01-01T00:00:00', 'querystring/from'], // no time zone
    ['to=2026-02-30T00:00:00Z', 'querystring/to'],
    [`from=${iso(H)}&to=${iso(H)}`, 'querystring/from'],
    [`from=${iso(H + HOUR)}&to=${iso(H)}`, 'querystring/from'],
    ['to=1969-12-31T00:00:00Z', 'querystring/to'],
    ['from=2020-01-01T00:00:00Z&to=2022-09-28T00:00:00Z', 'querystring/from'], // 1001 days even of 1 day
    ['bucket=60', 'querystring/bucket'],
  ];
  for (const [query, path] of cases) {
    const { status, body } = await get(`/api/v1/workers/w1/stats?${query}`);
    assert.is(status, 400, query);
    assert.is(body.error, 'bad_request', query);
    assert.is(body.path, path, `${query}: ${body.message}`);
  }
  const unknown = await get('/api/v1/workers/nope/stats');
  assert.equal([unknown.status, unknown.body.error], [404, 'not_found']);
  assert.is((await get('/api/v1/workers/a.b/stats')).status, 400);
});

test('the OpenAPI document describes the route; real answers validate against it', async () => {
  const doc = (await get('/api/v1/openapi.json')).body;
  const responses = doc.paths['/api/v1/workers/{id}/stats'].get.responses;
  const ajv = new Ajv({ strict: false });
  for (const [url, code] of [
    [`/api/v1/workers/w1/stats?from=${iso(H)}&to=${iso(H + 2 * HOUR)}&step=300`, '200'],
    ['/api/v1/workers/w2/stats', '200'],
    ['/api/v1/workers/nope/stats', '4XX'],
    ['/api/v1/workers/w1/stats?step=1', '4XX'],
  ] as const) {
    const answer = await get(url);
    assert.is(String(answer.status)[0], code[0], url);
    assert.ok(ajv.validate(responses[code].content['application/json'].schema, answer.body), `${url}: ${ajv.errorsText()}`);
  }
});

test.run();
