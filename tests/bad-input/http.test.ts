/**
 * Bad input at the HTTP boundary: hostile requests against the real read API (listening on a real
 * socket) over a real PostgreSQL read model. Each case must be refused with its exact 4xx and the
 * one error shape `{ error, message[, path] }`; the read model is unchanged; a 5xx comes only from
 * a real server fault and is logged at error with the request id.
 */
import { Address } from '@ton/core';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../db/connect.ts';
import { buildReadApi, INT4_MAX } from '../../read-api/server.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { participant } from '../support/events.ts';
import { createTestDatabase } from '../support/postgres.ts';

let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let port: number;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

/** One HTTP/1.1 request over a fresh socket (node:http, so GET may carry a body and any method works). */
function send(method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string>; toPort?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: options.toPort ?? port, method, path, headers: { connection: 'close', ...options.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = { unparsable: text };
        }
        resolve({ status: res.statusCode!, headers: res.headers, body, text });
      });
    });
    // the server may answer (413) and close before the whole body is written
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Asserts the one error shape: exactly `{ error, message }` (+ `path` when given), JSON. */
function assertError(a: Answer, status: number, error: string, expect: { path?: string; message?: RegExp } = {}) {
  assert.is(a.status, status, `${status} expected, got ${a.status}: ${a.text.slice(0, 300)}`);
  assert.ok(!('statusCode' in a.body), a.text);
  assert.match(String(a.headers['content-type']), /^application\/json/);
  assert.equal(Object.keys(a.body).sort(), expect.path ? ['error', 'message', 'path'] : ['error', 'message']);
  assert.is(a.body.error, error);
  assert.type(a.body.message, 'string');
  if (expect.path) assert.is(a.body.path, expect.path);
  if (expect.message) assert.match(String(a.body.message), expect.message, a.text);
}

const friendly = (raw: string) => Address.parseRaw(raw).toString({ bounceable: false });
const unknownAddress = participant(77);

test.before(async () => {
  pg = await createMigratedDatabase();
  await pg.db.insertInto('epochs').values([
    { epoch_id: 1, status: 'settled', revenue_nanoton: '1000', batches_planned: 1, batches_confirmed: 1, payouts_confirmed: 1, paid_nanoton: '900' },
    { epoch_id: 2, status: 'open', revenue_nanoton: '0', batches_planned: 0, batches_confirmed: 0, payouts_confirmed: 0, paid_nanoton: '0' },
  ]).execute();
  await pg.db.insertInto('workers').values({ worker_id: 'w1', participant: participant(1), status: 'online', health_reasons: JSON.stringify([]) as never, consecutive_failures: 0, polls_ok: 1, polls_failed: 0, uptime_ms: 0, restarts: 0, adjusted_tokens: '5', anomalies: 0, anomalous: false }).execute();
  await pg.db.insertInto('rewards').values([
    { epoch_id: 1, leaf_index: 0, participant: participant(1), amount_nanoton: '900', score_ppb: 1, status: 'paid', method: 'batch', batch: 0 },
  ]).execute();
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  await api.listen({ host: '127.0.0.1', port: 0 });
  port = (api.server.address() as AddressInfo).port;
});
test.after(async () => {
  await api.close();
  await pg.drop();
});

test('epoch ids: only decimal 1..2147483647 (the int4 column) reach the database', async () => {
  for (const id of ['4294967295', String(INT4_MAX + 1), '99999999999999999999']) {
    assertError(await send('GET', `/api/v1/epochs/${id}`), 400, 'bad_request', { path: 'params/id', message: /1\.\.2147483647/ });
  }
  for (const id of ['Infinity', '-Infinity', 'NaN', '-1', '0', '1.5', '1e3', '0x10', 'abc', '%201', '1%20', '+1']) {
    const a = await send('GET', `/api/v1/epochs/${id}`);
    assertError(a, 400, 'bad_request', { path: 'params/id' });
  }
  assertError(await send('GET', '/api/v1/epochs/'), 400, 'bad_request', { path: 'params/id', message: /got ""/ });
  assertError(await send('GET', '/api/v1/epochs/0'), 400, 'bad_request', { path: 'params/id', message: /got "0"/ });
  assertError(await send('GET', `/api/v1/epochs/${INT4_MAX}`), 404, 'not_found', { message: /no epoch 2147483647/ });
  assertError(await send('GET', `/api/v1/epochs/Infinity/proofs/${participant(1)}`), 400, 'bad_request', { path: 'params/id' });
  assertError(await send('GET', `/api/v1/epochs/4294967295/proofs/${participant(1)}`), 400, 'bad_request', { path: 'params/id' });
  assert.is((await send('GET', '/api/v1/epochs/1')).status, 200);
});

test('addresses: refused with the reason, a well-formed unknown one is a 404 resource or an empty list', async () => {
  const hex = 'ab'.repeat(32);
  const cases: [string, RegExp][] = [
    ['not-an-address', /not a TON address/],
    [`5:${hex}`, /workchain 5/],
    [`99999999999999999999:${hex}`, /workchain 99999999999999999999/],
    [`0:${hex.slice(2)}`, /64 hex digits/],
    [`0:${hex}zz`, /not a TON address/],
    ['EQ' + 'A'.repeat(46), /checksum/i],
    [Address.parseRaw(`5:${hex}`).toString(), /workchain 5/],
    [encodeURIComponent(` ${participant(1)}`), /not a TON address/],
  ];
  for (const [address, reason] of cases) {
    assertError(await send('GET', `/api/v1/participants/${address}`), 400, 'bad_request', { path: 'params/address', message: reason });
    assertError(await send('GET', `/api/v1/payouts?address=${address}`), 400, 'bad_request', { path: 'querystring/address', message: reason });
    assertError(await send('GET', `/api/v1/epochs/1/proofs/${address}`), 400, 'bad_request', { path: 'params/address', message: reason });
  }
  assertError(await send('GET', `/api/v1/participants/${'a'.repeat(101)}`), 400, 'bad_request', { path: 'params/address' });
  assertError(await send('GET', `/api/v1/participants/${'a'.repeat(5000)}`), 400, 'bad_request', { path: 'params/address' });

  // the rule: a resource that does not exist is 404; a filtered list that matches nothing is 200 []
  assertError(await send('GET', `/api/v1/participants/${unknownAddress}`), 404, 'not_found', { message: /no participant/ });
  assertError(await send('GET', `/api/v1/participants/${friendly(unknownAddress)}`), 404, 'not_found');
  assertError(await send('GET', `/api/v1/epochs/1/proofs/${unknownAddress}`), 404, 'not_found');
  assertError(await send('GET', `/api/v1/epochs/99/proofs/${participant(1)}`), 404, 'not_found', { message: /no epoch 99/ });
  const empty = await send('GET', `/api/v1/payouts?address=${unknownAddress}`);
  assert.is(empty.status, 200);
  assert.equal(empty.body, { address: unknownAddress, payouts: [], next: null });
  const known = await send('GET', `/api/v1/payouts?address=${friendly(participant(1))}`);
  assert.equal((known.body.payouts as { amountNanoton: string }[]).map((p) => p.amountNanoton), ['900']);
  assert.is((await send('GET', `/api/v1/participants/${participant(1)}`)).status, 200);
});

test('query strings: unknown, repeated and out-of-range parameters are 400 naming the parameter', async () => {
  const a = participant(1);
  assertError(await send('GET', `/api/v1/payouts?address=${a}&foo=1`), 400, 'bad_request', { path: 'querystring/foo', message: /not a known parameter/ });
  assertError(await send('GET', '/api/v1/epochs?sort=desc'), 400, 'bad_request', { path: 'querystring/sort' });
  assertError(await send('GET', '/api/v1/workers/w1?x=1'), 400, 'bad_request', { path: 'querystring/x' });
  assertError(await send('GET', '/healthz?verbose=1'), 400, 'bad_request', { path: 'querystring/verbose' });
  // the address of /payouts is optional (the pool's payouts); its status and cursor have their rules
  assert.is((await send('GET', '/api/v1/payouts')).status, 200);
  assertError(await send('GET', '/api/v1/payouts?status=lost'), 400, 'bad_request', { path: 'querystring/status', message: /must be pending or paid/ });
  for (const cursor of ['1', '1:', '0:0', 'a:1', '1:99999999999']) assertError(await send('GET', `/api/v1/payouts?cursor=${cursor}`), 400, 'bad_request', { path: 'querystring/cursor' });
  assertError(await send('GET', `/api/v1/payouts?address=${a}&address=${a}`), 400, 'bad_request', { path: 'querystring/address' });
  for (const limit of ['0', '1001', '-1', 'abc', '1e2', 'Infinity', '99999999999']) {
    assertError(await send('GET', `/api/v1/epochs?limit=${limit}`), 400, 'bad_request', { path: 'querystring/limit' });
    assertError(await send('GET', `/api/v1/workers?limit=${limit}`), 400, 'bad_request', { path: 'querystring/limit' });
    assertError(await send('GET', `/api/v1/payouts?address=${a}&limit=${limit}`), 400, 'bad_request', { path: 'querystring/limit' });
  }
  for (const epoch of ['Infinity', '4294967295', '0', '-5']) {
    assertError(await send('GET', `/api/v1/payouts?address=${a}&epoch=${epoch}`), 400, 'bad_request', { path: 'querystring/epoch' });
    assertError(await send('GET', `/api/v1/epochs?before=${epoch}`), 400, 'bad_request', { path: 'querystring/before' });
  }
  assertError(await send('GET', '/api/v1/workers?after=a.b'), 400, 'bad_request', { path: 'querystring/after' });
  // in range: bounded lists page with limit and a cursor
  const first = await send('GET', '/api/v1/epochs?limit=1');
  assert.equal((first.body.epochs as { id: number }[]).map((e) => e.id), [2]);
  const next = await send('GET', '/api/v1/epochs?limit=1000&before=2');
  assert.equal((next.body.epochs as { id: number }[]).map((e) => e.id), [1]);
  assert.equal(((await send('GET', '/api/v1/workers?after=w1')).body.workers as unknown[]).length, 0);
  assert.equal(((await send('GET', `/api/v1/payouts?address=${a}&epoch=2`)).body.payouts as unknown[]).length, 0);
});

test('unknown routes are 404 and known paths with another method are 405, in the same shape', async () => {
  for (const path of ['/', '/nope', '/api/v1', '/api/v1/nope', '/api/v2/epochs', '/api/v1/epochs/1/nope', '/api/v1/epochs/1/proofs']) {
    assertError(await send('GET', path), 404, 'not_found', { message: /no route GET/ });
  }
  for (const [method, path] of [['POST', '/api/v1/epochs'], ['DELETE', '/api/v1/epochs/1'], ['PUT', '/healthz'], ['PATCH', `/api/v1/participants/${participant(1)}`], ['OPTIONS', '/api/v1/workers']]) {
    const a = await send(method!, path!);
    assertError(a, 405, 'method_not_allowed');
    assert.is(a.headers.allow, 'GET, HEAD');
  }
  assertError(await send('POST', '/nope'), 404, 'not_found');
  assert.is((await send('HEAD', '/api/v1/epochs')).status, 200);
});

test('bodies: no route takes one; a 5 MB body is 413, a small bad one changes nothing', async () => {
  const big = Buffer.alloc(5 * 1024 * 1024, 'a');
  for (const [method, path] of [['POST', '/api/v1/epochs'], ['PUT', '/api/v1/epochs/1'], ['POST', '/nope'], ['GET', '/api/v1/epochs']]) {
    const a = await send(method!, path!, { body: big, headers: { 'content-type': 'application/json', 'content-length': String(big.length) } });
    assertError(a, 413, 'payload_too_large');
  }
  const chunked = await send('POST', '/api/v1/epochs', { body: big, headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } });
  assertError(chunked, 405, 'method_not_allowed'); // no length announced: refused by its method, the body is never read
  assertError(await send('POST', '/api/v1/epochs', { body: '{"epoch_id":', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', { message: /not valid JSON/ });
  // a small body on a GET has no meaning and is not read: the answer is the list
  assert.is((await send('GET', '/api/v1/epochs', { body: '{"epoch_id":', headers: { 'content-type': 'application/json', 'content-length': '12' } })).status, 200);
  // the read model is what the test wrote
  assert.equal((await pg.db.selectFrom('epochs').select('epoch_id').orderBy('epoch_id').execute()).map((r) => r.epoch_id), [1, 2]);
});

test('malformed HTTP and oversized headers get the same shape from the socket layer', async () => {
  const a = await send('GET', '/api/v1/epochs', { headers: { 'x-big': 'a'.repeat(20_000) } });
  assertError(a, 431, 'headers_too_large');
});

test('a real fault is 500 with the request id, logged at error with the same id', async () => {
  const lines: { level: number; reqId?: string; msg: string }[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
  // a database without the read-model tables: every query fails inside the server
  const empty = await createTestDatabase();
  const broken = await openDatabase({ url: empty.url, maxConnections: 1 });
  const faulty = buildReadApi({ db: broken.db, logger: pino({ level: 'info' }, sink) });
  await faulty.listen({ host: '127.0.0.1', port: 0 });
  try {
    const a = await send('GET', '/api/v1/epochs/1', { toPort: (faulty.server.address() as AddressInfo).port });
    assertError(a, 500, 'internal', { message: /request req-/ });
    const reqId = /request (req-[^)]+)/.exec(String(a.body.message))![1];
    const logged = lines.filter((l) => l.level === 50);
    assert.is(logged.length, 1);
    assert.is(logged[0]!.reqId, reqId);
    // a bad request is the client's: no error log
    assertError(await send('GET', '/api/v1/epochs/Infinity', { toPort: (faulty.server.address() as AddressInfo).port }), 400, 'bad_request', { path: 'params/id' });
    assert.is(lines.filter((l) => l.level === 50).length, 1);
  } finally {
    await faulty.close();
    await broken.close();
    await empty.drop();
  }
});

test.run();
