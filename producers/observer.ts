/**
 * The pool's observation heartbeat (domain/observation.ts): `PoolObserving` on
 * `pool.observer.poller` at start, every poll interval while running, and on a clean stop, so
 * that uptime, eligibility and reputation are measured only against time the pool was watching.
 * It runs in the process that polls the workers: when that process is down, no worker is polled
 * and no heartbeat promises observation, so the outage counts against nobody.
 */
import type { Logger } from 'pino';
import { subjectFor, type PoolEvent } from '../schemas/catalog.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { sleep } from '../runtime/sleep.ts';

export const OBSERVER_SUBJECT = subjectFor('observer', 'poller');

export interface ObserverOptions {
  store: EventStore;
  /** heartbeat interval, milliseconds (the poll interval) */
  intervalMs: number;
  /** how long each heartbeat promises observation, milliseconds (the uptime credit cap, 3 poll intervals) */
  validForMs: number;
  logger: Logger;
  signal: AbortSignal;
  /** the clock, unix ms; default Date.now */
  now?: () => number;
}

/**
 * Appends heartbeats until `signal` aborts, then a last one promising nothing (a clean stop).
 * A failed append is logged and not retried: the time it would have covered is not observed,
 * which is the truth (the pool could not record what it saw). Never throws.
 */
export async function runObserver(options: ObserverOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const beat = async (phase: 'start' | 'running' | 'stop') => {
    const atMs = now();
    const event: PoolEvent = { type: 'PoolObserving', version: 1, id: `observing:${atMs}:${phase}`, data: { atMs, validForMs: phase === 'stop' ? 0 : options.validForMs, phase } };
    try {
      await options.store.append(OBSERVER_SUBJECT, event);
    } catch (err) {
      options.logger.error({ err, phase }, 'observation heartbeat not recorded: this time counts as the pool\'s own outage');
    }
  };
  await beat('start');
  while (!options.signal.aborted) {
    await sleep(options.intervalMs, options.signal);
    if (options.signal.aborted) break;
    await beat('running');
  }
  await beat('stop');
}
