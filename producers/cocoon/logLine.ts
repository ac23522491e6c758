/**
 * Parser of the Cocoon worker's per-request completion log line
 * (cocoon runners/worker/WorkerRunningRequest.cpp:299, WorkerRunningRequest::finish_request):
 *
 *   worker request <64 hex>: completed: success=YES|NO time=<%.6f s> payload_parts=<n>
 *     payload_bytes=<n> tokens_used=<prompt>+<cached>+<completion>+<reasoning>=<total>
 *
 * (one line; token numbers are ADJUSTED tokens). The runner logs through TON's tdutils
 * (tdutils/td/utils/logging.cpp, Logger::Logger), which starts every line with
 * `[<level, width 2>][t<thread, width 2>][<%F %T UTC, ns>][<file>:<line>]`, then optional
 * `[#tag]`, `[!actor]`, `[&comment]`, then a TAB and the message, e.g.
 *   `[ 3][t 1][2025-12-19 17:34:11.123456789][WorkerRunningRequest.cpp:299][!WorkerRunningRequest]\t`
 * A completion is only a line whose td prefix names WorkerRunningRequest.cpp and whose message
 * STARTS with `worker request <id>: completed: ` — the same words inside another component's
 * message are not a completion. Before the td prefix there may be journald's short prefix
 * (`Dec 19 17:34:12 <host> <ident>[<pid>]: `) and nothing else; the ANSI colour codes td's
 * default stderr log wraps a line in are ignored.
 */

/** One `…: completed: …` line. Token counts are adjusted tokens; total = prompt + cached + completion + reasoning. */
export interface TaskCompletedLine {
  /** Proxy-generated request id, 64 lowercase hex digits. */
  requestId: string;
  success: boolean;
  /** Request wall time in seconds. */
  seconds: number;
  payloadParts: number;
  payloadBytes: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  /** Unix ms of the td prefix timestamp (UTC, truncated to ms). */
  loggedAtMs: number;
}

export type LogLineErrorReason =
  | 'bad-request-id'
  | 'malformed'
  | 'negative-tokens'
  | 'out-of-range'
  | 'token-sum-mismatch'
  | 'bad-timestamp'
  | 'foreign-line'
  | 'invalid-utf8';

/** A line that IS a completion line but cannot be trusted; `line` is the input as given. */
export class LogLineError extends Error {
  constructor(
    readonly reason: LogLineErrorReason,
    readonly line: string,
    message: string,
  ) {
    super(`task completed line ${reason}: ${message}`);
    this.name = 'LogLineError';
  }
}

/**
 * Longest request wall time accepted, seconds. Cocoon has no such constant; a day is far beyond
 * any inference request (the worker's proxy connection idles out after 60 s) and keeps
 * `seconds × 10^6` (the projections' integer microseconds) exact.
 */
export const MAX_REQUEST_SECONDS = 24 * 3600;

const ANSI = /\x1b\[[0-9;]*m/g;
/** The completion words anywhere in a line: such a line is a completion or is refused, never ignored. */
const MARKER = /worker request .*?: completed:/;
const JOURNALD_PREFIX = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s[:]+(?:\[\d+\])?: /;
/** tdutils Logger prefix: level, thread, timestamp, file:line, optional [#tag] [!actor] [&comment], TAB. */
const TD_PREFIX =
  /^\[ ?\d+\]\[t ?\d+\]\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\]\[([^\]\t]*):(\d+)\](?:\[#[^\]\t]*\])?(?:\[![^\]\t]*\])?(?:\[&[^\t]*\])?\t/;
const COMPLETION_START = /^worker request ([^:]*): completed: /;
const REQUEST_ID = /^[0-9A-Fa-f]{64}$/;
const COMPLETION =
  /^worker request ([0-9A-Fa-f]{64}): completed: success=(YES|NO) time=(\d+\.\d{6}) payload_parts=(\d+) payload_bytes=(\d+) tokens_used=(-?\d+)\+(-?\d+)\+(-?\d+)\+(-?\d+)=(-?\d+)$/;

/**
 * Parses one worker log line.
 *
 * @returns the completion record, or `null` when the line does not contain the completion words
 *   (e.g. the `: received`, `working request …: sending request`, `… failed: …` lines, or any
 *   other output).
 * @throws LogLineError when the line contains `worker request <…>: completed:` but cannot be
 *   counted: `foreign-line` (no td prefix at the line start, a prefix naming another source file
 *   than WorkerRunningRequest.cpp, or the words inside another message), `bad-request-id` (not 64
 *   hex digits), `malformed` (a field missing, reordered or non-numeric; `time` not `%.6f`),
 *   `negative-tokens`, `out-of-range` (a count above 2^53-1, a time above
 *   {@link MAX_REQUEST_SECONDS}), `token-sum-mismatch` (the four parts do not add up to the
 *   total), `bad-timestamp` (the td prefix date is invalid or before 1970).
 */
export function parseTaskCompletedLine(line: string): TaskCompletedLine | null {
  const clean = line.replace(ANSI, '').replace(/[\r\n]+$/, '').trimEnd();
  if (!MARKER.test(clean)) return null;
  const rest = clean.replace(JOURNALD_PREFIX, '');
  const td = TD_PREFIX.exec(rest);
  if (!td) throw new LogLineError('foreign-line', line, 'no td logging prefix ([level][thread][time][file:line]…TAB) at the start of the line');
  if (td[8] !== 'WorkerRunningRequest.cpp') throw new LogLineError('foreign-line', line, `logged from ${td[8]}:${td[9]}, not WorkerRunningRequest.cpp`);
  const message = rest.slice(td[0].length);
  const start = COMPLETION_START.exec(message);
  if (!start) throw new LogLineError('foreign-line', line, 'the completion words are inside another message');
  if (!REQUEST_ID.test(start[1]!)) {
    throw new LogLineError('bad-request-id', line, `request id ${JSON.stringify(start[1])} is not 64 hex digits`);
  }
  const m = COMPLETION.exec(message);
  if (!m) throw new LogLineError('malformed', line, 'fields do not match the WorkerRunningRequest.cpp:299 format');
  const [prompt, cached, completion, reasoning, total] = [m[6], m[7], m[8], m[9], m[10]].map((s) => toCount(s!, line));
  if (prompt! + cached! + completion! + reasoning! !== total) {
    throw new LogLineError('token-sum-mismatch', line, `${prompt}+${cached}+${completion}+${reasoning} != ${total}`);
  }
  const seconds = Number(m[3]);
  if (!(seconds <= MAX_REQUEST_SECONDS)) throw new LogLineError('out-of-range', line, `time ${m[3]} s exceeds ${MAX_REQUEST_SECONDS} s`);
  return {
    requestId: m[1]!.toLowerCase(),
    success: m[2] === 'YES',
    seconds,
    payloadParts: toCount(m[4]!, line),
    payloadBytes: toCount(m[5]!, line),
    promptTokens: prompt!,
    cachedTokens: cached!,
    completionTokens: completion!,
    reasoningTokens: reasoning!,
    totalTokens: total!,
    loggedAtMs: prefixTimestampMs(td, line),
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one log line as read from the file (its bytes, without the "\n"): like
 * {@link parseTaskCompletedLine}; a line that is not valid UTF-8 gives null, unless it holds the
 * completion words, then it throws LogLineError `invalid-utf8` (`line` is its latin1 reading).
 */
export function parseTaskCompletedBytes(bytes: Uint8Array): TaskCompletedLine | null {
  let line: string;
  try {
    line = UTF8.decode(bytes);
  } catch {
    const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    if (!MARKER.test(latin1.replace(ANSI, ''))) return null;
    throw new LogLineError('invalid-utf8', latin1, 'the line holding the completion words is not valid UTF-8');
  }
  return parseTaskCompletedLine(line);
}

function toCount(digits: string, line: string): number {
  if (digits.startsWith('-')) throw new LogLineError('negative-tokens', line, `negative count ${digits}`);
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new LogLineError('out-of-range', line, `count ${digits} exceeds 2^53-1`);
  return n;
}

/** The td prefix's `%F %T.fffffffff` (td's `date::format("%F %T", system_clock::now())`, UTC) → unix ms. */
function prefixTimestampMs(td: RegExpExecArray, line: string): number {
  const [y, mo, d, h, mi, s] = td.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((td[7] ?? '').padEnd(3, '0').slice(0, 3));
  const at = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(at);
  if (y < 1970 || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new LogLineError('bad-timestamp', line, `invalid td prefix date ${td[0].slice(0, 60)}`);
  }
  return at;
}
