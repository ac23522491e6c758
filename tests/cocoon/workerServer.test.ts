/**
 * Many emulated workers behind one server (issue 12): each at `<server>/<id>`, byte-for-byte the
 * reply of a worker on its own port, reached by the poller through its configured URL; an offline
 * worker's connections are reset while the others serve; the shared timer drives every worker;
 * the shared LogWriter writes every worker's log, batched, and loses nothing on stop.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseJsonStats } from '../../producers/cocoon/jsonstats.ts';
import { parseTaskCompletedLine } from '../../producers/cocoon/logLine.ts';
import { pollWorker, workerUrl } from '../../producers/cocoon/poller.ts';
import { emulatedRequestRate, MAX_TOTAL_REQUESTS_PER_SECOND } from '../../emulator/pool.ts';
import { EmulatedWorker } from '../../emulator/worker.ts';
import { WorkerServer } from '../../emulator/workerServer.ts';
import { until } from '../support/until.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cocoon-emu-server-'));
const OWNER_A = '0:' + 'aa'.repeat(32);
const OWNER_B = '0:' + 'bb'.repeat(32);
const noDeadLetter = async () => assert.unreachable('nothing to dead-letter');

/** One raw HTTP/1.0 exchange: the whole reply as text, or the socket error code. */
function raw(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => reject(e));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function rejection(fn: () => Promise<unknown>): Promise<string> {
  return fn().then(() => 'resolved', (e: Error) => e.message);
}

const completedLines = (path: string) =>
  [`${path}.1`, path].filter(existsSync).flatMap((f) => readFileSync(f, 'utf8').split('\n')).map(parseTaskCompletedLine).filter((l) => l !== null);

test('the emulated workers of one process simulate at most MAX_TOTAL_REQUESTS_PER_SECOND together: past it each runs slower', () => {
  assert.is(emulatedRequestRate(2, 100), 2);
  assert.is(emulatedRequestRate(2, MAX_TOTAL_REQUESTS_PER_SECOND / 2), 2, 'exactly at the bound');
  assert.is(emulatedRequestRate(2, 10_000), MAX_TOTAL_REQUESTS_PER_SECOND / 10_000);
  assert.is(emulatedRequestRate(0, 100_000), 0);
});

test('workerUrl joins below the configured path; a plain worker URL is unchanged', () => {
  assert.is(workerUrl('http://127.0.0.1:12000', 'jsonstats').href, 'http://127.0.0.1:12000/jsonstats');
  assert.is(workerUrl('http://127.0.0.1:12000/w17', 'jsonstats').href, 'http://127.0.0.1:12000/w17/jsonstats');
  assert.is(workerUrl('http://127.0.0.1:12000/w17/', 'jsonstats').href, 'http://127.0.0.1:12000/w17/jsonstats');
});

test('two workers on one port: own /jsonstats each, the bytes of an own port, unknown id → 400 not found; offline resets only its own', async () => {
  const server = new WorkerServer({ port: 0, tickMs: 1000 });
  await server.start();
  const a = new EmulatedWorker({ mount: { server, id: 'w0' }, seed: 5, logFile: join(tmp, 'a.log'), requestsPerSecond: 0, ownerAddress: OWNER_A });
  const b = new EmulatedWorker({ mount: { server, id: 'w1' }, seed: 6, logFile: join(tmp, 'b.log'), requestsPerSecond: 0, ownerAddress: OWNER_B });
  const alone = new EmulatedWorker({ port: 0, seed: 5, logFile: join(tmp, 'alone.log'), requestsPerSecond: 0, ownerAddress: OWNER_A });
  await Promise.all([a.start(), b.start(), alone.start()]);
  try {
    assert.is(a.url, `http://127.0.0.1:${server.port}/w0`);
    assert.is(a.port, server.port);
    a.completeRequests(4);
    alone.completeRequests(4);
    b.completeRequests(1);
    const sa = parseJsonStats((await raw(server.port, '/w0/jsonstats')).split('\r\n\r\n')[1]!);
    const sb = parseJsonStats((await raw(server.port, '/w1/jsonstats')).split('\r\n\r\n')[1]!);
    assert.equal([sa.localConfig.ownerAddress, sa.totals.queries], [OWNER_A, 4]);
    assert.equal([sb.localConfig.ownerAddress, sb.totals.queries], [OWNER_B, 1]);
    // same seed, same requests: the mounted worker's reply has the head of the one on its own port
    const [mounted, own] = [await raw(server.port, '/w0/perf'), await raw(alone.port, '/perf')];
    assert.is(mounted, own);
    assert.is((await raw(server.port, '/w0/nope')).split('\r\n')[0], 'HTTP/1.0 400 not found');
    assert.is((await raw(server.port, '/w9/jsonstats')).split('\r\n')[0], 'HTTP/1.0 400 not found');
    assert.is((await raw(server.port, '/w0')).split('\r\n')[0], 'HTTP/1.0 400 not found');

    // the poller reaches each by its configured URL
    const polled = await pollWorker({ id: 'w1', url: b.url }, 2000, noDeadLetter);
    assert.is(polled.type, 'WorkerStatsSampled');
    if (polled.type === 'WorkerStatsSampled') assert.is(polled.data.ownerAddress, OWNER_B);

    await a.inject({ kind: 'offline', seconds: 60 });
    const code = await raw(server.port, '/w0/jsonstats').then(() => 'answered', (e: NodeJS.ErrnoException) => e.code);
    assert.is(code, 'ECONNRESET');
    const miss = await pollWorker({ id: 'w0', url: a.url }, 2000, noDeadLetter);
    assert.equal([miss.type, miss.type === 'WorkerPollFailed' && miss.data.kind], ['WorkerPollFailed', 'connect']);
    assert.equal(a.completeRequests(2), [], 'no work while offline');
    assert.is(parseJsonStats((await raw(server.port, '/w1/jsonstats')).split('\r\n\r\n')[1]!).totals.queries, 1, 'the other worker still serves');
  } finally {
    await Promise.all([a.stop(), b.stop(), alone.stop()]);
    await server.stop();
  }
  assert.is((await raw(server.port, '/w1/jsonstats').catch((e: NodeJS.ErrnoException) => e.code)), 'ECONNREFUSED', 'stop closes the port');
});

test('the shared timer drives every worker; the shared writer writes every log, in order, nothing lost at stop', async () => {
  const server = new WorkerServer({ port: 0, tickMs: 20, logs: { flushMs: 50 } });
  await server.start();
  const workers = Array.from({ length: 50 }, (_, i) => new EmulatedWorker({ mount: { server, id: `w${i}` }, seed: i, logFile: join(tmp, 'many', `w${i}.log`), requestsPerSecond: 200, logRotateBytes: 64 * 1024 }));
  const done = new Map<number, string[]>();
  workers.forEach((w, i) => w.onRequestCompleted((r) => done.set(i, [...(done.get(i) ?? []), r.requestId])));
  await Promise.all(workers.map((w) => w.start()));
  assert.is(server.size, 50);
  await until('every worker completed requests', async () => (done.size === 50 && [...done.values()].every((ids) => ids.length >= 20) ? true : undefined), 30_000, 250);
  for (const w of workers) await w.stop();
  await server.stop();
  assert.is(server.size, 0);
  workers.forEach((_, i) => {
    const logged = completedLines(join(tmp, 'many', `w${i}.log`)).map((l) => l.requestId);
    assert.equal(logged, done.get(i), `worker ${i}: its log holds exactly its completed requests, in order`);
  });
});

test('a mount id must be URL-safe and free', async () => {
  const server = new WorkerServer({ port: 0 });
  const w = new EmulatedWorker({ mount: { server, id: 'w/1' }, seed: 1, logFile: join(tmp, 'bad.log') });
  assert.match(await rejection(() => w.start()), /not URL-safe/);
  const x = new EmulatedWorker({ mount: { server, id: 'x' }, seed: 1, logFile: join(tmp, 'x.log') });
  const y = new EmulatedWorker({ mount: { server, id: 'x' }, seed: 2, logFile: join(tmp, 'y.log') });
  await x.start();
  assert.match(await rejection(() => y.start()), /mounted already/);
  await x.stop();
  assert.throws(() => new EmulatedWorker({ seed: 1, logFile: join(tmp, 'z.log') }), /needs a port or a mount/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
