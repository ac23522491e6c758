/**
 * The /jsonstats poller: each worker is polled on its own schedule, every interval, by its own
 * loop: it GETs the worker's `/jsonstats` (Cocoon worker HTTP, port 12000+10·i, HTTP/1.0, one
 * request per connection) and appends `WorkerStatsSampled` (raw cumulative totals) for a good
 * reply — the heartbeat — or `WorkerPollFailed` for a miss. A poll has a total deadline (connect,
 * headers and the whole body: a body dripping a byte at a time is cut at the deadline) and a body
 * cap; a poll past either is a miss with its reason. A slow worker delays only its own polls. A
 * reply that does not parse is also dead-lettered with the body, so the evidence is kept.
 *
 * At scale (100,000 workers) at most `maxInFlight` polls are open at once (p-limit, first come first
 * served, so every worker gets its turn), and the events of polls that end together are appended
 * in one `appendMany` (group commit) instead of one round trip each. A poller that cannot poll every
 * worker within the interval says so: a warning once a minute with how late the polls are.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import { subjectFor, type PoolEvent } from '../../schemas/catalog.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { JsonStatsError, parseJsonStats } from './jsonstats.ts';
import { workerHealth } from './workerHealth.ts';
import pLimit from 'p-limit';
import { sleep } from '../../runtime/sleep.ts';

export interface PolledWorker {
  id: string;
  /**
   * base URL, e.g. http://127.0.0.1:12000; its path, if any, is kept (`/jsonstats` is joined
   * below it: http://127.0.0.1:12000/w17 → http://127.0.0.1:12000/w17/jsonstats)
   */
  url: string;
  /** the worker's http_access_hash, when it is configured */
  accessHash?: string;
}

export interface PollerOptions {
  workers: readonly PolledWorker[];
  intervalMs: number;
  /** total deadline of one poll (connect to last body byte), milliseconds; default min(5000, interval) */
  deadlineMs?: number;
  /** largest `/jsonstats` body accepted, bytes; default {@link MAX_BODY_BYTES} */
  maxBodyBytes?: number;
  /** most polls open at once (sockets); default {@link MAX_POLLS_IN_FLIGHT} */
  maxInFlight?: number;
  store: EventStore;
  deadLetter: DeadLetterSink;
  logger: Logger;
  signal: AbortSignal;
}

type Reply = { ok: true; body: string } | { ok: false; kind: 'connect' | 'timeout' | 'http'; reason: string };

/** Default bound on the polls open at once: far below the process's file descriptors, enough for 2 s polls of 10,000 fast workers. */
export const MAX_POLLS_IN_FLIGHT = 256;
/** Most events one group commit of the poller appends. */
const MAX_APPEND_BATCH = 500;

/** Default body cap: a real `/jsonstats` is a few KiB (one entry per proxy); 1 MiB is far beyond it. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** `<base>/<path>`: `path` joined below the base URL's path (new URL('/x', base) would drop it). */
export function workerUrl(base: string, path: string): URL {
  return new URL(path, base.endsWith('/') ? base : `${base}/`);
}

/**
 * One GET of `<url>/jsonstats` within `deadlineMs` (total: connect, head and body) and with a
 * body of at most `maxBodyBytes` (a larger Content-Length is refused before the body is read).
 * Never throws: a miss is `{ ok: false, kind, reason }` — `timeout` past the deadline, `http`
 * for a non-200 status or an oversized body, `connect` for a socket error.
 */
export function fetchJsonStats(worker: PolledWorker, deadlineMs: number, maxBodyBytes = MAX_BODY_BYTES): Promise<Reply> {
  const url = workerUrl(worker.url, 'jsonstats');
  if (worker.accessHash) url.searchParams.set('access_hash', worker.accessHash);
  return new Promise((resolve) => {
    let settled = false;
    let received = 0;
    let req: http.ClientRequest | null = null;
    const finish = (reply: Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(reply);
      req?.destroy();
    };
    const deadline = setTimeout(
      () => finish({ ok: false, kind: 'timeout', reason: `deadline: no complete reply within ${deadlineMs} ms (${received} body bytes received)` }),
      deadlineMs,
    );
    try {
      req = http.get(url, { agent: false }, (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBodyBytes) {
          return finish({ ok: false, kind: 'http', reason: `body too large: Content-Length ${declared} exceeds the ${maxBodyBytes}-byte cap` });
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBodyBytes) return finish({ ok: false, kind: 'http', reason: `body too large: more than ${maxBodyBytes} bytes (the cap)` });
          chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) finish({ ok: false, kind: 'http', reason: `HTTP ${res.statusCode}: ${body.slice(0, 200)}` });
          else finish({ ok: true, body });
        });
        res.on('error', (err) => finish({ ok: false, kind: 'connect', reason: err.message }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, kind: 'connect', reason: err.code ? `${err.code}: ${err.message}` : err.message }));
    } catch (err) {
      finish({ ok: false, kind: 'connect', reason: `cannot request ${url.origin}: ${(err as Error).message}` }); // e.g. a URL that is not http:
    }
  });
}

/** Polls one worker and returns the event to append (and dead-letters an unparsable body). */
export async function pollWorker(worker: PolledWorker, deadlineMs: number, deadLetter: DeadLetterSink, maxBodyBytes = MAX_BODY_BYTES): Promise<PoolEvent> {
  const started = Date.now();
  const reply = await fetchJsonStats(worker, deadlineMs, maxBodyBytes);
  const observedAtMs = Date.now();
  const failed = (kind: 'connect' | 'timeout' | 'http' | 'parse', reason: string): PoolEvent => ({
    type: 'WorkerPollFailed',
    version: 1,
    id: `pollfail:${worker.id}:${observedAtMs}`,
    data: { workerId: worker.id, observedAtMs, kind, reason: reason.slice(0, 2000) },
  });
  if (!reply.ok) return failed(reply.kind, reply.reason);
  try {
    const stats = parseJsonStats(reply.body);
    const health = workerHealth(stats, Math.floor(observedAtMs / 1000));
    return {
      type: 'WorkerStatsSampled',
      version: 1,
      id: `stats:${worker.id}:${observedAtMs}`,
      data: {
        workerId: worker.id,
        observedAtMs,
        pollMs: observedAtMs - started,
        gitCommit: stats.status.gitCommit ?? '',
        totals: stats.totals,
        rates: stats.rates,
        health: {
          healthy: health.healthy,
          reasons: health.reasons,
          walletBalanceNanoton: stats.status.walletBalanceNanoton === null ? null : String(stats.status.walletBalanceNanoton),
          tonLastSyncedAt: stats.status.tonLastSyncedAt,
        },
        ownerAddress: stats.localConfig.ownerAddress,
        walletAddress: stats.wallet?.address ?? null,
        model: stats.localConfig.model,
        // the first 64 (the event's bound; a worker serves a handful of proxies)
        proxies: stats.proxies.slice(0, 64).map((p) => ({ proxyScAddress: p.proxyScAddress, workerContract: p.scAddress, cashedOutTokens: String(p.cashedOutTokens) })),
      },
    };
  } catch (err) {
    const reason = err instanceof JsonStatsError ? err.message : `unexpected: ${String(err)}`;
    await deadLetter({ source: 'poller', reason, payload: reply.body, context: { workerId: worker.id, url: worker.url } });
    return failed('parse', reason);
  }
}

/**
 * Polls every worker until `signal` aborts, each on its own loop: a worker is polled every
 * `intervalMs` (its first poll after a random delay within one interval, at most 1 s, so the
 * workers do not all connect at once and a long interval does not delay the first sample); a poll
 * that overruns the interval delays only that worker's next one. At most `maxInFlight` polls are
 * open at once; a worker waiting for its turn is polled as soon as one ends (its next poll then
 * comes one interval after it asked, or at once if that has passed). Events are appended in group
 * commits (one `appendMany` for every poll that ended while the previous one was in flight, at most
 * {@link MAX_APPEND_BATCH}). An append that fails (the broker unreachable) is logged and the loops go on.
 */
export async function runPoller(options: PollerOptions): Promise<void> {
  const deadlineMs = options.deadlineMs ?? Math.min(5000, options.intervalMs);
  const limit = pLimit(options.maxInFlight ?? MAX_POLLS_IN_FLIGHT);
  const append = groupCommit(options.store);
  let lateSinceMs = 0;
  let lateMaxMs = 0;
  let lateCount = 0;
  const late = (ms: number) => {
    lateCount++;
    lateMaxMs = Math.max(lateMaxMs, ms);
    if (!lateSinceMs) lateSinceMs = Date.now();
    else if (Date.now() - lateSinceMs >= 60_000) {
      options.logger.warn({ latePolls: lateCount, lateMaxMs, workers: options.workers.length, maxInFlight: limit.concurrency, intervalMs: options.intervalMs }, `${lateCount} polls started later than their interval in the last minute (up to ${lateMaxMs} ms): the poller cannot poll ${options.workers.length} workers every ${options.intervalMs} ms with ${limit.concurrency} in flight`);
      lateSinceMs = Date.now();
      lateMaxMs = lateCount = 0;
    }
  };
  const pollLoop = async (worker: PolledWorker) => {
    await sleep(Math.random() * Math.min(options.intervalMs, 1000), options.signal);
    let due = Date.now();
    while (!options.signal.aborted) {
      try {
        const event = await limit(() => {
          const wait = Date.now() - due;
          if (wait > options.intervalMs) late(wait);
          return options.signal.aborted ? null : pollWorker(worker, deadlineMs, options.deadLetter, options.maxBodyBytes);
        });
        if (event) await append(subjectFor('telemetry', worker.id), event);
      } catch (err) {
        options.logger.error({ err, workerId: worker.id }, 'poll failed to record');
      }
      await sleep(due + options.intervalMs - Date.now(), options.signal);
      due = Math.max(due + options.intervalMs, Date.now() - options.intervalMs);
    }
  };
  await Promise.all(options.workers.map(pollLoop));
}

/**
 * Appends through `store.appendMany` in group commits: events handed in while a commit is in
 * flight wait for it and go together in the next one (at most {@link MAX_APPEND_BATCH}). Each
 * caller's promise settles with its own event's commit. @throws what appendMany throws, to every caller of that commit.
 */
function groupCommit(store: EventStore): (subject: string, event: PoolEvent) => Promise<void> {
  let queue: { subject: string; event: PoolEvent; done: (err?: unknown) => void }[] = [];
  let committing = false;
  const commit = async () => {
    committing = true;
    while (queue.length) {
      const batch = queue.slice(0, MAX_APPEND_BATCH);
      queue = queue.slice(batch.length);
      try {
        await store.appendMany(batch.map(({ subject, event }) => ({ subject, event })));
        for (const item of batch) item.done();
      } catch (err) {
        for (const item of batch) item.done(err);
      }
    }
    committing = false;
  };
  return (subject, event) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ subject, event, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!committing) void commit();
    });
}
