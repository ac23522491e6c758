import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EmulatedWorker } from '../../emulator/worker.ts';
import { HEAD_BYTES, readTailerCursor, runLogTailer, type TailerCursor } from '../../producers/cocoon/logTailer.ts';
import { pollWorker, runPoller } from '../../producers/cocoon/poller.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { DLQ_STREAM } from '../../streams/topology.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let dir: string;
const logger = pino({ level: 'silent' });
test.before(async () => {
  nats = await startTestNats();
  dir = mkdtempSync(join(tmpdir(), 'pool-producers-'));
});
test.after(async () => {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function all(types: RecordedEvent['type'][]): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const b of nats.store.read({ types })) out.push(...b.events);
  return out;
}

test('the poller turns good replies into WorkerStatsSampled and misses into WorkerPollFailed', async () => {
  const w = new EmulatedWorker({ port: 0, seed: 7, logFile: join(dir, 'p.log'), requestsPerSecond: 50, tickMs: 20 });
  await w.start();
  const ctl = new AbortController();
  const poller = runPoller({ workers: [{ id: 'p1', url: w.url }, { id: 'p2', url: 'http://127.0.0.1:1' }], intervalMs: 200, store: nats.store, deadLetter: deadLetterTo(nats.js), logger, signal: ctl.signal });
  await new Promise((r) => setTimeout(r, 900));
  ctl.abort();
  await poller;
  await w.stop();
  const events = await all(['WorkerStatsSampled', 'WorkerPollFailed']);
  const samples = events.filter((e) => e.type === 'WorkerStatsSampled' && e.data.workerId === 'p1');
  const misses = events.filter((e) => e.type === 'WorkerPollFailed' && e.data.workerId === 'p2');
  assert.ok(samples.length >= 3, `samples: ${samples.length}`);
  assert.ok(misses.length >= 3, `misses: ${misses.length}`);
  const first = samples[0]!, last = samples.at(-1)!;
  if (first.type !== 'WorkerStatsSampled' || last.type !== 'WorkerStatsSampled') throw new Error('type');
  assert.ok(last.data.totals.totalAdjustedTokens > first.data.totals.totalAdjustedTokens, 'counters grow');
  assert.is(last.data.ownerAddress, w.localConfig.ownerAddress);
  assert.is(last.data.health.healthy, true);
  const miss = misses[0]!;
  if (miss.type === 'WorkerPollFailed') assert.is(miss.data.kind, 'connect');
});

test('a reply that is not /jsonstats is a failed poll and its body is dead-lettered', async () => {
  const { createServer } = await import('node:http');
  const server = createServer((_q, s) => s.end('{"status": nope')).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const before = (await nats.jsm.streams.info(DLQ_STREAM)).state.messages;
  const event = await pollWorker({ id: 'bad', url: `http://127.0.0.1:${port}` }, 1000, deadLetterTo(nats.js));
  server.close();
  assert.is(event.type, 'WorkerPollFailed');
  if (event.type === 'WorkerPollFailed') assert.is(event.data.kind, 'parse');
  const info = await nats.jsm.streams.info(DLQ_STREAM);
  assert.is(info.state.messages, before + 1);
  const m = await nats.jsm.streams.getMessage(DLQ_STREAM, { last_by_subj: 'dlq.pool.poller' });
  assert.is(new TextDecoder().decode(m!.data), '{"status": nope');
  assert.match(m!.header.get('Pool-DLQ-Reason'), /./);
});

test('the tailer appends one TaskCompleted per completion line, follows rotation, resumes from its cursor', async () => {
  const logFile = join(dir, 't.log');
  const w = new EmulatedWorker({ port: 0, seed: 9, logFile, requestsPerSecond: 0, logRotateBytes: 4000 });
  await w.start();
  const completed: string[] = [];
  w.onRequestCompleted((r) => completed.push(r.requestId));
  const cursors = await openCursorStore(nats.nc);
  const run = (signal: AbortSignal) =>
    runLogTailer({ logs: [{ workerId: 't1', path: logFile }], store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), logger, signal, intervalMs: 50, fromStart: true });

  let ctl = new AbortController();
  let tailer = run(ctl.signal);
  w.completeRequests(30); // ~ several KB: rotates at least once
  await w.flushLog();
  await new Promise((r) => setTimeout(r, 400));
  ctl.abort();
  await tailer;
  w.completeRequests(20);
  await w.flushLog();
  appendFileSync(logFile, 'worker request ZZZ: completed: success=YES time=1.0 payload_parts=1 payload_bytes=1 tokens_used=1+0+0+0=1\n');
  ctl = new AbortController();
  tailer = run(ctl.signal);
  await new Promise((r) => setTimeout(r, 400));
  ctl.abort();
  await tailer;
  await w.stop();

  const tasks = (await all(['TaskCompleted'])).filter((e) => e.type === 'TaskCompleted' && e.data.workerId === 't1');
  assert.is(tasks.length, 50);
  assert.equal(tasks.map((t) => t.id), completed);
  const dlq = await nats.jsm.streams.getMessage(DLQ_STREAM, { last_by_subj: 'dlq.pool.tailer' });
  assert.match(new TextDecoder().decode(dlq!.data), /ZZZ/);
});

test('a cursor stored in format 1 ({ ino, offset }) is read, resumed from exactly, and rewritten in format 2', async () => {
  const logFile = join(dir, 'v1.log');
  const line = (n: number) =>
    `[ 3][t 1][2025-12-19 17:34:11.123456789][WorkerRunningRequest.cpp:299][!WorkerRunningRequest]\tworker request ${n.toString(16).padStart(64, 'e')}: completed: success=YES time=1.000000 payload_parts=1 payload_bytes=1 tokens_used=1+0+0+0=1\n`;
  writeFileSync(logFile, line(1) + line(2));
  const cursors = await openCursorStore(nats.nc);
  const { ino, size } = statSync(logFile);
  await cursors.put('tailer.v1', { ino, offset: Buffer.byteLength(line(1)) }); // as the first release stored it
  appendFileSync(logFile, line(3));
  const ctl = new AbortController();
  const run = runLogTailer({ logs: [{ workerId: 'v1', path: logFile }], store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), logger, signal: ctl.signal, intervalMs: 20 });
  const until = Date.now() + 30_000;
  while ((await all(['TaskCompleted'])).filter((e) => e.type === 'TaskCompleted' && e.data.workerId === 'v1').length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  ctl.abort();
  await run;
  const tasks = (await all(['TaskCompleted'])).filter((e) => e.type === 'TaskCompleted' && e.data.workerId === 'v1');
  assert.equal(tasks.map((t) => t.id), [2, 3].map((n) => n.toString(16).padStart(64, 'e')), 'resumes after line 1, neither re-reading it nor skipping line 2');
  const stored = await cursors.get<TailerCursor>('tailer.v1');
  assert.is(stored!.v, 2);
  assert.is(stored!.ino, ino);
  assert.is(stored!.offset, size + Buffer.byteLength(line(3)));
  assert.is(stored!.head!.bytes, Math.min(stored!.offset, HEAD_BYTES));
  assert.match(stored!.head!.sha256, /^[0-9a-f]{64}$/);
});

test('a cursor of an unknown format stops the tailer with a message naming the key and what to do', async () => {
  assert.equal(readTailerCursor('tailer.x', { ino: 5, offset: 7 }), { v: 2, ino: 5, offset: 7, head: null, skipping: false });
  assert.is(readTailerCursor('tailer.x', null), null);
  for (const bad of [{ ino: 5 }, { ino: 5, offset: -1 }, { v: 3, ino: 5, offset: 7, head: null, skipping: false }, 'x', { ino: 5, offset: 7, extra: 1 }]) {
    assert.throws(() => readTailerCursor('tailer.x', bad), /cursor tailer\.x in the cursor bucket has an unknown format .*; delete that key/);
  }
  const cursors = await openCursorStore(nats.nc);
  await cursors.put('tailer.odd', { offset: 'far' });
  const ctl = new AbortController();
  const error = await runLogTailer({ logs: [{ workerId: 'odd', path: join(dir, 'odd.log') }], store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), logger, signal: ctl.signal }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.match(String(error), /cursor tailer\.odd in the cursor bucket has an unknown format/);
});

test.run();
