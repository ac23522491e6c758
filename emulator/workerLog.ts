/**
 * The emulated worker's log: the per-request lines of cocoon runners/worker/WorkerRunningRequest.cpp
 * (53 received, 101 sending, 163 failed, 299 completed), each with the td logging prefix of TON's
 * tdutils (tdutils/td/utils/logging.cpp): `[<level, width 2>][t<thread, width 2>][<%F %T UTC,
 * ns>][<file>:<line>][!<actor>]\t`, written to a file that is rotated like logrotate's `rename`
 * mode (file → file.1, then a new file) so a tailer meets real rotations. Written asynchronously
 * and batched ({@link LogWriter}): no synchronous write per line.
 */
import { mkdirSync, statSync } from 'node:fs';
import { appendFile, rename } from 'node:fs/promises';
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

/** Options of {@link LogWriter}. */
export interface LogWriterOptions {
  /** milliseconds a line may wait in memory before it is written; default 200 */
  flushMs?: number;
  /** files written at the same time during a flush; default 32 */
  concurrency?: number;
  /** called with a write error of a timer-driven flush (a `flush()` call rejects instead); default: rethrown (the process fails, as a failed sync write did) */
  onError?: (err: unknown) => void;
}

/**
 * Writes the appends of many {@link RotatingLogFile}s asynchronously, batched: an append only
 * queues its text; within `flushMs` every file with queued text gets one asynchronous append (and
 * its rotations), at most `concurrency` files at a time. Each file's lines reach it in order;
 * flushes never overlap. One writer can serve every emulated worker of a process.
 */
export class LogWriter {
  private readonly dirty = new Set<RotatingLogFile>();
  private readonly flushMs: number;
  private readonly concurrency: number;
  private readonly onError: (err: unknown) => void;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(options: LogWriterOptions = {}) {
    this.flushMs = options.flushMs ?? 200;
    this.concurrency = options.concurrency ?? 32;
    if (!(this.flushMs >= 0) || !Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`LogWriter: flushMs must be >= 0 and concurrency a positive integer, got ${this.flushMs}, ${this.concurrency}`);
    }
    this.onError = options.onError ?? ((err) => setImmediate(() => { throw err; }));
  }

  /** Queues `file` for the next flush (called by RotatingLogFile.append). */
  schedule(file: RotatingLogFile): void {
    this.dirty.add(file);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch(this.onError);
    }, this.flushMs);
  }

  /**
   * Writes everything queued so far (after any flush in progress). Resolves when it is in the files.
   * @throws the file system's error of a write or rename (the text of that file stays queued).
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writeDirty());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Flushes and stops the timer; later appends are still written by `flush()` or a new timer. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  private async writeDirty(): Promise<void> {
    const files = [...this.dirty];
    this.dirty.clear();
    let next = 0;
    const errors: unknown[] = [];
    const lane = async () => {
      while (next < files.length) {
        const file = files[next++]!;
        try {
          await file.writeQueued();
        } catch (err) {
          errors.push(err);
          this.dirty.add(file);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, files.length) }, lane));
    if (errors.length) throw errors[0];
  }
}

/**
 * Append-only log file rotated by size: when an append would push the file past `rotateBytes`,
 * the file is renamed to `<path>.1` (replacing the previous `.1`) and a new file is started.
 * Appends are queued in memory and written by `writer` ({@link LogWriter}: batched, asynchronous);
 * a reader sees whole appends (one request's lines) once they are flushed, never a part of one
 * except while a write is in progress (a tailer leaves a line without its "\n" for later).
 */
export class RotatingLogFile {
  private size: number;
  private queued: string[] = [];

  constructor(
    readonly path: string,
    private readonly rotateBytes: number,
    private readonly writer: LogWriter,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = fileSize(path);
  }

  /** Queues `text` (whole lines) for the writer's next flush. */
  append(text: string): void {
    if (!text) return;
    this.queued.push(text);
    this.writer.schedule(this);
  }

  /**
   * Writes the queued appends in order, rotating before an append that would pass `rotateBytes`
   * (for the LogWriter; one call at a time per file).
   * @throws the file system's error; what was not written stays queued.
   */
  async writeQueued(): Promise<void> {
    while (this.queued.length) {
      // the longest run of queued appends that fits before the next rotation (at least one)
      let bytes = Buffer.byteLength(this.queued[0]!);
      if (this.size > 0 && this.size + bytes > this.rotateBytes) {
        await rename(this.path, `${this.path}.1`);
        this.size = 0;
      }
      let n = 1;
      while (n < this.queued.length) {
        const more = Buffer.byteLength(this.queued[n]!);
        if (this.size + bytes + more > this.rotateBytes) break;
        bytes += more;
        n++;
      }
      await appendFile(this.path, this.queued.slice(0, n).join(''));
      this.queued.splice(0, n);
      this.size += bytes;
    }
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
