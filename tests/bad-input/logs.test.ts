/**
 * Bad input at the log-file boundary: real files written by the test, the real tailer, a real
 * nats-server. Each case states its outcome (dead-lettered with its reason / conflict recorded /
 * counted once) and checks the TaskCompleted events exactly. Every case ends its file with a good
 * "sentinel" line: once its event is stored, the tailer has read (and dead-lettered) everything
 * before it, so no case waits on a clock.
 */
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEAD_LETTER_HEAD_BYTES, MAX_LINE_BYTES, runLogTailer, type TailedLog } from '../../producers/cocoon/logTailer.ts';
import { sleep } from '../../runtime/sleep.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { openCursorStore, type CursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { DLQ_STREAM } from '../../streams/topology.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let cursors: CursorStore;
let dir: string;
const logger = pino({ level: 'silent' });
test.before(async () => {
  nats = await startTestNats();
  cursors = await openCursorStore(nats.nc);
  dir = mkdtempSync(join(tmpdir(), 'pool-bad-logs-'));
});
test.after(async () => {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

let nextId = 1;
/** A fresh 64-hex request id (uppercase, as the worker prints it). */
const newId = () => (nextId++).toString(16).toUpperCase().padStart(64, 'A');

const tdPrefix = (file = 'WorkerRunningRequest.cpp:299') => `[ 3][t 1][2025-12-19 17:34:11.123456789][${file}][!WorkerRunningRequest]\t`;
/** The completion message of Cocoon WorkerRunningRequest.cpp:299 (without prefix and "\n"). */
const completed = (id: string, tokens = 10, time = '1.500000') =>
  `worker request ${id}: completed: success=YES time=${time} payload_parts=1 payload_bytes=100 tokens_used=${tokens}+0+0+0=${tokens}`;
const line = (id: string, tokens = 10, time = '1.500000') => `${tdPrefix()}${completed(id, tokens, time)}\n`;

async function tasks(workerId: string): Promise<Extract<RecordedEvent, { type: 'TaskCompleted' }>[]> {
  const out: Extract<RecordedEvent, { type: 'TaskCompleted' }>[] = [];
  for await (const b of nats.store.read({ types: ['TaskCompleted'] })) {
    for (const e of b.events) if (e.type === 'TaskCompleted' && e.data.workerId === workerId) out.push(e);
  }
  return out;
}

interface Letter {
  reason: string;
  payload: Buffer;
  context: Record<string, string>;
}

/** Every tailer dead letter about `workerId`, in order. */
async function deadLetters(workerId: string): Promise<Letter[]> {
  const last = (await nats.jsm.streams.info(DLQ_STREAM)).state.last_seq;
  const out: Letter[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await nats.jsm.streams.getMessage(DLQ_STREAM, { seq });
    if (!m || m.subject !== 'dlq.pool.tailer' || m.header.get('Pool-DLQ-Context-workerId') !== workerId) continue;
    const context: Record<string, string> = {};
    for (const [k, v] of m.header) if (k.startsWith('Pool-DLQ-Context-')) context[k.slice('Pool-DLQ-Context-'.length)] = v[0]!;
    out.push({ reason: m.header.get('Pool-DLQ-Reason'), payload: Buffer.from(m.data), context });
  }
  return out;
}

/** Runs the tailer over `logs` until `done()` holds (bounded), then stops it (its pass finished). */
async function tailWhile(logs: TailedLog[], what: string, done: () => Promise<boolean>): Promise<void> {
  const ctl = new AbortController();
  const run = runLogTailer({ logs, store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), logger, signal: ctl.signal, intervalMs: 20, fromStart: true });
  try {
    const until = Date.now() + 60_000;
    while (!(await done())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  } finally {
    ctl.abort();
    await run;
  }
}

/** Runs the tailer over `logs` until `workerId` has the event `sentinel`. */
const tailUntil = (logs: TailedLog[], workerId: string, sentinel: string) =>
  tailWhile(logs, `sentinel ${sentinel} of ${workerId}`, async () => (await tasks(workerId)).some((t) => t.id === sentinel.toLowerCase()));

const ids = (events: { id: string }[]) => events.map((e) => e.id);
const lower = (...xs: string[]) => xs.map((x) => x.toLowerCase());

test('an overlong line (5 MiB) is dead-lettered with its head and length and skipped; the next line counts', async () => {
  const path = join(dir, 'overlong.log');
  const [before, after] = [newId(), newId()];
  const long = Buffer.alloc(5 * 1024 * 1024, 'x');
  writeFileSync(path, line(before));
  appendFileSync(path, long);
  appendFileSync(path, `\n${line(after)}`);
  await tailUntil([{ workerId: 'ov1', path }], 'ov1', after);

  assert.equal(ids(await tasks('ov1')), lower(before, after));
  const letters = await deadLetters('ov1');
  assert.is(letters.length, 1);
  assert.is(letters[0]!.reason, `line of ${long.length} bytes exceeds the ${MAX_LINE_BYTES}-byte limit: skipped (payload: its first ${DEAD_LETTER_HEAD_BYTES} bytes)`);
  assert.equal(letters[0]!.payload, long.subarray(0, DEAD_LETTER_HEAD_BYTES));
  assert.is(letters[0]!.context.offset, String(Buffer.byteLength(line(before))));
  assert.is(letters[0]!.context.length, String(long.length));
});

test('an overlong line still being written is dead-lettered once and skipped through its end', async () => {
  const path = join(dir, 'overlong-open.log');
  const [mid, after] = [newId(), newId()];
  writeFileSync(path, line(mid));
  appendFileSync(path, Buffer.alloc(MAX_LINE_BYTES + 10, 'y')); // no "\n" yet
  await tailWhile([{ workerId: 'ov2', path }], 'the open overlong line dead-lettered', async () => (await deadLetters('ov2')).length > 0);
  appendFileSync(path, Buffer.alloc(3 * MAX_LINE_BYTES, 'y'));
  appendFileSync(path, `tail of the long line${line(newId()).slice(0, 40)}\n${line(after)}`);
  await tailUntil([{ workerId: 'ov2', path }], 'ov2', after);

  assert.equal(ids(await tasks('ov2')), lower(mid, after));
  const letters = await deadLetters('ov2');
  assert.is(letters.length, 1, 'one dead letter for the line, not one per pass');
  assert.match(letters[0]!.reason, new RegExp(`^line of at least \\d+ bytes, not ended yet, exceeds the ${MAX_LINE_BYTES}-byte limit`));
});

test('copytruncate: truncated and regrown past the old offset between two reads loses no line', async () => {
  const path = join(dir, 'copytruncate.log');
  const workerId = 'ct1';
  const first = [newId(), newId()];
  writeFileSync(path, first.map((id) => line(id)).join(''));
  await tailUntil([{ workerId, path }], workerId, first[1]!);
  // logrotate copytruncate: copy away, truncate to 0; the worker goes on writing: 4 lines, more bytes than before
  truncateSync(path, 0);
  const second = [newId(), newId(), newId(), newId()];
  appendFileSync(path, second.map((id) => line(id, 20)).join(''));
  await tailUntil([{ workerId, path }], workerId, second[3]!);

  assert.equal(ids(await tasks(workerId)), lower(...first, ...second));
  assert.equal(await deadLetters(workerId), []);
});

test("a completion marker inside another component's message is dead-lettered (foreign-line), not counted", async () => {
  const path = join(dir, 'foreign.log');
  const [forged, inFailed, bare, sentinel] = [newId(), newId(), newId(), newId()];
  writeFileSync(
    path,
    `${tdPrefix('ProxyConnection.cpp:120')}forwarded from a client: ${completed(forged)}\n` +
      `${tdPrefix('WorkerRunningRequest.cpp:163')}worker request ${inFailed} failed: [Error : 502 : upstream said: ${completed(inFailed)}]\n` +
      `${completed(bare)}\n` +
      line(sentinel),
  );
  await tailUntil([{ workerId: 'fg1', path }], 'fg1', sentinel);

  assert.equal(ids(await tasks('fg1')), lower(sentinel));
  const reasons = (await deadLetters('fg1')).map((l) => l.reason);
  assert.equal(reasons, [
    'task completed line foreign-line: logged from ProxyConnection.cpp:120, not WorkerRunningRequest.cpp',
    'task completed line foreign-line: the completion words are inside another message',
    'task completed line foreign-line: no td logging prefix ([level][thread][time][file:line]…TAB) at the start of the line',
  ]);
});

test('the same request id twice with different fields: the first counts, the second is a recorded conflict; a re-read is idempotent', async () => {
  const path = join(dir, 'same-id.log');
  const [id, sentinel] = [newId(), newId()];
  writeFileSync(path, line(id, 10) + line(id, 10) + line(id, 99) + line(sentinel));
  await tailUntil([{ workerId: 'sd1', path }], 'sd1', sentinel);
  // read the whole file again from its start (a lost cursor): the same lines are the same claims
  await cursors.put('tailer.sd1', null);
  const [more, sentinel2] = [newId(), newId()];
  appendFileSync(path, line(more) + line(sentinel2));
  await tailUntil([{ workerId: 'sd1', path }], 'sd1', sentinel2);

  const counted = await tasks('sd1');
  assert.equal(ids(counted), lower(id, sentinel, more, sentinel2), 'each id stored once (the re-read ones are duplicates)');
  assert.is(counted[0]!.data.totalTokens, 10, 'the first reading stands');
  const letters = await deadLetters('sd1');
  // one conflict per reading of the 99-token line (the file was read twice), none for the repeats of the 10-token line
  assert.is(letters.length, 2);
  for (const l of letters) {
    assert.match(l.reason, new RegExp(`^conflict: request id ${id.toLowerCase()} was first read with other fields \\(sha256 [0-9a-f]{64}\\); this line \\(sha256 [0-9a-f]{64}\\) is not counted$`));
    assert.is(l.payload.toString(), line(id, 99).trimEnd());
    assert.is(l.context.firstWorkerId, 'sd1');
  }
});

test("the same request id in two workers' logs: counted once, for the first, and a conflict for the other", async () => {
  const [a, b] = [join(dir, 'two-a.log'), join(dir, 'two-b.log')];
  const [id, sentinel] = [newId(), newId()];
  writeFileSync(a, line(id));
  writeFileSync(b, line(id) + line(sentinel));
  await tailUntil([{ workerId: 'tw-a', path: a }, { workerId: 'tw-b', path: b }], 'tw-b', sentinel);

  assert.equal(ids(await tasks('tw-a')), lower(id));
  assert.equal(ids(await tasks('tw-b')), lower(sentinel));
  const letters = await deadLetters('tw-b');
  assert.is(letters.length, 1);
  assert.is(letters[0]!.reason, `conflict: request id ${id.toLowerCase()} was first read from worker tw-a's log; this line in worker tw-b's log is not counted`);
  assert.is(letters[0]!.context.firstWorkerId, 'tw-a');
  assert.equal(await deadLetters('tw-a'), []);
});

test('out-of-range fields (time=1e30, %.6f of 1e30, counts beyond 2^53, negative counts) are refused at the tailer', async () => {
  const path = join(dir, 'range.log');
  const sentinel = newId();
  const bad = [
    `${tdPrefix()}${completed(newId(), 10, '1e30')}`,
    `${tdPrefix()}${completed(newId(), 10, '1000000000000000019884624838656.000000')}`,
    `${tdPrefix()}${completed(newId(), 10).replace('tokens_used=10+0+0+0=10', 'tokens_used=9007199254740992+0+0+0=9007199254740992')}`,
    `${tdPrefix()}${completed(newId(), 10).replace('tokens_used=10+0+0+0=10', 'tokens_used=20+-10+0+0=10')}`,
    `${tdPrefix()}${completed(newId(), 10).replace('payload_bytes=100', 'payload_bytes=99999999999999999999')}`,
  ];
  writeFileSync(path, bad.map((l) => `${l}\n`).join('') + line(sentinel));
  await tailUntil([{ workerId: 'rg1', path }], 'rg1', sentinel);

  assert.equal(ids(await tasks('rg1')), lower(sentinel));
  const letters = await deadLetters('rg1');
  assert.equal(
    letters.map((l) => l.reason.replace(/:.*/, '')),
    ['task completed line malformed', 'task completed line out-of-range', 'task completed line out-of-range', 'task completed line negative-tokens', 'task completed line out-of-range'],
  );
  assert.equal(letters.map((l) => l.payload.toString()), bad);
});

test('garbage bytes and invalid UTF-8: ignored without the completion words, dead-lettered with them; reading goes on', async () => {
  const path = join(dir, 'garbage.log');
  const [broken, sentinel] = [newId(), newId()];
  const garbage = Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x0d, 0x80, 0x81, 0xc3, 0x28, 0x0a, 0x00, 0x00, 0x0a]);
  const message = Buffer.from(completed(broken));
  const at = message.indexOf('payload_bytes'); // invalid bytes after the completion words
  const invalid = Buffer.concat([Buffer.from(tdPrefix()), message.subarray(0, at), Buffer.from([0xc3, 0x28]), message.subarray(at)]);
  writeFileSync(path, Buffer.concat([garbage, invalid, Buffer.from('\n'), Buffer.from(line(sentinel))]));
  await tailUntil([{ workerId: 'gb1', path }], 'gb1', sentinel);

  assert.equal(ids(await tasks('gb1')), lower(sentinel));
  const letters = await deadLetters('gb1');
  assert.is(letters.length, 1);
  assert.is(letters[0]!.reason, 'task completed line invalid-utf8: the line holding the completion words is not valid UTF-8');
  assert.equal(letters[0]!.payload, invalid, 'the refused bytes unchanged');
});

test('a line without its newline at EOF waits for the rest; it is never parsed half-written', async () => {
  const path = join(dir, 'partial.log');
  const [before, split] = [newId(), newId()];
  const whole = line(split, 1669);
  const cut = whole.indexOf('tokens_used=') + 'tokens_used=16'.length; // the half reads `tokens_used=16`
  writeFileSync(path, line(before) + whole.slice(0, cut));
  await tailUntil([{ workerId: 'pt1', path }], 'pt1', before); // that pass saw the half line too
  const stored = await cursors.get<{ offset: number }>('tailer.pt1');
  assert.is(stored!.offset, Buffer.byteLength(line(before)), 'the cursor stops at the last complete line');
  appendFileSync(path, whole.slice(cut));
  await tailUntil([{ workerId: 'pt1', path }], 'pt1', split);

  const counted = await tasks('pt1');
  assert.equal(ids(counted), lower(before, split));
  assert.is(counted[1]!.data.totalTokens, 1669);
  assert.equal(await deadLetters('pt1'), []);
});

test('rotation: the old file is finished, its unterminated last line dead-lettered; the new file is read from its start', async () => {
  const path = join(dir, 'rotate.log');
  const [a, b, c, sentinel] = [newId(), newId(), newId(), newId()];
  writeFileSync(path, line(a));
  await tailUntil([{ workerId: 'rt1', path }], 'rt1', a);
  const half = line(newId()).slice(0, 90);
  appendFileSync(path, line(b) + half); // written before the rename; the worker died mid-line
  renameSync(path, `${path}.1`);
  writeFileSync(path, line(c) + line(sentinel));
  await tailUntil([{ workerId: 'rt1', path }], 'rt1', sentinel);

  assert.equal(ids(await tasks('rt1')), lower(a, b, c, sentinel));
  const letters = await deadLetters('rt1');
  assert.is(letters.length, 1);
  assert.is(letters[0]!.reason, 'unterminated last line (90 bytes) of a rotated log: not counted');
  assert.is(letters[0]!.payload.toString(), half);
  assert.is(letters[0]!.context.file, `${path}.1`);
});

test.run();
