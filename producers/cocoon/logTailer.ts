/**
 * The log tailer: follows each worker's log file and appends one `TaskCompleted` per
 * `worker request <id>: completed: …` line (Cocoon WorkerRunningRequest.cpp:299; the line rules
 * are in logLine.ts), with the Cocoon request id as the event id. Other lines are ignored.
 *
 * Nothing read is lost without a trace; each of these is dead-lettered on `dlq.pool.tailer` with
 * its reason and the file, offset and worker in the context, and reading goes on:
 * - a line holding the completion words that cannot be counted (LogLineError: malformed,
 *   out-of-range, foreign-line, invalid UTF-8, …);
 * - a line longer than `maxLineBytes`: its first {@link DEAD_LETTER_HEAD_BYTES} bytes and its
 *   length (a lower bound while it has no end yet); the tailer skips through its "\n";
 * - a conflict: a request id first read from another worker's log, or read again with other
 *   fields. The first reading stands (it is the one counted); the later line is the dead letter.
 *   A request id's first reading is claimed in the cursor bucket (`task.<id>` → worker and sha256
 *   of the parsed fields), so a conflict is caught whatever the time between the two lines. The
 *   same line read again (a re-read after a crash or a restart) is an idempotent duplicate and
 *   is appended again (JetStream's duplicate window and the projections count it once);
 * - a completion the TaskCompleted schema refuses (so one such line cannot stall the file);
 * - the unterminated last line of a rotated file.
 * A line without its "\n" yet is left for the next pass (never parsed half-written).
 *
 * The position is kept in the cursor bucket (`tailer.<worker id>`) after the events are
 * acknowledged: the file's inode, the offset consumed, and a fingerprint of the file's head (the
 * sha256 of its first min(offset, {@link HEAD_BYTES}) bytes). Rotation (the file renamed to
 * `<path>.1`, a new one created) is followed: the old file is finished, then the new one is read
 * from its start. Truncation in place (copytruncate), even when the file has grown past the old
 * offset again before the next read, changes the head, so the file is read again from its start.
 * A log seen for the first time is read from its end: earlier work is not the pool's.
 *
 * A pass first stats every log ({@link STAT_CONCURRENCY} at a time): a file whose inode, size and
 * mtime are those of the previous pass was not written since, and is not opened (with thousands
 * of mostly idle logs a pass is then one stat per file).
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { EventValidationError, subjectFor, validateEvent, type PoolEvent } from '../../schemas/catalog.ts';
import type { CursorStore } from '../../streams/cursors.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { LogLineError, parseTaskCompletedBytes, type TaskCompletedLine } from './logLine.ts';
import { sleep } from '../../runtime/sleep.ts';

export interface TailedLog {
  workerId: string;
  path: string;
}

export interface LogTailerOptions {
  logs: readonly TailedLog[];
  store: EventStore;
  cursors: CursorStore;
  deadLetter: DeadLetterSink;
  logger: Logger;
  signal: AbortSignal;
  /** milliseconds between reads; default 500 */
  intervalMs?: number;
  /** read a log seen for the first time from its start instead of its end */
  fromStart?: boolean;
  /** longest line read, bytes (without its "\n"); longer ones are dead-lettered; default {@link MAX_LINE_BYTES} */
  maxLineBytes?: number;
}

/** Default line limit: a completion line is under 400 bytes; 1 MiB leaves room for any other output. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** How much of an overlong line is kept in its dead letter, bytes. */
export const DEAD_LETTER_HEAD_BYTES = 4096;
/** How many of a file's first bytes its head fingerprint covers (once that much was read). */
export const HEAD_BYTES = 4096;

/**
 * A tailer cursor as stored (JSON) under `tailer.<worker id>`, format version 2. Version 1 (the
 * first release) was `{ ino, offset }`; {@link readTailerCursor} migrates it.
 */
export interface TailerCursor {
  v: 2;
  ino: number;
  /** bytes of the file consumed (always at a line end, or inside an overlong line being skipped) */
  offset: number;
  /** sha256 (hex) of the file's first `bytes` bytes, bytes = min(offset, HEAD_BYTES); null = not taken yet */
  head: { bytes: number; sha256: string } | null;
  /** inside an overlong line already dead-lettered: discard through the next "\n" */
  skipping: boolean;
}

/** The claim of a request id's first reading, stored under `task.<request id>`. */
interface TaskClaim {
  workerId: string;
  /** sha256 (hex) of the parsed line's fields (TaskCompletedLine as JSON) */
  sha256: string;
}

/**
 * Validates a stored tailer cursor, migrating format 1 (`{ ino, offset }`: no head fingerprint,
 * taken on the next read) to format 2.
 * @throws Error naming the key when the value is neither format (so the tailer does not guess a position).
 */
export function readTailerCursor(key: string, value: unknown): TailerCursor | null {
  if (value === null) return null;
  const v = value as Partial<TailerCursor> & Record<string, unknown>;
  const offsetOk = Number.isSafeInteger(v.ino) && Number.isSafeInteger(v.offset) && (v.offset as number) >= 0;
  if (offsetOk && v.v === undefined && Object.keys(v).length === 2) return { v: 2, ino: v.ino!, offset: v.offset!, head: null, skipping: false };
  const headOk = v.head === null || (typeof v.head === 'object' && Number.isSafeInteger(v.head?.bytes) && /^[0-9a-f]{64}$/.test(String(v.head?.sha256)));
  if (offsetOk && v.v === 2 && headOk && typeof v.skipping === 'boolean') return { v: 2, ino: v.ino!, offset: v.offset!, head: v.head!, skipping: v.skipping };
  throw new Error(
    `cursor ${key} in the cursor bucket has an unknown format (${JSON.stringify(value).slice(0, 200)}); ` +
      `delete that key to read the log again from its end (or from its start with emulated workers)`,
  );
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

/** The head fingerprint of the open file for a cursor at `offset`. */
async function headOf(fh: FileHandle, offset: number): Promise<TailerCursor['head']> {
  const bytes = Math.min(offset, HEAD_BYTES);
  return bytes ? { bytes, sha256: sha256(await readAt(fh, 0, bytes)) } : null;
}

class Tail {
  constructor(
    private readonly log: TailedLog,
    private readonly options: LogTailerOptions,
  ) {}

  private get maxLine(): number {
    return this.options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  /** One pass over the log: returns the new cursor (after appending what it read). */
  async once(cursor: TailerCursor | null): Promise<TailerCursor | null> {
    const fh = await openIfExists(this.log.path);
    if (!fh) return cursor;
    try {
      const { ino, size } = await fh.stat();
      if (!cursor) {
        const offset = this.options.fromStart ? 0 : size;
        return { v: 2, ino, offset, head: await headOf(fh, offset), skipping: false };
      }
      let c = cursor;
      if (c.ino !== ino) {
        await this.finishRotated(c);
        c = { v: 2, ino, offset: 0, head: null, skipping: false };
      } else if (await this.replacedInPlace(fh, c, size)) {
        this.options.logger.warn({ workerId: this.log.workerId, path: this.log.path, offset: c.offset, size }, 'log truncated in place (copytruncate); reading it again from its start');
        c = { v: 2, ino, offset: 0, head: null, skipping: false };
      }
      return await this.drain(fh, size, c, this.log.path);
    } finally {
      await fh.close();
    }
  }

  /** Truncated (shorter than what was consumed) or its head is not the one read. */
  private async replacedInPlace(fh: FileHandle, c: TailerCursor, size: number): Promise<boolean> {
    if (size < c.offset) return true;
    if (!c.head) return false;
    return sha256(await readAt(fh, 0, c.head.bytes)) !== c.head.sha256;
  }

  /** Reads the rotated `<path>.1` to its end when it is the file the cursor was in. */
  private async finishRotated(c: TailerCursor): Promise<void> {
    const where = `${this.log.path}.1`;
    const fh = await openIfExists(where);
    const st = fh ? await fh.stat() : null;
    try {
      if (!fh || !st || st.ino !== c.ino) {
        this.options.logger.warn({ workerId: this.log.workerId, path: this.log.path }, 'log rotated and its old file is not at <path>.1: the lines after the cursor in it are not read');
        return;
      }
      const end = await this.drain(fh, st.size, c, where);
      if (!end.skipping && end.offset < st.size) {
        const rest = await readAt(fh, end.offset, Math.min(st.size - end.offset, DEAD_LETTER_HEAD_BYTES));
        await this.deadLetter(`unterminated last line (${st.size - end.offset} bytes) of a rotated log: not counted`, rest, where, end.offset);
      }
    } finally {
      await fh?.close();
    }
  }

  /** Reads complete lines of the open file from the cursor up to `size`; returns the cursor after them. */
  private async drain(fh: FileHandle, size: number, from: TailerCursor, where: string): Promise<TailerCursor> {
    let { offset, skipping } = from;
    while (offset < size) {
      const buf = await readAt(fh, offset, Math.min(size - offset, this.maxLine + 1));
      if (!buf.length) break;
      const firstEnd = buf.indexOf(0x0a);
      if (skipping) {
        if (firstEnd < 0) offset += buf.length;
        else [offset, skipping] = [offset + firstEnd + 1, false];
        continue;
      }
      if (firstEnd < 0) {
        if (buf.length <= this.maxLine) break; // a line without its "\n" yet: wait for the rest
        [offset, skipping] = await this.skipOverlong(fh, size, offset, buf, where);
        continue;
      }
      const end = buf.lastIndexOf(0x0a);
      await this.append(buf.subarray(0, end), offset, where);
      offset += end + 1;
    }
    const head = from.head && from.head.bytes >= Math.min(offset, HEAD_BYTES) && offset >= from.offset ? from.head : await headOf(fh, offset);
    return { v: 2, ino: from.ino, offset, head, skipping };
  }

  /** Dead-letters the overlong line at `offset` (its head and length) and returns where reading goes on. */
  private async skipOverlong(fh: FileHandle, size: number, offset: number, first: Buffer, where: string): Promise<[number, boolean]> {
    let at = offset + first.length;
    let lineEnd = -1;
    while (lineEnd < 0 && at < size) {
      const buf = await readAt(fh, at, Math.min(size - at, 1024 * 1024));
      if (!buf.length) break;
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) lineEnd = at + nl;
      else at += buf.length;
    }
    const length = (lineEnd >= 0 ? lineEnd : at) - offset;
    const reason =
      lineEnd >= 0
        ? `line of ${length} bytes exceeds the ${this.maxLine}-byte limit: skipped (payload: its first ${DEAD_LETTER_HEAD_BYTES} bytes)`
        : `line of at least ${length} bytes, not ended yet, exceeds the ${this.maxLine}-byte limit: skipped through its end (payload: its first ${DEAD_LETTER_HEAD_BYTES} bytes)`;
    this.options.logger.warn({ workerId: this.log.workerId, path: where, offset, length }, 'overlong log line dead-lettered');
    await this.deadLetter(reason, first.subarray(0, DEAD_LETTER_HEAD_BYTES), where, offset, { length });
    return lineEnd >= 0 ? [lineEnd + 1, false] : [at, true];
  }

  private deadLetter(reason: string, payload: Uint8Array | string, file: string, offset: number, extra: Record<string, string | number> = {}): Promise<void> {
    return this.options.deadLetter({ source: 'tailer', reason, payload, context: { workerId: this.log.workerId, file, offset, ...extra } });
  }

  /** Parses the lines of `text` (read at `offset`, without its last "\n"), claims their request ids and appends the events. */
  private async append(text: Buffer, offset: number, where: string): Promise<void> {
    const { workerId } = this.log;
    const observedAtMs = Date.now();
    const read: { event: Extract<PoolEvent, { type: 'TaskCompleted' }>; sha256: string; line: Buffer; offset: number }[] = [];
    for (let start = 0; start <= text.length; ) {
      let end = text.indexOf(0x0a, start);
      if (end < 0) end = text.length;
      const line = text.subarray(start, end);
      const at = offset + start;
      start = end + 1;
      let task: TaskCompletedLine | null;
      try {
        task = parseTaskCompletedBytes(line);
      } catch (err) {
        if (!(err instanceof LogLineError)) throw err;
        await this.deadLetter(err.message, line, where, at);
        continue;
      }
      if (!task) continue;
      const event = { type: 'TaskCompleted', version: 1, id: task.requestId, data: { workerId, ...task, observedAtMs } } as const;
      try {
        validateEvent(event); // a line the schema refuses must not stall the file: every later line would wait behind it
      } catch (err) {
        if (!(err instanceof EventValidationError)) throw err;
        await this.deadLetter(`refused by the TaskCompleted schema: ${err.message}`, line, where, at);
        continue;
      }
      read.push({ event, sha256: sha256(JSON.stringify(task)), line, offset: at });
    }
    const claims = await Promise.all(read.map((r) => this.options.cursors.putIfAbsent<TaskClaim>(`task.${r.event.id}`, { workerId, sha256: r.sha256 })));
    const events: PoolEvent[] = [];
    for (let i = 0; i < read.length; i++) {
      const { event, sha256: digest, line, offset: at } = read[i]!;
      const first = claims[i];
      if (first && (first.workerId !== workerId || first.sha256 !== digest)) {
        const reason =
          first.workerId !== workerId
            ? `conflict: request id ${event.id} was first read from worker ${first.workerId}'s log; this line in worker ${workerId}'s log is not counted`
            : `conflict: request id ${event.id} was first read with other fields (sha256 ${first.sha256}); this line (sha256 ${digest}) is not counted`;
        this.options.logger.warn({ workerId, requestId: event.id, firstWorkerId: first.workerId, path: where, offset: at }, 'conflicting task completion dead-lettered');
        await this.deadLetter(reason, line, where, at, { requestId: event.id, firstWorkerId: first.workerId, firstSha256: first.sha256 });
        continue;
      }
      events.push(event);
    }
    for (let i = 0; i < events.length; i += 500) {
      await this.options.store.appendMany(events.slice(i, i + 500).map((event) => ({ subject: subjectFor('work', workerId), event })));
    }
  }
}

/**
 * Tails every log until `signal` aborts. Errors of one file are logged and retried next pass
 * (from the last stored cursor, so nothing is skipped).
 * @throws Error at start when a stored cursor has an unknown format (see {@link readTailerCursor}).
 */
export async function runLogTailer(options: LogTailerOptions): Promise<void> {
  const cursors = new Map<string, TailerCursor | null>();
  for (const log of options.logs) {
    const key = `tailer.${log.workerId}`;
    cursors.set(log.workerId, readTailerCursor(key, await options.cursors.get<unknown>(key)));
  }
  const tails = options.logs.map((log) => ({ log, tail: new Tail(log, options), seen: null as FileSeen | null }));
  while (!options.signal.aborted) {
    // which files changed since their last pass (stat taken before reading: a write during the read shows next pass)
    const now = await mapLimit(tails, STAT_CONCURRENCY, (t) => seenNow(t.log.path));
    for (const [i, t] of tails.entries()) {
      const { log, tail } = t;
      const seen = now[i]!;
      if (seen && t.seen && sameFile(seen, t.seen) && cursors.get(log.workerId)) continue;
      try {
        const before = cursors.get(log.workerId) ?? null;
        const after = await tail.once(before);
        if (after && JSON.stringify(after) !== JSON.stringify(before)) {
          await options.cursors.put(`tailer.${log.workerId}`, after);
          cursors.set(log.workerId, after);
        }
        t.seen = before ? seen : null; // a first pass only places the cursor: the next one reads
      } catch (err) {
        t.seen = null;
        options.logger.error({ err, workerId: log.workerId, path: log.path }, 'tailing failed; retrying');
      }
    }
    await sleep(options.intervalMs ?? 500, options.signal);
  }
}

/** Logs stat'ed at the same time at the start of a pass. */
export const STAT_CONCURRENCY = 64;

/** What a pass saw of a file: equal on two passes = not written in between. */
interface FileSeen {
  ino: number;
  size: number;
  mtimeNs: bigint;
}

/** The file's identity, size and mtime (ns); null when it is missing or cannot be stat'ed (then it is read as usual). */
async function seenNow(path: string): Promise<FileSeen | null> {
  try {
    const st = await stat(path, { bigint: true });
    return { ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
  } catch {
    return null;
  }
}

function sameFile(a: FileSeen, b: FileSeen): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** `fn` over `items`, at most `limit` at a time; results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
