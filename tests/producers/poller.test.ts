/**
 * The poller against real HTTP servers: a worker dripping its reply a byte every 200 ms must not
 * hold up another worker's polls and must be cut at the poll's total deadline; an oversized body
 * is refused with a reason. Counts of polls that must happen, never durations.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EmulatedWorker } from '../../emulator/worker.ts';
import { pollWorker, runPoller } from '../../producers/cocoon/poller.ts';
import { sleep } from '../../runtime/sleep.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let dir: string;
const logger = pino({ level: 'silent' });
test.before(async () => {
  nats = await startTestNats();
  dir = mkdtempSync(join(tmpdir(), 'pool-poller-'));
});
test.after(async () => {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function telemetry(): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const b of nats.store.read({ types: ['WorkerStatsSampled', 'WorkerPollFailed'] })) out.push(...b.events);
  return out;
}

/** Waits (bounded) until `check` holds on the stored telemetry; returns that telemetry. */
async function waitFor(what: string, check: (events: RecordedEvent[]) => boolean, limitMs = 60_000): Promise<RecordedEvent[]> {
  const until = Date.now() + limitMs;
  for (;;) {
    const events = await telemetry();
    if (check(events)) return events;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** An HTTP/1.0 server that answers 200 with a Content-Length it never reaches: one byte every 200 ms, forever. */
async function startDripServer(): Promise<{ url: string; server: TcpServer; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write('HTTP/1.0 200 ok\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n\n');
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('{')), 200);
      socket.on('close', () => {
        clearInterval(drip);
        sockets.delete(socket);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, sockets };
}

test('a slow-drip worker does not delay another worker, and its polls fail at the deadline', async () => {
  const fast = new EmulatedWorker({ port: 0, seed: 3, logFile: join(dir, 'fast.log'), requestsPerSecond: 0 });
  await fast.start();
  const drip = await startDripServer();
  const ctl = new AbortController();
  const poller = runPoller({
    workers: [{ id: 'drip', url: drip.url }, { id: 'fast', url: fast.url }],
    intervalMs: 100,
    deadlineMs: 1500,
    store: nats.store,
    deadLetter: deadLetterTo(nats.js),
    logger,
    signal: ctl.signal,
  });
  type Failed = Extract<RecordedEvent, { type: 'WorkerPollFailed' }>;
  const dripFailures = (events: RecordedEvent[]) => events.filter((e): e is Failed => e.type === 'WorkerPollFailed' && e.data.workerId === 'drip');
  const events = await waitFor('three failed polls of the dripping worker', (ev) => dripFailures(ev).length >= 3);
  ctl.abort();
  await poller;
  for (const s of drip.sockets) s.destroy();
  drip.server.close();
  await fast.stop();

  const failures = dripFailures(events);
  for (const f of failures) {
    assert.is(f.data.kind, 'timeout');
    assert.match(f.data.reason, /^deadline: no complete reply within 1500 ms \(\d+ body bytes received\)$/);
  }
  assert.not.ok(events.some((e) => e.type === 'WorkerStatsSampled' && e.data.workerId === 'drip'));
  // between the drip worker's first and third miss (two whole deadlines, one after the other) the
  // fast worker, polled every 100 ms, is polled about 30 times; a poller that waits for the slowest
  // worker would manage 2. At least 6 leaves a wide margin for a loaded machine.
  const from = failures[0]!.data.observedAtMs, to = failures[2]!.data.observedAtMs;
  const fastSamples = events.filter((e) => e.type === 'WorkerStatsSampled' && e.data.workerId === 'fast' && e.data.observedAtMs > from && e.data.observedAtMs < to);
  assert.ok(fastSamples.length >= 6, `fast worker sampled ${fastSamples.length} times while the slow one dripped`);
  assert.not.ok(events.some((e) => e.type === 'WorkerPollFailed' && e.data.workerId === 'fast'), 'the fast worker never missed');
});

async function startHttp(handler: Parameters<typeof createHttpServer>[1]): Promise<{ url: string; server: HttpServer }> {
  const server = createHttpServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

test('an oversized body is refused with a reason, declared or streamed', async () => {
  const declared = await startHttp((_q, s) => {
    s.writeHead(200, { 'Content-Length': String(2 * 1024 * 1024) });
    s.end('x'.repeat(2 * 1024 * 1024));
  });
  const streamed = await startHttp((_q, s) => {
    s.writeHead(200); // chunked, no Content-Length: the cap counts bytes as they come
    const piece = 'y'.repeat(64 * 1024);
    let n = 0;
    const more = () => {
      while (n++ < 40) if (!s.write(piece)) return s.once('drain', more);
      s.end();
    };
    s.on('error', () => {});
    more();
  });
  const dlq = deadLetterTo(nats.js);
  const a = await pollWorker({ id: 'big1', url: declared.url }, 10_000, dlq);
  const b = await pollWorker({ id: 'big2', url: streamed.url }, 10_000, dlq, 256 * 1024);
  declared.server.close();
  streamed.server.close();
  if (a.type !== 'WorkerPollFailed' || b.type !== 'WorkerPollFailed') throw new Error(`expected failures, got ${a.type}, ${b.type}`);
  assert.is(a.data.kind, 'http');
  assert.is(a.data.reason, 'body too large: Content-Length 2097152 exceeds the 1048576-byte cap');
  assert.is(b.data.kind, 'http');
  assert.is(b.data.reason, 'body too large: more than 262144 bytes (the cap)');
});

test("an emulated worker's reply (HTTP/1.0, Connection: Close, leading newline) within the cap is sampled", async () => {
  const fast = new EmulatedWorker({ port: 0, seed: 5, logFile: join(dir, 'ok.log'), requestsPerSecond: 0 });
  await fast.start();
  const event = await pollWorker({ id: 'ok', url: fast.url }, 5000, deadLetterTo(nats.js));
  await fast.stop();
  assert.is(event.type, 'WorkerStatsSampled');
});

test('at most maxInFlight polls are open at once, every worker still gets its turn, and polls that end together are appended together', async () => {
  // one real /jsonstats body, served by a server that counts its open requests and answers each after 500 ms
  const real = new EmulatedWorker({ port: 0, seed: 9, logFile: join(dir, 'many.log'), requestsPerSecond: 0 });
  await real.start();
  const body = await (await fetch(`${real.url}/jsonstats`)).text();
  await real.stop();
  let open = 0;
  let mostOpen = 0;
  const slow = await startHttp((_q, s) => {
    mostOpen = Math.max(mostOpen, ++open);
    setTimeout(() => {
      open--;
      s.end(body);
    }, 500);
  });
  // the store's commits take 300 ms, so the polls that end meanwhile wait and go in the next one
  const commits: number[] = [];
  const store = Object.create(nats.store) as typeof nats.store;
  store.appendMany = async (items) => {
    commits.push(items.length);
    await sleep(300);
    return nats.store.appendMany(items);
  };
  const workers = Array.from({ length: 40 }, (_, i) => ({ id: `many${i}`, url: `${slow.url}/w${i}` }));
  const ctl = new AbortController();
  const poller = runPoller({ workers, intervalMs: 60_000, maxInFlight: 5, store, deadLetter: deadLetterTo(nats.js), logger, signal: ctl.signal });
  const sampled = (ev: RecordedEvent[]) => new Set(ev.flatMap((e) => (e.type === 'WorkerStatsSampled' && e.data.workerId.startsWith('many') ? [e.data.workerId] : [])));
  await waitFor('every one of the 40 workers sampled', (ev) => sampled(ev).size === 40);
  ctl.abort();
  await poller;
  slow.server.close();
  assert.ok(mostOpen <= 5, `${mostOpen} polls were open at once`);
  assert.is(mostOpen, 5, 'the bound is used, not just respected (40 polls of 500 ms begin within 1 s)');
  assert.is(commits.reduce((a, b) => a + b, 0), 40, 'each poll appended once');
  assert.ok(commits.some((n) => n > 1), `commits of ${commits.join(', ')} events: polls that ended during a commit went together`);
});

test.run();
