/**
 * `npm run bench -- lease`: takeover of a single-writer lease (streams/lease.ts) on a real
 * nats-server, per lease key the pool uses: an active holder is killed (its connection cut, its
 * lease never released, as under SIGKILL) and a standby waits; the time from the kill to the standby
 * acting, over KILLS kills per key, against the floor set by the lease's TTL (a killed holder's last
 * renewal can only expire LEASE_TTL_MS after it was written, at most RENEW_EVERY_MS before the
 * kill), and a clean hand-over (released lease) for comparison.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ROLE_LEASES } from '../cli/start.ts';
import { startNatsServer } from '../infra/nats/server.ts';
import { connectJetStream } from '../streams/connect.ts';
import { LEASE_TTL_MS, RENEW_EVERY_MS, runUnderLease } from '../streams/lease.ts';
import { ensureTopology } from '../streams/topology.ts';

const KILLS = 10;
const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'pool-bench-lease-'));
const server = await startNatsServer({ storeDir: dir });
const admin = await connectJetStream({ url: server.url, name: 'bench-admin' });
await ensureTopology(admin.nc, admin.jsm);

/** Starts a contender on its own connection; resolves `active` with Date.now() when it starts acting. */
async function contender(key: string, holder: string) {
  const conn = await connectJetStream({ url: server.url, name: holder });
  const stop = new AbortController();
  let onActive: (atMs: number) => void = () => {};
  const active = new Promise<number>((resolve) => (onActive = resolve));
  const done = runUnderLease({ nc: conn.nc, key, holder, logger, signal: stop.signal }, async (signal) => {
    onActive(Date.now());
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }).catch(() => {});
  return {
    active,
    async kill() {
      await conn.nc.close();
      stop.abort();
      await done;
    },
    async stopCleanly() {
      stop.abort();
      await done;
      await conn.nc.close();
    },
  };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const keys = Object.values(ROLE_LEASES).flat();
const rows: string[][] = [];
const all: number[] = [];
let n = 0;
for (const key of keys) {
  const takeovers: number[] = [];
  let holder = await contender(key, `bench:${n++}`);
  await holder.active;
  for (let i = 0; i < KILLS; i++) {
    const standby = await contender(key, `bench:${n++}`);
    const killedAt = Date.now();
    await holder.kill();
    takeovers.push((await standby.active) - killedAt);
    holder = standby;
  }
  // a clean stop releases: the next standby acts within one acquire retry
  const standby = await contender(key, `bench:${n++}`);
  const stoppedAt = Date.now();
  await holder.stopCleanly();
  const handover = (await standby.active) - stoppedAt;
  await standby.stopCleanly();
  all.push(...takeovers);
  rows.push([key, String(KILLS), `${quantile(takeovers, 0.5)} ms`, `${Math.max(...takeovers)} ms`, `${handover} ms`]);
}

const floor = LEASE_TTL_MS - RENEW_EVERY_MS;
console.log(`lease takeover on one nats-server (TTL ${LEASE_TTL_MS} ms, renew every ${RENEW_EVERY_MS} ms; floor after a kill ${floor}–${LEASE_TTL_MS} ms)`);
console.log(['lease', 'kills', 'takeover p50', 'takeover max', 'clean hand-over'].join('\t'));
for (const r of rows) console.log(r.join('\t'));
console.log(`all ${all.length} kills: p50 ${quantile(all, 0.5)} ms, max ${Math.max(...all)} ms; p50 / TTL ${(quantile(all, 0.5) / LEASE_TTL_MS).toFixed(2)}x`);

await admin.nc.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
