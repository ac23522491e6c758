/**
 * The log tailer: follows each worker's log file and appends one `TaskCompleted` per
 * `worker request <id>: completed: …` line (Cocoon WorkerRunningRequest.cpp:299), with the Cocoon
 * request id as the event id. Other lines are ignored; a completion line that does not parse is
 * dead-lettered. The position (inode, offset) is kept in the cursor bucket after the events are
 * acknowledged; rotation (the file renamed to `<path>.1`, a new one created) and truncation are
 * followed. A log seen for the first time is read from its end: earlier work is not the pool's.
 */
import { open, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { PoolEvent } from '../../schemas/catalog.ts';
import type { CursorStore } from '../../streams/cursors.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { LogLineError, parseTaskCompletedLine } from './logLine.ts';
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
}

interface Cursor {
  ino: number;
  offset: number;
}

const CHUNK = 4 * 1024 * 1024;

/** Reads complete lines of `path` from `offset`; returns them and the offset after the last one. */
async function readLines(path: string, offset: number): Promise<{ lines: string[]; offset: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
    const text = buf.subarray(0, bytesRead);
    const end = text.lastIndexOf(0x0a);
    if (end < 0) return { lines: [], offset };
    return { lines: text.subarray(0, end).toString('utf8').split('\n'), offset: offset + end + 1 };
  } finally {
    await fh.close();
  }
}

async function inode(path: string): Promise<{ ino: number; size: number } | null> {
  try {
    const s = await stat(path);
    return { ino: s.ino, size: s.size };
  } catch {
    return null;
  }
}

/** Turns lines into events; malformed completion lines are dead-lettered. */
async function toEvents(workerId: string, lines: string[], options: LogTailerOptions, where: string): Promise<PoolEvent[]> {
  const events: PoolEvent[] = [];
  const observedAtMs = Date.now();
  for (const line of lines) {
    try {
      const t = parseTaskCompletedLine(line);
      if (!t) continue;
      events.push({ type: 'TaskCompleted', version: 1, id: t.requestId, data: { workerId, ...t, observedAtMs } });
    } catch (err) {
      if (!(err instanceof LogLineError)) throw err;
      await options.deadLetter({ source: 'tailer', reason: err.message, payload: line, context: { workerId, file: where } });
    }
  }
  return events;
}

/** One pass over one log: returns the new cursor (after appending what it read). */
async function tailOnce(log: TailedLog, cursor: Cursor | null, options: LogTailerOptions): Promise<Cursor | null> {
  const now = await inode(log.path);
  if (!now) return cursor;
  if (!cursor) return { ino: now.ino, offset: options.fromStart ? 0 : now.size };
  let { ino, offset } = cursor;
  if (ino !== now.ino) {
    // rotated: finish the old file if it is still there as <path>.1, then start the new one
    const old = await inode(`${log.path}.1`);
    if (old && old.ino === ino && old.size > offset) {
      for (;;) {
        const r = await readLines(`${log.path}.1`, offset);
        if (!r.lines.length) break;
        await appendAll(log.workerId, r.lines, options, `${log.path}.1`);
        offset = r.offset;
      }
    }
    ino = now.ino;
    offset = 0;
  } else if (now.size < offset) {
    offset = 0; // truncated in place
  }
  while (offset < now.size) {
    const r = await readLines(log.path, offset);
    if (!r.lines.length) break; // only a partial line so far
    await appendAll(log.workerId, r.lines, options, log.path);
    offset = r.offset;
  }
  return { ino, offset };
}

async function appendAll(workerId: string, lines: string[], options: LogTailerOptions, where: string): Promise<void> {
  const events = await toEvents(workerId, lines, options, where);
  for (let i = 0; i < events.length; i += 500) {
    await options.store.appendMany(events.slice(i, i + 500).map((event) => ({ subject: `pool.work.${workerId}`, event })));
  }
}

/** Tails every log until `signal` aborts. Errors of one file are logged and retried next pass. */
export async function runLogTailer(options: LogTailerOptions): Promise<void> {
  const cursors = new Map<string, Cursor | null>();
  for (const log of options.logs) cursors.set(log.workerId, await options.cursors.get<Cursor>(`tailer.${log.workerId}`));
  while (!options.signal.aborted) {
    for (const log of options.logs) {
      try {
        const before = cursors.get(log.workerId) ?? null;
        const after = await tailOnce(log, before, options);
        if (after && (after.ino !== before?.ino || after.offset !== before?.offset)) {
          await options.cursors.put(`tailer.${log.workerId}`, after);
          cursors.set(log.workerId, after);
        }
      } catch (err) {
        options.logger.error({ err, workerId: log.workerId, path: log.path }, 'tailing failed; retrying');
      }
    }
    await sleep(options.intervalMs ?? 500, options.signal);
  }
}
