/**
 * The emulated worker's log: the per-request lines of cocoon runners/worker/WorkerRunningRequest.cpp
 * (53 received, 101 sending, 163 failed, 299 completed), each with the td logging prefix of TON's
 * tdutils (tdutils/td/utils/logging.cpp): `[<level, width 2>][t<thread, width 2>][<%F %T UTC,
 * ns>][<file>:<line>][!<actor>]\t`, written to a file that is rotated like logrotate's `rename`
 * mode (file → file.1, then a new file) so a tailer meets real rotations.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { printfFixed } from './printfFixed.ts';

/** td verbosity levels: WARNING = 2, INFO = 3. */
const INFO = 3;
const WARNING = 2;

/** `[ 3][t 1][2025-12-19 17:34:11.123000000][WorkerRunningRequest.cpp:299][!WorkerRunningRequest]\t` */
function tdPrefix(level: number, atMs: number, sourceLine: number): string {
  const iso = new Date(atMs).toISOString(); // 2025-12-19T17:34:11.123Z
  const stamp = `${iso.slice(0, 10)} ${iso.slice(11, 23)}000000`;
  return `[${String(level).padStart(2)}][t 1][${stamp}][WorkerRunningRequest.cpp:${sourceLine}][!WorkerRunningRequest]\t`;
}

/** One request as the worker logs it; token numbers are adjusted tokens, `requestIdHex` uppercase. */
export interface LoggedRequest {
  requestIdHex: string;
  success: boolean;
  seconds: number;
  payloadParts: number;
  payloadBytes: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  receivedAtMs: number;
  completedAtMs: number;
}

/** The lines a request leaves in the log, in order, each ending with "\n". */
export function requestLogLines(r: LoggedRequest): string {
  const id = r.requestIdHex;
  let out = `${tdPrefix(INFO, r.receivedAtMs, 53)}worker request ${id}: received\n`;
  out += `${tdPrefix(INFO, r.receivedAtMs, 101)}working request ${id}: sending request to url /v1/chat/completions method=POST\n`;
  if (!r.success) {
    out += `${tdPrefix(WARNING, r.completedAtMs, 163)}worker request ${id} failed: [Error : 502 : worker: http failed: upstream closed connection]\n`;
  }
  out +=
    `${tdPrefix(INFO, r.completedAtMs, 299)}worker request ${id}: completed: success=${r.success ? 'YES' : 'NO'}` +
    ` time=${printfFixed(r.seconds, 6)} payload_parts=${r.payloadParts} payload_bytes=${r.payloadBytes}` +
    ` tokens_used=${r.promptTokens}+${r.cachedTokens}+${r.completionTokens}+${r.reasoningTokens}=${r.totalTokens}\n`;
  return out;
}

/**
 * Append-only log file rotated by size: when an append would push the file past `rotateBytes`,
 * the file is renamed to `<path>.1` (replacing the previous `.1`) and a new file is started.
 * Writes are synchronous so lines reach the file in order before the next poll.
 */
export class RotatingLogFile {
  private size: number;

  constructor(
    readonly path: string,
    private readonly rotateBytes: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = fileSize(path);
  }

  append(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.rotateBytes) {
      renameSync(this.path, `${this.path}.1`);
      this.size = 0;
    }
    appendFileSync(this.path, text);
    this.size += bytes;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
