/**
 * Single-writer leases (streams/lease.ts) on a real nats-server's KV bucket: one active instance at
 * a time, a clean hand-over at once, a cut-off holder stops acting before a standby starts, an
 * instance restarted on its own data directory takes its lease back at once, a refused renew stops
 * the work, and a failing work releases its lease.
 */
import { Kvm } from '@nats-io/kv';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectJetStream, type JetStreamConnection } from '../../streams/connect.ts';
import { LEASE_TTL_MS, leaseMetrics, runUnderLease, SAFETY_MARGIN_MS, type LeaseHolder } from '../../streams/lease.ts';
import { DEFAULT_POOL_NAMES } from '../../streams/names.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

let nats: TestNats;
const opened: JetStreamConnection[] = [];
test.before(async () => {
  nats = await startTestNats();
});
test.after(async () => {
  for (const c of opened) await c.nc.close().catch(() => {});
  await nats.stop();
});

const logger = pino({ level: 'silent' });

/** One contender: its own connection, a work that runs until its signal aborts, and what it saw. */
async function contender(key: string, holder: string) {
  const conn = await connectJetStream({ url: nats.server.url, name: holder });
  opened.push(conn);
  const stop = new AbortController();
  const transitions: { active: boolean; atMs: number; reason: string }[] = [];
  const workSpans: { from: number; to: number }[] = [];
  let working = false;
  const metrics = leaseMetrics();
  const done = runUnderLease({ nc: conn.nc, key, holder, logger, signal: stop.signal, metrics, onTransition: (t) => transitions.push(t) }, async (signal) => {
    working = true;
    const from = Date.now();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    working = false;
    workSpans.push({ from, to: Date.now() });
  }).catch((err: unknown) => err);
  return {
    conn,
    stop,
    done,
    transitions,
    workSpans,
    metrics,
    get working() {
      return working;
    },
  };
}

const leaseKv = () => new Kvm(nats.nc).open(DEFAULT_POOL_NAMES.leaseBucket);

test('one active instance; a clean stop hands the lease to the standby at once', async () => {
  const a = await contender('t-handover', 'host:a');
  await until('a active', () => a.working);
  const b = await contender('t-handover', 'host:b');
  // b stands by while a holds the lease, renewal after renewal (two TTLs)
  const standbyUntil = Date.now() + 2 * LEASE_TTL_MS;
  await until('two TTLs', () => {
    assert.not.ok(b.working && a.working, 'two instances active at once');
    return Date.now() > standbyUntil;
  }, 3 * LEASE_TTL_MS, 100);
  assert.not.ok(b.working, 'the standby took a lease that was being renewed');
  const holder = (await (await leaseKv()).get('t-handover'))!.json<LeaseHolder>();
  assert.is(holder.holder, 'host:a');

  a.stop.abort();
  await a.done;
  // released, not left to expire: the key no longer names a
  const after = await (await leaseKv()).get('t-handover');
  assert.ok(!after || after.operation !== 'PUT' || after.json<LeaseHolder>().holder === 'host:b', 'a did not release its lease');
  await until('b active', () => b.working, 3 * LEASE_TTL_MS);
  const released = a.transitions.at(-1)!;
  assert.is(released.reason, 'released');
  assert.ok(b.transitions[0]!.atMs >= released.atMs, 'b started before a stopped');
  b.stop.abort();
  assert.is(await b.done, undefined);
});

test('a holder cut off from NATS stops acting before its lease can expire and a standby starts', async () => {
  const a = await contender('t-cutoff', 'host:a');
  await until('a active', () => a.working);
  const b = await contender('t-cutoff', 'host:b');
  const cutAt = Date.now();
  await a.conn.nc.close(); // a's renewals fail from now on; its work must stop by itself
  await until('a stopped acting', () => !a.working && a.workSpans.length === 1, 2 * LEASE_TTL_MS);
  assert.is(a.transitions.at(-1)!.reason, 'no acknowledged renew before the deadline');
  await until('b active', () => b.working, 4 * LEASE_TTL_MS);
  const aStopped = a.workSpans[0]!.to;
  const bStarted = b.transitions[0]!.atMs;
  assert.ok(aStopped < bStarted, `a acted until ${aStopped}, b started at ${bStarted}`);
  // b could only start once a's last write expired on the server: at least the safety margin after a stopped
  assert.ok(bStarted - aStopped >= SAFETY_MARGIN_MS - 100, `${bStarted - aStopped} ms between a's stop and b's start`);
  assert.ok(bStarted - cutAt >= LEASE_TTL_MS - 1_600, `b took over ${bStarted - cutAt} ms after the cut, before a TTL`);
  assert.is((await a.metrics.lost.get()).values.find((v) => v.labels.lease === 't-cutoff')?.value, 1);
  a.stop.abort();
  b.stop.abort();
  await Promise.all([a.done, b.done]);
});

test('an instance restarted on its own data directory takes its lease back at once; another waits', async () => {
  const kv = await leaseKv();
  // a killed holder's lease: written, never released (a SIGKILL releases nothing)
  await kv.put('t-restart', JSON.stringify({ holder: 'host:/var/pool', pid: 1, acquiredAtMs: Date.now() } satisfies LeaseHolder));
  const other = await contender('t-restart', 'host:/other');
  const same = await contender('t-restart', 'host:/var/pool');
  await until('the restarted instance active', () => same.working, LEASE_TTL_MS - 1000);
  assert.not.ok(other.working);
  same.stop.abort();
  other.stop.abort();
  await Promise.all([same.done, other.done]);
});

test('a renew refused because another instance wrote the lease stops the work', async () => {
  const a = await contender('t-refused', 'host:a');
  await until('a active', () => a.working);
  const kv = await leaseKv();
  await kv.put('t-refused', JSON.stringify({ holder: 'host:intruder', pid: 2, acquiredAtMs: Date.now() } satisfies LeaseHolder));
  await until('a stopped acting', () => !a.working && a.workSpans.length === 1, 2 * LEASE_TTL_MS);
  assert.is(a.transitions.at(-1)!.reason, 'the renew was refused: another instance holds the lease');
  // it does not take the key back while the intruder's write lives, and stands by
  assert.is((await kv.get('t-refused'))!.json<LeaseHolder>().holder, 'host:intruder');
  a.stop.abort();
  assert.is(await a.done, undefined);
});

test('a work that fails releases its lease and the error reaches the caller', async () => {
  const conn = await connectJetStream({ url: nats.server.url, name: 'failing' });
  opened.push(conn);
  const err = await runUnderLease({ nc: conn.nc, key: 't-fail', holder: 'host:f', logger, signal: new AbortController().signal }, async () => {
    throw new Error('boom');
  }).catch((e: Error) => e);
  assert.match(String(err), /boom/);
  const entry = await (await leaseKv()).get('t-fail');
  assert.ok(!entry || entry.operation !== 'PUT', 'the lease was not released');
});

test.run();
