/**
 * GET /api/v1/events (Server-Sent Events) against a real nats-server and PostgreSQL: a real HTTP
 * client (node:http) reads the stream while events are appended; resume by Last-Event-ID, the
 * participant and type filters, the client bound, heartbeats, and app.close() ending open streams.
 */
import { Address } from '@ton/core';
import { sql } from 'kysely';
import http from 'node:http';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concernsParticipant, POOL_WIDE_EVENT_TYPES, PUBLIC_EVENT_TYPES } from '../../read-api/routes/events.ts';
import { buildReadApi } from '../../read-api/server.ts';
import { definitionOf, definitions, subjectFor, type EventType, type PoolEvent } from '../../schemas/catalog.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, participant, sample, task } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let base: string;
const MAX_CLIENTS = 3;

/** The event's own subject: its aggregate's, or `pool.<context>.distribution` when the data names none. */
const subjectOf = (e: PoolEvent) => {
  const def = definitionOf(e.type);
  return def.aggregateId ? subjectFor(e.type, def.aggregateId(e.data as never)) : `pool.${def.context}.distribution`;
};
const append = (...events: PoolEvent[]) => nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
const hash = (n: number) => n.toString(16).padStart(64, '0');
const claimed = (n: number, p: number): PoolEvent => ({
  type: 'RewardClaimed', version: 1, id: hash(n),
  data: { contract: participant(999), txHash: hash(n), lt: String(n), chainTime: 1_700_000_000, queryId: String(n), epochId: 1, index: p - 1, address: participant(p), amountNanoton: '1000' },
});
const offline = (workerId: string, atMs: number): PoolEvent => ({ type: 'WorkerWentOffline', version: 1, id: `offline:${workerId}:${atMs}`, data: { workerId, lastSeenAtMs: null, missedPolls: 3, atMs } });
const opened: PoolEvent = { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } };
const closing: PoolEvent = { type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 20_000 } };
const batchPaid = (n: number, p: number): PoolEvent => ({
  type: 'RewardBatchPaid', version: 1, id: hash(n),
  data: { contract: participant(999), txHash: hash(n), lt: String(n), chainTime: 1_700_000_000, queryId: String(n), epochId: 1, fromIndex: 0, count: 2, paidCount: 1, paidAmountNanoton: '5', payouts: [{ index: 0, address: participant(p), amountNanoton: '5' }] },
});

interface Message { id: string; event: string; data: { type: string; id: string; subject: string; sequence: number; data: Record<string, unknown> } }

/** An SSE client over node:http: the messages and comments seen so far, and waits on them. */
function connect(path: string, headers: Record<string, string> = {}) {
  const messages: Message[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  let status = 0;
  let body = '';
  let ended = false;
  const req = http.get(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers } });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  void response.then((res) => {
    status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      body += chunk;
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const i = line.indexOf(':');
            fields[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, '');
          }
        }
        if (fields.data !== undefined) messages.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) });
      }
      notify();
    });
    res.on('end', () => {
      ended = true;
      notify();
    });
    res.on('error', () => undefined);
  }, () => undefined);
  /** Resolves once `ok()` holds (checked on every chunk); rejects after `ms`. */
  const until = (ok: () => boolean, what: string, ms = 8000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.map((m) => [m.id, m.event]))} ${JSON.stringify(comments)} ${body.slice(0, 300)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    messages,
    comments,
    get status() { return status; },
    get ended() { return ended; },
    get body() { return body; },
    response,
    connected: () => until(() => comments.some((c) => c.startsWith('connected')), 'the connected comment'),
    count: (n: number) => until(() => messages.length >= n, `${n} messages`),
    end: () => until(() => ended, 'the end of the stream'),
    until,
    close: () => req.destroy(),
  };
}

/** A plain GET's status and JSON body. */
const getJson = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`${base}${path}`, { headers });
  return { status: r.status, body: (await r.json()) as Record<string, string> };
};

let seqOf: Map<string, number>;

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const before: PoolEvent[] = [bound('w1', 1), bound('w2', 2), opened, task('w1', 1)];
  const results = await append(...before);
  seqOf = new Map(before.map((e, i) => [e.id, results[i]!.sequence]));
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), store: nats.store, events: { maxClients: MAX_CLIENTS, heartbeatMs: 300 } });
  base = await api.listen({ host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await api.close();
  await nats.stop();
  await pg.drop();
});

test('concernsParticipant: the participant named in the data, in a batch payout, or through its workers', () => {
  const p1 = participant(1);
  const w = new Set(['w1']);
  assert.ok(concernsParticipant(bound('w1', 1), p1));
  assert.not.ok(concernsParticipant(bound('w2', 2), p1));
  assert.ok(concernsParticipant(claimed(1, 1), p1));
  assert.not.ok(concernsParticipant(claimed(1, 2), p1));
  assert.ok(concernsParticipant(batchPaid(1, 1), p1));
  assert.not.ok(concernsParticipant(batchPaid(1, 2), p1));
  assert.ok(concernsParticipant(offline('w1', 1), p1, w));
  assert.not.ok(concernsParticipant(offline('w2', 1), p1, w));
  assert.not.ok(concernsParticipant(offline('w1', 1), p1)); // no known workers
  assert.not.ok(concernsParticipant(opened, p1, w)); // pool-wide, not "concerning"
  const upper = { ...claimed(1, 1), data: { ...(claimed(1, 1).data as object), address: p1.toUpperCase().replace('0X', '0x') } } as PoolEvent;
  assert.ok(concernsParticipant(upper, p1));
  // the public and pool-wide lists name catalog types only, and pool-wide ones are public
  const catalog = new Set<string>(definitions.map((d) => d.type));
  for (const t of PUBLIC_EVENT_TYPES) assert.ok(catalog.has(t), t);
  for (const t of POOL_WIDE_EVENT_TYPES) assert.ok((PUBLIC_EVENT_TYPES as readonly EventType[]).includes(t), t);
  for (const t of ['OperatorMessageSigned', 'WorkerStatsSampled', 'TaskCompleted'] as const) assert.not.ok((PUBLIC_EVENT_TYPES as readonly string[]).includes(t), t);
});

let live: Message[] = [];

test('without Last-Event-ID: only events appended after connecting, the public ones, in order, id = stream sequence', async () => {
  const c = connect('/api/v1/events');
  await c.connected();
  assert.is(c.status, 200);
  assert.match(String((await c.response).headers['content-type']), /^text\/event-stream/);
  const events = [closing, claimed(1, 1), sample('w1', 5_000, 10), claimed(2, 2), offline('w1', 6_000)];
  const results = await append(...events);
  await c.count(4);
  c.close();
  live = c.messages.slice();
  assert.equal(live.map((m) => m.event), ['EpochClosing', 'RewardClaimed', 'RewardClaimed', 'WorkerWentOffline']);
  const published = [0, 1, 3, 4].map((i) => ({ seq: results[i]!.sequence, e: events[i]! }));
  assert.equal(live.map((m) => Number(m.id)), published.map((p) => p.seq));
  for (const [i, m] of live.entries()) {
    const { e, seq } = published[i]!;
    assert.equal({ type: m.data.type, id: m.data.id, subject: m.data.subject, sequence: m.data.sequence, data: m.data.data }, { type: e.type, id: e.id, subject: subjectOf(e), sequence: seq, data: e.data });
  }
});

test('Last-Event-ID resumes strictly after it; ?from=0 replays from the start', async () => {
  const again = connect('/api/v1/events', { 'last-event-id': live[1]!.id });
  await again.count(2);
  const beats = () => again.comments.filter((c) => c === 'heartbeat').length;
  const seen = beats();
  await again.until(() => beats() > seen, 'a heartbeat after the messages'); // then the list is checked whole
  again.close();
  assert.equal(again.messages.map((m) => m.id), [live[2]!.id, live[3]!.id]);
  // the header wins over ?from (an EventSource reconnects to the same URL)
  const both = connect(`/api/v1/events?from=0`, { 'last-event-id': live[2]!.id });
  await both.count(1);
  both.close();
  assert.is(both.messages[0]!.id, live[3]!.id);
  const replay = connect('/api/v1/events?from=0');
  await replay.count(7);
  replay.close();
  assert.equal(replay.messages.slice(0, 3).map((m) => [m.event, Number(m.id)]), [['WorkerBound', seqOf.get(bound('w1', 1).id)], ['WorkerBound', seqOf.get(bound('w2', 2).id)], ['EpochOpened', seqOf.get(opened.id)]]);
  assert.equal(replay.messages.slice(3).map((m) => m.id), live.map((m) => m.id)); // TaskCompleted and the sample are not public
});

test('?participant=: its own events (by address, payouts, its workers) and the pool-wide ones', async () => {
  const friendly = Address.parseRaw(participant(1)).toString({ bounceable: true });
  const c = connect(`/api/v1/events?participant=${friendly}&from=0`);
  await c.count(5);
  await append(batchPaid(10, 2), offline('w2', 7_000), batchPaid(11, 1));
  await c.count(6);
  c.close();
  assert.equal(c.messages.map((m) => [m.event, (m.data.data.address ?? m.data.data.participant ?? m.data.data.workerId ?? m.data.data.epochId) as string]), [
    ['WorkerBound', participant(1)],
    ['EpochOpened', 1],
    ['EpochClosing', 1],
    ['RewardClaimed', participant(1)],
    ['WorkerWentOffline', 'w1'],
    ['RewardBatchPaid', 1],
  ]);
  assert.is(c.messages[5]!.data.id, hash(11));
  // a worker bound before the stream starts is known from the read model (no WorkerBound replayed)
  await sql`insert into workers (worker_id, participant) values ('w9', ${participant(1)}), ('w8', ${participant(2)})`.execute(pg.db);
  const now = connect(`/api/v1/events?participant=${participant(1)}`);
  await now.connected();
  await append(offline('w8', 8_000), offline('w9', 8_000), claimed(12, 1));
  await now.count(2);
  now.close();
  assert.equal(now.messages.map((m) => [m.event, m.data.id]), [['WorkerWentOffline', 'offline:w9:8000'], ['RewardClaimed', hash(12)]]);
});

test('?types= filters; unknown or non-public types, bad Last-Event-ID or from are 400 naming the parameter', async () => {
  const c = connect('/api/v1/events?types=RewardClaimed,EpochOpened&from=0');
  await c.count(4);
  c.close();
  assert.equal(c.messages.map((m) => m.event), ['EpochOpened', 'RewardClaimed', 'RewardClaimed', 'RewardClaimed']);
  for (const [path, headers, at] of [
    ['/api/v1/events?types=TaskCompleted', {}, 'querystring/types'],
    ['/api/v1/events?types=Nope', {}, 'querystring/types'],
    ['/api/v1/events?types=', {}, 'querystring/types'],
    ['/api/v1/events', { 'last-event-id': 'abc' }, 'headers/last-event-id'],
    ['/api/v1/events', { 'last-event-id': '-1' }, 'headers/last-event-id'],
    ['/api/v1/events?from=1e3', {}, 'querystring/from'],
    ['/api/v1/events?participant=nope', {}, 'querystring/participant'],
    ['/api/v1/events?since=1', {}, 'querystring/since'],
  ] as const) {
    const r = await getJson(path, headers);
    assert.is(r.status, 400, `${path} ${JSON.stringify(headers)}`);
    assert.is(r.body.error, 'bad_request');
    assert.is(r.body.path, at, path);
  }
  const head = await fetch(`${base}/api/v1/events`, { method: 'HEAD' });
  assert.is(head.status, 405);
  assert.is(head.headers.get('allow'), 'GET');
});

test(`at most ${MAX_CLIENTS} streams at once: 503 beyond, a slot freed when a client leaves`, async () => {
  const clients = Array.from({ length: MAX_CLIENTS }, () => connect('/api/v1/events'));
  await Promise.all(clients.map((c) => c.connected()));
  const refused = await getJson('/api/v1/events');
  assert.is(refused.status, 503);
  assert.is(refused.body.error, 'unavailable');
  clients[0]!.close();
  // the server sees the disconnect asynchronously: retry every 300 ms until the slot is free
  let c = connect('/api/v1/events');
  for (let i = 0; i < 20; i++) {
    await c.response;
    if (c.status === 200) break;
    await new Promise((r) => setTimeout(r, 300));
    c = connect('/api/v1/events');
  }
  await c.connected();
  assert.is(c.status, 200);
  for (const x of [...clients, c]) x.close();
});

test('OpenAPI: the events route is described with its filters and a text/event-stream 200', async () => {
  const doc = (await getJson('/api/v1/openapi.json')) as unknown as { body: { paths: Record<string, { get: { parameters: { in: string; name: string }[]; responses: Record<string, { content: Record<string, unknown> }> } }> } };
  const op = doc.body.paths['/api/v1/events']!.get;
  assert.equal(Object.keys(op.responses['200']!.content), ['text/event-stream']);
  assert.equal(op.parameters.map((p) => `${p.in}:${p.name}`).sort(), ['header:last-event-id', 'query:from', 'query:participant', 'query:types']);
});

test('a client that does not read is dropped once its socket stays full, not buffered without limit', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const own = buildReadApi({ db: pg.db, logger, store: nats.store, events: { maxClients: 1, stallTimeoutMs: 500 } });
  const url = await own.listen({ host: '127.0.0.1', port: 0 });
  try {
    // a reader that takes the headers and then never reads again
    const stalled = http.get(`${url}/api/v1/events?types=PoolGovernanceChanged`);
    const res = await new Promise<http.IncomingMessage>((resolve) => stalled.on('response', resolve));
    res.pause();
    stalled.on('error', () => undefined);
    assert.is(res.statusCode, 200);
    assert.is((await fetch(`${url}/api/v1/events`)).status, 503); // it holds the one slot
    // rounds of ~4 MB of events for it until the socket buffers (the kernel's, sized by the machine) are full
    // and it is dropped: the slot frees (polled every 300 ms) and the server says why
    let status = 0;
    for (let round = 0; round < 4 && status !== 200; round++) {
      await append(...Array.from({ length: 100 }, (_, i): PoolEvent => {
        const n = 50_000 + round * 100 + i;
        return {
          type: 'PoolGovernanceChanged', version: 1, id: hash(n),
          data: { contract: participant(999), txHash: hash(n), lt: String(n), chainTime: 1_700_000_000, event: 'ParamsProposed', fields: { note: 'x'.repeat(40_000) } },
        };
      }));
      for (let i = 0; i < 8 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const probe = new AbortController();
        const r = await fetch(`${url}/api/v1/events`, { signal: probe.signal });
        status = r.status;
        probe.abort();
      }
    }
    assert.is(status, 200);
    assert.ok(lines.some((l) => l.includes('event stream client dropped') && l.includes('not drained within 500 ms')), lines.join(''));
    stalled.destroy();
  } finally {
    await own.close();
  }
});

test('app.close() ends the open streams and does not hang', async () => {
  const own = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), store: nats.store });
  const url = await own.listen({ host: '127.0.0.1', port: 0 });
  const saved = base;
  base = url;
  const a = connect('/api/v1/events');
  const b = connect('/api/v1/events?from=0');
  base = saved;
  await Promise.all([a.connected(), b.count(1)]);
  const closed = own.close().then(() => 'closed');
  const result = await Promise.race([closed, new Promise((r) => setTimeout(() => r('hung'), 5000))]);
  assert.is(result, 'closed');
  await Promise.all([a.end(), b.end()]);
  assert.ok(a.ended && b.ended);
});

test.run();
