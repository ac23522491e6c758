import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogLineError, MAX_REQUEST_SECONDS, parseTaskCompletedLine, type TaskCompletedLine } from '../../producers/cocoon/logLine.ts';

const dir = join(import.meta.dirname, '../fixtures/cocoon');
const traps = JSON.parse(readFileSync(join(dir, 'log-lines.trap.json'), 'utf8')) as {
  completion: { line: string; expected: TaskCompletedLine }[];
  ignored: string[];
  malformed: { line: string; reason: string }[];
};

test('completion lines parse (td prefix, journald prefix, ANSI colours, CRLF)', () => {
  assert.ok(traps.completion.length >= 4);
  for (const { line, expected } of traps.completion) assert.equal(parseTaskCompletedLine(line), expected, line);
});

test('non-completion lines give null', () => {
  assert.ok(traps.ignored.length >= 5);
  for (const line of traps.ignored) assert.is(parseTaskCompletedLine(line), null, line);
});

test('lines holding the completion words that cannot be counted throw LogLineError with the reason', () => {
  for (const reason of ['foreign-line', 'out-of-range', 'negative-tokens', 'malformed']) assert.ok(traps.malformed.some((m) => m.reason === reason), reason);
  for (const { line, reason } of traps.malformed) {
    let error: unknown = null;
    try {
      parseTaskCompletedLine(line);
    } catch (e) {
      error = e;
    }
    assert.instance(error, LogLineError, line);
    assert.is((error as LogLineError).reason, reason, line);
    assert.is((error as LogLineError).line, line);
  }
});

const TD_PREFIX = '[ 3][t 1][2025-12-19 17:34:11.000000000][WorkerRunningRequest.cpp:299][!WorkerRunningRequest]\t';

test("the formats file's synthetic example parses once its placeholder id is filled in and td's prefix added", () => {
  const formats = readFileSync(join(dir, 'worker-observability-formats.txt'), 'utf8');
  const example = TD_PREFIX + /^\s*(worker request 5A1F\.\.\.\(64 hex\)\.\.\.C3: completed: .*)$/m.exec(formats)![1]!;
  assert.throws(() => parseTaskCompletedLine(example), (e: unknown) => e instanceof LogLineError && e.reason === 'bad-request-id');
  const id = '5A1F'.padEnd(62, '0') + 'C3';
  const parsed = parseTaskCompletedLine(example.replace('5A1F...(64 hex)...C3', id))!;
  assert.is(parsed.requestId, id.toLowerCase());
  assert.is(parsed.totalTokens, parsed.promptTokens + parsed.cachedTokens + parsed.completionTokens + parsed.reasoningTokens);
  assert.equal(
    [parsed.success, parsed.seconds, parsed.payloadParts, parsed.payloadBytes, parsed.totalTokens, parsed.loggedAtMs],
    [true, 2.113, 57, 18233, 1669, Date.UTC(2025, 11, 19, 17, 34, 11)],
  );
});

test('td timestamp: nanoseconds truncated to ms, UTC', () => {
  const line = (ts: string) =>
    `[ 3][t 1][${ts}][WorkerRunningRequest.cpp:299][!WorkerRunningRequest]\tworker request ${'ab'.repeat(32)}: completed: success=YES time=1.000000 payload_parts=1 payload_bytes=1 tokens_used=1+0+0+0=1`;
  assert.is(parseTaskCompletedLine(line('2025-12-19 17:34:11.999999999'))!.loggedAtMs, Date.UTC(2025, 11, 19, 17, 34, 11, 999));
  assert.is(parseTaskCompletedLine(line('2024-02-29 00:00:00'))!.loggedAtMs, Date.UTC(2024, 1, 29));
  for (const ts of ['2025-02-29 00:00:00', '1969-12-31 23:59:59.999', '0001-01-01 00:00:00']) {
    assert.throws(() => parseTaskCompletedLine(line(ts)), (e: unknown) => e instanceof LogLineError && e.reason === 'bad-timestamp', ts);
  }
  assert.is(parseTaskCompletedLine(line('1970-01-01 00:00:00'))!.loggedAtMs, 0);
});

test('the request time bound is inclusive, and the td prefix is required exactly once at the line start', () => {
  const line = (time: string) => `${TD_PREFIX}worker request ${'cd'.repeat(32)}: completed: success=YES time=${time} payload_parts=1 payload_bytes=1 tokens_used=1+0+0+0=1`;
  assert.is(parseTaskCompletedLine(line(`${MAX_REQUEST_SECONDS}.000000`))!.seconds, MAX_REQUEST_SECONDS);
  assert.throws(() => parseTaskCompletedLine(line(`${MAX_REQUEST_SECONDS}.000001`)), (e: unknown) => e instanceof LogLineError && e.reason === 'out-of-range');
  // a td prefix with every optional part ([#tag][!actor][&comment]) still counts
  const full = line('1.000000').replace('[!WorkerRunningRequest]', '[#worker][!WorkerRunningRequest][&cond]');
  assert.is(parseTaskCompletedLine(full)!.seconds, 1);
  // a second prefix inside the message is another message
  assert.throws(() => parseTaskCompletedLine(TD_PREFIX + line('1.000000')), (e: unknown) => e instanceof LogLineError && e.reason === 'foreign-line');
});

test.run();
