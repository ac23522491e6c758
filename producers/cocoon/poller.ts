/**
 * The /jsonstats poller: every interval it GETs each worker's `/jsonstats` (Cocoon worker HTTP,
 * port 12000+10·i, HTTP/1.0) and appends `WorkerStatsSampled` (raw cumulative totals) for a good
 * reply — the heartbeat — or `WorkerPollFailed` for a miss. A reply that does not parse is also
 * dead-lettered with the body, so the evidence is kept.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { PoolEvent } from '../../schemas/catalog.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { JsonStatsError, parseJsonStats } from './jsonstats.ts';
import { workerHealth } from './workerHealth.ts';
import { sleep } from '../../runtime/sleep.ts';

export interface PolledWorker {
  id: string;
  /** base URL, e.g. http://127.0.0.1:12000 */
  url: string;
  /** the worker's http_access_hash, when it is configured */
  accessHash?: string;
}

export interface PollerOptions {
  workers: readonly PolledWorker[];
  intervalMs: number;
  /** per-request timeout, milliseconds; default min(5000, interval) */
  timeoutMs?: number;
  store: EventStore;
  deadLetter: DeadLetterSink;
  logger: Logger;
  signal: AbortSignal;
}

type Reply = { ok: true; body: string } | { ok: false; kind: 'connect' | 'timeout' | 'http'; reason: string };

const MAX_BODY = 1024 * 1024;

/** One GET of `<url>/jsonstats`; never throws. */
export function fetchJsonStats(worker: PolledWorker, timeoutMs: number): Promise<Reply> {
  const url = new URL('/jsonstats', worker.url);
  if (worker.accessHash) url.searchParams.set('access_hash', worker.accessHash);
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY) req.destroy(new Error(`reply larger than ${MAX_BODY} bytes`));
      });
      res.on('end', () => {
        if (res.statusCode !== 200) resolve({ ok: false, kind: 'http', reason: `HTTP ${res.statusCode}: ${body.slice(0, 200)}` });
        else resolve({ ok: true, body });
      });
      res.on('error', (err) => resolve({ ok: false, kind: 'connect', reason: err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no reply within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, kind: err.code === 'ETIMEDOUT' ? 'timeout' : 'connect', reason: err.code ? `${err.code}: ${err.message}` : err.message }),
    );
  });
}

/** Polls one worker and returns the event to append (and dead-letters an unparsable body). */
export async function pollWorker(worker: PolledWorker, timeoutMs: number, deadLetter: DeadLetterSink): Promise<PoolEvent> {
  const started = Date.now();
  const reply = await fetchJsonStats(worker, timeoutMs);
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
      },
    };
  } catch (err) {
    const reason = err instanceof JsonStatsError ? err.message : `unexpected: ${String(err)}`;
    await deadLetter({ source: 'poller', reason, payload: reply.body, context: { workerId: worker.id, url: worker.url } });
    return failed('parse', reason);
  }
}

/**
 * Polls every worker each `intervalMs` until `signal` aborts. A round that overruns the interval
 * delays the next one (never two at once).
 */
export async function runPoller(options: PollerOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? Math.min(5000, options.intervalMs);
  while (!options.signal.aborted) {
    const started = Date.now();
    try {
      const events = await Promise.all(options.workers.map((w) => pollWorker(w, timeoutMs, options.deadLetter)));
      await options.store.appendMany(events.map((event) => ({ subject: `pool.telemetry.${(event.data as { workerId: string }).workerId}`, event })));
    } catch (err) {
      options.logger.error({ err }, 'poll round failed');
    }
    const wait = Math.max(0, options.intervalMs - (Date.now() - started));
    await sleep(wait, options.signal);
  }
}
