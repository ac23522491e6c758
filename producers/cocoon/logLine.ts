/**
 * Parser of the Cocoon worker's per-request completion log line
 * (cocoon runners/worker/WorkerRunningRequest.cpp:299, WorkerRunningRequest::finish_request):
 *
 *   worker request <64 hex>: completed: success=YES|NO time=<%.6f s> payload_parts=<n>
 *     payload_bytes=<n> tokens_used=<prompt>+<cached>+<completion>+<reasoning>=<total>
 *
 * (one line; token numbers are ADJUSTED tokens). Each line carries the td logging prefix of TON's
 * tdutils (tdutils/td/utils/logging.cpp): `[<level>][t<thread>][<%F %T UTC, ns>][<file>:<line>]`
 * then optional `[#tag]`, `[!actor]`, `[&comment]` and a TAB, e.g.
 *   `[ 3][t 1][2025-12-19 17:34:11.123456789][WorkerRunningRequest.cpp:299][!WorkerRunningRequest]\t`
 * Anything may precede it (journalctl's `Dec 19 … cocoon-worker-runner[42]: `); ANSI colour codes
 * that td's default stderr log adds around a line are ignored.
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
  /** Unix ms of the td prefix timestamp (UTC, truncated to ms); null when the line has no td timestamp. */
  loggedAtMs: number | null;
}

export type LogLineErrorReason =
  | 'bad-request-id'
  | 'malformed'
  | 'negative-tokens'
  | 'out-of-range'
  | 'token-sum-mismatch'
  | 'bad-timestamp';

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

const ANSI = /\x1b\[[0-9;]*m/g;
const IS_COMPLETION = /worker request (.*?): completed:/;
const REQUEST_ID = /^[0-9A-Fa-f]{64}$/;
const COMPLETION =
  /^worker request ([0-9A-Fa-f]{64}): completed: success=(YES|NO) time=(\d+(?:\.\d+)?) payload_parts=(\d+) payload_bytes=(\d+) tokens_used=(-?\d+)\+(-?\d+)\+(-?\d+)\+(-?\d+)=(-?\d+)$/;
const TD_TIMESTAMP = /\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\]/;

/**
 * Parses one worker log line.
 *
 * @returns the completion record, or `null` when the line is not a completion line (e.g. the
 *   `: received`, `working request …: sending request`, `… failed: …` lines, or any other output).
 * @throws LogLineError when the line is a completion line (`worker request <id>: completed:`) but
 *   malformed: `bad-request-id` (not 64 hex digits), `malformed` (a field missing, reordered or
 *   non-numeric), `negative-tokens`, `out-of-range` (a count above 2^53-1), `token-sum-mismatch`
 *   (the four parts do not add up to the total), `bad-timestamp` (the td prefix date is invalid).
 */
export function parseTaskCompletedLine(line: string): TaskCompletedLine | null {
  const clean = line.replace(ANSI, '').replace(/[\r\n]+$/, '').trimEnd();
  const marker = IS_COMPLETION.exec(clean);
  if (!marker) return null;
  if (!REQUEST_ID.test(marker[1]!)) {
    throw new LogLineError('bad-request-id', line, `request id ${JSON.stringify(marker[1])} is not 64 hex digits`);
  }
  const m = COMPLETION.exec(clean.slice(marker.index));
  if (!m) throw new LogLineError('malformed', line, 'fields do not match the WorkerRunningRequest.cpp:299 format');
  const [prompt, cached, completion, reasoning, total] = [m[6], m[7], m[8], m[9], m[10]].map((s) => toCount(s!, line));
  if (prompt! + cached! + completion! + reasoning! !== total) {
    throw new LogLineError('token-sum-mismatch', line, `${prompt}+${cached}+${completion}+${reasoning} != ${total}`);
  }
  return {
    requestId: m[1]!.toLowerCase(),
    success: m[2] === 'YES',
    seconds: Number(m[3]),
    payloadParts: toCount(m[4]!, line),
    payloadBytes: toCount(m[5]!, line),
    promptTokens: prompt!,
    cachedTokens: cached!,
    completionTokens: completion!,
    reasoningTokens: reasoning!,
    totalTokens: total!,
    loggedAtMs: prefixTimestampMs(clean.slice(0, marker.index), line),
  };
}

function toCount(digits: string, line: string): number {
  if (digits.startsWith('-')) throw new LogLineError('negative-tokens', line, `negative count ${digits}`);
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new LogLineError('out-of-range', line, `count ${digits} exceeds 2^53-1`);
  return n;
}

/** `[YYYY-MM-DD HH:MM:SS.fffffffff]` (td's `date::format("%F %T", system_clock::now())`, UTC) → unix ms. */
function prefixTimestampMs(prefix: string, line: string): number | null {
  const m = TD_TIMESTAMP.exec(prefix);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const at = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(at);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new LogLineError('bad-timestamp', line, `invalid td prefix date ${m[0]}`);
  }
  return at;
}
