/**
 * Single-writer leases: exactly one active instance does each piece of single-writer work (the
 * producers' cursors, the projections' checkpoint, each saga's decisions, the alert deliveries),
 * however many instances of a role run, with failover in seconds.
 *
 * A lease is one key of the pool's lease KV bucket (`pool_leases`, streams/names.ts), whose
 * messages the server removes {@link LEASE_TTL_MS} after they were written (the bucket's max age):
 * - acquire: create the key (succeeds only when it holds no live value), or, when the value is our
 *   own holder id (this instance restarted: a data directory is locked by one process, cli/lock.ts),
 *   replace it at its revision;
 * - renew: every {@link RENEW_EVERY_MS}, replace the value at the revision we last wrote (a
 *   compare-and-set: a renew after someone else took the key is refused, and the holder knows);
 * - hold: the holder acts only until `sent + LEASE_TTL_MS − SAFETY_MARGIN_MS`, where `sent` is when
 *   it SENT its last acknowledged write. The server keeps that write at least LEASE_TTL_MS after it
 *   stored it, later than it was sent, so the holder's deadline passes before the key can expire and
 *   before a standby can create it: an instance that loses its lease (cut off, stalled) stops acting
 *   before another starts;
 * - release: a clean stop deletes the key at its revision, so a standby takes over at once.
 *
 * The lease sits on top of the OCC that already refuses a second writer (the sagas' and producers'
 * appends carry `Nats-Expected-Last-Subject-Sequence`; a payout's signed message is recorded before
 * it is sent and a resend is that same message), so work still in flight when the deadline passes
 * can at worst be refused, never be done twice.
 */
import { hostname } from 'node:os';
import { JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { sleep } from '../runtime/sleep.ts';
import { DEFAULT_POOL_NAMES, type PoolNames } from './names.ts';

/** Milliseconds a lease write lives on the server unless renewed (the lease bucket's max age). */
export const LEASE_TTL_MS = 6_000;
/** Milliseconds between two renewals, and between two attempts of a standby to acquire. */
export const RENEW_EVERY_MS = 1_500;
/** Milliseconds the holder stops acting before its last write can expire (clock rate, a stalled event loop). */
export const SAFETY_MARGIN_MS = 1_500;

/** What a lease's value says (JSON), for an operator reading the bucket. */
export interface LeaseHolder {
  /** the instance: `<host>:<data dir>` (stable across restarts of one instance) */
  holder: string;
  pid: number;
  /** when this holder acquired the lease, ms since the epoch */
  acquiredAtMs: number;
}

/** The lease's Prometheus metrics, registered by the caller (read-api/metrics.ts). */
export interface LeaseMetrics {
  /** 1 while this instance holds the lease, else 0; label `lease` */
  active: Gauge<'lease'>;
  /** times this instance acquired the lease (a takeover after a standby wait counts too) */
  acquired: Counter<'lease'>;
  /** times this instance lost a lease it held without giving it up (refused or expired renew) */
  lost: Counter<'lease'>;
}

/** Creates the lease metrics (not registered). */
export function leaseMetrics(): LeaseMetrics {
  return {
    active: new Gauge({ name: 'pool_lease_active', help: 'Whether this instance holds the single-writer lease (1) or stands by (0)', labelNames: ['lease'], registers: [] }),
    acquired: new Counter({ name: 'pool_lease_acquired_total', help: 'Single-writer leases this instance acquired', labelNames: ['lease'], registers: [] }),
    lost: new Counter({ name: 'pool_lease_lost_total', help: 'Single-writer leases this instance lost without releasing them (a refused or late renew): it stopped that work', labelNames: ['lease'], registers: [] }),
  };
}

/** The holder id of this instance: the host and the (resolved) data directory. */
export function instanceHolderId(dataDir: string): string {
  return `${hostname()}:${dataDir}`;
}

export interface LeaseOptions {
  nc: NatsConnection;
  /** whose lease bucket (default the `pool` pool) */
  names?: PoolNames;
  /** the lease key: a KV token, e.g. `epoch-saga`, `projections` */
  key: string;
  /** this instance ({@link instanceHolderId}) */
  holder: string;
  logger: Logger;
  /** stops the work, releases the lease and ends {@link runUnderLease} */
  signal: AbortSignal;
  metrics?: LeaseMetrics;
  /** called (for tests and logs) each time this instance starts and stops acting, with Date.now() */
  onTransition?: (transition: { active: boolean; atMs: number; reason: string }) => void;
}

/**
 * Runs `work` only while this instance holds lease `key`: stands by until it acquires it, runs
 * `work(signal)` with a signal that aborts when the lease is lost (a refused renew: someone else
 * holds it; or no acknowledged renew before the deadline), waits for `work` to return, and stands
 * by again. `work` must stop promptly when its signal aborts. When `work` returns or throws while
 * the lease holds, the lease is released and the result passed on (the caller supervises). Ends
 * when `options.signal` aborts, after `work` stopped and the lease was released.
 * @throws what `work` throws; never for NATS being unavailable (it waits and logs).
 */
export async function runUnderLease(options: LeaseOptions, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const names = options.names ?? DEFAULT_POOL_NAMES;
  const { key, logger, signal } = options;
  const kv: KV = await new Kvm(options.nc).open(names.leaseBucket);
  let waitingLogged = false;
  while (!signal.aborted) {
    const sent = Date.now();
    const value = JSON.stringify({ holder: options.holder, pid: process.pid, acquiredAtMs: sent } satisfies LeaseHolder);
    const got = await acquire(kv, key, options.holder, value).catch((err: unknown) => {
      logger.warn({ err, lease: key }, 'lease bucket unavailable; retrying');
      return { heldBy: null, expiresAtMs: 0 };
    });
    if (typeof got !== 'number') {
      if (!waitingLogged && got.heldBy) logger.info({ lease: key, holder: got.heldBy }, 'standing by: another instance holds the lease');
      waitingLogged ||= got.heldBy !== null;
      // try again at the next renew interval, or as soon as the holder's last write can have expired
      await sleep(Math.min(RENEW_EVERY_MS, Math.max(EXPIRY_SLACK_MS, got.expiresAtMs + EXPIRY_SLACK_MS - Date.now())), signal);
      continue;
    }
    waitingLogged = false;
    await hold(kv, options, value, got, sent, work);
  }
}

/** Milliseconds a standby waits past a holder's expiry (the server removes an expired write on a timer of its own). */
const EXPIRY_SLACK_MS = 50;

/**
 * Creates the key, or takes it over from our own earlier self. Returns the revision written, or
 * who holds it and when (server time, ms) their last write expires.
 */
async function acquire(kv: KV, key: string, holder: string, value: string): Promise<number | { heldBy: string | null; expiresAtMs: number }> {
  try {
    return await kv.create(key, value);
  } catch (err) {
    if (!isWrongSequence(err)) throw err;
  }
  const entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT') return { heldBy: null, expiresAtMs: 0 }; // expired or released between the two calls: next round
  const current = entry.json<LeaseHolder>();
  const held = { heldBy: current.holder, expiresAtMs: entry.created.getTime() + LEASE_TTL_MS };
  if (current.holder !== holder) return held;
  try {
    return await kv.update(key, value, entry.revision);
  } catch (err) {
    if (isWrongSequence(err)) return held;
    throw err;
  }
}

function isWrongSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError ? err.code === 10071 || err.code === 10164 : /wrong last sequence/i.test(String(err));
}

/** Holds an acquired lease: runs the work, renews, stops the work on loss, releases at the end. */
async function hold(kv: KV, options: LeaseOptions, value: string, firstRevision: number, firstSent: number, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const { key, logger, metrics } = options;
  let revision = firstRevision;
  let deadline = firstSent + LEASE_TTL_MS - SAFETY_MARGIN_MS;
  let lost = false;
  const stopWork = new AbortController();
  const onStop = () => stopWork.abort();
  options.signal.addEventListener('abort', onStop, { once: true });
  metrics?.active.set({ lease: key }, 1);
  metrics?.acquired.inc({ lease: key });
  logger.info({ lease: key, holder: options.holder }, 'lease acquired: this instance is active');
  options.onTransition?.({ active: true, atMs: Date.now(), reason: 'acquired' });

  const loseLease = (reason: string) => {
    if (lost) return;
    lost = true;
    metrics?.active.set({ lease: key }, 0);
    metrics?.lost.inc({ lease: key });
    logger.error({ lease: key, reason }, 'lease lost: this instance stops acting and stands by');
    options.onTransition?.({ active: false, atMs: Date.now(), reason });
    stopWork.abort();
  };
  // the deadline is checked by a timer of its own: a renew that hangs must not keep the work running
  let deadlineTimer = setTimeout(() => loseLease('no acknowledged renew before the deadline'), deadline - Date.now());
  const renewing = (async () => {
    while (!stopWork.signal.aborted) {
      await sleep(RENEW_EVERY_MS, stopWork.signal);
      if (stopWork.signal.aborted) return;
      const sent = Date.now();
      try {
        revision = await kv.update(key, value, revision, RENEW_EVERY_MS);
        if (lost) return;
        deadline = sent + LEASE_TTL_MS - SAFETY_MARGIN_MS;
        clearTimeout(deadlineTimer);
        deadlineTimer = setTimeout(() => loseLease('no acknowledged renew before the deadline'), deadline - Date.now());
      } catch (err) {
        if (isWrongSequence(err)) return loseLease('the renew was refused: another instance holds the lease');
        logger.warn({ err, lease: key, msLeft: deadline - Date.now() }, 'lease renew failed; retrying until the deadline');
      }
    }
  })();

  let failure: unknown = null;
  try {
    await work(stopWork.signal);
  } catch (err) {
    failure = err;
  } finally {
    stopWork.abort();
    clearTimeout(deadlineTimer);
    await renewing;
    options.signal.removeEventListener('abort', onStop);
  }
  if (!lost) {
    metrics?.active.set({ lease: key }, 0);
    options.onTransition?.({ active: false, atMs: Date.now(), reason: failure ? 'work failed' : 'released' });
    // a clean stop (or a failure the caller will restart from) hands the lease on at once
    await kv.delete(key, { previousSeq: revision }).catch((err: unknown) => logger.warn({ err, lease: key }, 'lease not released (it expires by itself)'));
  }
  if (failure) throw failure;
}
