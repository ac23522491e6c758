/**
 * The pool's stream on a 3-node JetStream cluster against a single server, in one run:
 *
 * 1. append throughput (events/s) of NatsEventStore, pipelined `appendMany` in chunks of
 *    `--chunk` (default 500) and single awaited `append`s one after another, into the POOL stream
 *    (ensureTopology) of:
 *    - R1: one nats-server, stream at 1 replica, the server's default sync_interval (2 min; what
 *      `npm start` runs);
 *    - R1 always: the same with `sync_interval: always` (the cost of fsync alone);
 *    - R3 always: a 3-node cluster (infra/nats/cluster.ts), 3 replicas, `sync_interval: always`
 *      (what infra/nats/cluster-node*.conf choose);
 *    - R3 default: the same cluster shape with the default sync_interval.
 *    Every setup runs all the time; they take turns round by round (`--rounds`, default 3), so
 *    noise from other work on the machine hits all alike; medians are shown, with ratios against R1.
 * 2. leader failover on R3 always: `--kills` (default 5) times, SIGKILL the POOL stream's leader and
 *    append (retrying a 250 ms timeout at once and a refusal after 25 ms, with the same event id) until the first
 *    acknowledgement; the time from the kill to it, p50 and max. Before each kill the killed node
 *    of the previous round is back and every replica current.
 *
 * All nodes run on this machine's loopback and one disk, so the cluster's three fsyncs share the
 * disk and its route hops share the CPUs with the client: an upper bound on the cost of R3, not a
 * figure for three hosts. Stores are temporary directories under the OS tmpdir, removed at the end.
 *
 * Usage: `node --import tsx bench/cluster.bench.ts [--events N] [--singles N] [--rounds N] [--kills N] [--chunk N]`
 *   events: pipelined events a setup appends per round (default 10 000); singles: awaited appends
 *   per round (default 300).
 */
import { jetstream } from '@nats-io/jetstream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsCluster, type NatsCluster } from '../infra/nats/cluster.ts';
import { startNatsServer, type NatsServerHandle } from '../infra/nats/server.ts';
import type { PoolEvent } from '../schemas/catalog.ts';
import { connectJetStream, type JetStreamConnection } from '../streams/connect.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import { EVENT_STREAM, ensureTopology } from '../streams/topology.ts';
import { sample, subjectOf } from '../tests/support/events.ts';
import { integerArgs } from './args.ts';

interface Args {
  events: number;
  singles: number;
  rounds: number;
  kills: number;
  chunk: number;
}

function parseArgs(argv: string[]): Args {
  return integerArgs(argv, 'cluster.bench.ts', { events: 10_000, singles: 300, rounds: 3, kills: 5, chunk: 500 }, { events: [1, 1_000_000], singles: [1, 100_000], rounds: [1, 20], kills: [0, 50], chunk: [1, 10_000] });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const fixed = (x: number, d = 2) => x.toFixed(d);

interface Setup {
  label: string;
  what: string;
  conn: JetStreamConnection;
  store: NatsEventStore;
  cluster: NatsCluster | null;
  next: number;
  batch: number[];
  single: number[];
  singleMs: number[];
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // best effort
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().then(() => process.exit(130)));

async function singleServer(syncAlways: boolean): Promise<{ url: string; server: NatsServerHandle }> {
  const dir = mkdtempSync(join(tmpdir(), 'pool-bench-cluster-r1-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let configFile: string | undefined;
  if (syncAlways) {
    configFile = join(dir, 'server.conf');
    writeFileSync(configFile, 'jetstream {\n  sync_interval: always\n}\n');
  }
  const server = await startNatsServer({ storeDir: join(dir, 'store'), configFile });
  cleanups.push(() => server.stop());
  return { url: server.url, server };
}

async function setUp(label: string, what: string, url: string, replicas: number, cluster: NatsCluster | null): Promise<Setup> {
  const conn = await connectJetStream({ url, name: `cluster-bench-${label}` });
  cleanups.push(() => conn.nc.close());
  await ensureTopology(conn.nc, conn.jsm, { replicas });
  if (cluster) await cluster.waitForQuorum(EVENT_STREAM);
  const store = new NatsEventStore(jetstream(conn.nc, { timeout: 30_000 }), conn.jsm);
  return { label, what, conn, store, cluster, next: 1, batch: [], single: [], singleMs: [] };
}

const WORKERS = 50;
function events(s: Setup, n: number): PoolEvent[] {
  const out: PoolEvent[] = [];
  for (let i = 0; i < n; i++, s.next++) out.push(sample(`w${s.next % WORKERS}`, s.next, s.next * 100));
  return out;
}

async function measure(s: Setup, args: Args): Promise<void> {
  const batch = events(s, args.events).map((event) => ({ subject: subjectOf(event), event }));
  let t = performance.now();
  for (let i = 0; i < batch.length; i += args.chunk) {
    const acks = await s.store.appendMany(batch.slice(i, i + args.chunk));
    if (acks.some((a) => a.duplicate)) throw new Error(`${s.label}: a fresh event was answered as a duplicate`);
  }
  s.batch.push(batch.length / ((performance.now() - t) / 1000));

  const singles = events(s, args.singles);
  const each: number[] = [];
  t = performance.now();
  for (const e of singles) {
    const t0 = performance.now();
    await s.store.append(subjectOf(e), e);
    each.push(performance.now() - t0);
  }
  s.single.push(singles.length / ((performance.now() - t) / 1000));
  s.singleMs.push(median(each));
}

interface Failover {
  ms: number[];
  failedAttempts: number;
  duplicates: number;
}

/** SIGKILLs the POOL leader `kills` times; the time to the first acknowledged append after each. */
async function failovers(s: Setup, kills: number): Promise<Failover> {
  const cluster = s.cluster!;
  const store = new NatsEventStore(jetstream(s.conn.nc, { timeout: 250 }), s.conn.jsm);
  const out: Failover = { ms: [], failedAttempts: 0, duplicates: 0 };
  for (let k = 0; k < kills; k++) {
    await cluster.waitForQuorum(EVENT_STREAM, 120_000);
    const leaderName = (await s.conn.jsm.streams.info(EVENT_STREAM)).cluster?.leader;
    const leader = cluster.nodes.find((n) => n.name === leaderName);
    if (!leader) throw new Error(`stream leader ${leaderName} is no node of the cluster`);
    const [event] = events(s, 1);
    const t0 = performance.now();
    await leader.kill();
    for (;;) {
      try {
        const ack = await store.append(subjectOf(event!), event!);
        if (ack.duplicate) out.duplicates++;
        break;
      } catch (err) {
        out.failedAttempts++;
        if (performance.now() - t0 > 120_000) throw new Error(`no append acknowledged within 120 s of killing ${leader.name}: ${String(err)}`);
        // refused at once (no responders while no leader is elected): a short pause, no busy loop
        if (!/timeout/i.test(String(err))) await new Promise((r) => setTimeout(r, 25));
      }
    }
    out.ms.push(performance.now() - t0);
    process.stdout.write(`  kill ${k + 1}: ${leader.name} → first ack after ${int(out.ms.at(-1)!)} ms\n`);
    await leader.restart();
  }
  await cluster.waitForQuorum(EVENT_STREAM, 120_000);
  return out;
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const r1 = await singleServer(false);
  const r1Always = await singleServer(true);
  const always = await startNatsCluster({ name: 'benchsync', syncInterval: 'always' });
  cleanups.push(() => always.stop());
  const lazy = await startNatsCluster({ name: 'benchdefault' });
  cleanups.push(() => lazy.stop());

  const setups = [
    await setUp('R1', '1 server, 1 replica, sync_interval default (2m)', r1.url, 1, null),
    await setUp('R1 always', '1 server, 1 replica, sync_interval always', r1Always.url, 1, null),
    await setUp('R3 always', '3 nodes, 3 replicas, sync_interval always (chosen)', always.urls.join(','), 3, always),
    await setUp('R3 default', '3 nodes, 3 replicas, sync_interval default (2m)', lazy.urls.join(','), 3, lazy),
  ];
  console.log(
    `cluster benchmark — ${int(args.events)} pipelined events (appendMany, chunks of ${args.chunk}) and ${int(args.singles)} awaited appends ` +
      `per setup and round, ${args.rounds} rounds; WorkerStatsSampled events of ${WORKERS} workers\n` +
      `node ${process.version}, nats-server ${r1.server.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, all nodes on loopback and one disk\n`,
  );
  // warm-up (JIT, connections, stream files), not counted
  for (const s of setups) await measure(s, { ...args, events: Math.min(args.events, 2000), singles: Math.min(args.singles, 50) });
  for (const s of setups) {
    s.batch = [];
    s.single = [];
    s.singleMs = [];
  }
  for (let r = 0; r < args.rounds; r++) {
    for (const s of r % 2 ? [...setups].reverse() : setups) await measure(s, args);
    process.stdout.write(`  round ${r + 1}: ${setups.map((s) => `${s.label} ${int(s.batch.at(-1)!)}/${int(s.single.at(-1)!)}`).join(', ')} ev/s (batch/single)\n`);
  }
  for (const s of setups) {
    const info = await s.conn.jsm.streams.info(EVENT_STREAM);
    const want = s.next - 1;
    if (info.state.messages !== want) throw new Error(`${s.label}: ${info.state.messages} messages stored of ${want} appended`);
  }

  const base = setups[0]!;
  const rows = [['setup', 'appendMany ev/s', '× R1', 'append ev/s', '× R1', 'append p50 ms', 'what']];
  for (const s of setups) {
    rows.push([
      s.label,
      int(median(s.batch)),
      fixed(median(s.batch) / median(base.batch)),
      int(median(s.single)),
      fixed(median(s.single) / median(base.single)),
      fixed(median(s.singleMs)),
      s.what,
    ]);
  }
  console.log('');
  table(rows);
  const [, r1a, r3a, r3d] = setups as [Setup, Setup, Setup, Setup];
  console.log(
    `\nratios: R3 always / R1 = ${fixed(median(r3a.batch) / median(base.batch))} (appendMany), ${fixed(median(r3a.single) / median(base.single))} (append); ` +
      `R3 always / R3 default = ${fixed(median(r3a.batch) / median(r3d.batch))} (appendMany), ${fixed(median(r3a.single) / median(r3d.single))} (append); ` +
      `R1 always / R1 = ${fixed(median(r1a.batch) / median(base.batch))} (appendMany), ${fixed(median(r1a.single) / median(base.single))} (append)`,
  );

  if (args.kills > 0) {
    console.log(`\nleader failover (R3 always): ${args.kills} SIGKILLs of the POOL stream leader under awaited appends (250 ms ack timeout; a refusal retried after 25 ms, a timeout at once, with the same id)`);
    const f = await failovers(r3a, args.kills);
    const sorted = [...f.ms].sort((a, b) => a - b);
    console.log(
      `leader failover: p50 ${int(median(sorted))} ms, max ${int(sorted.at(-1)!)} ms, min ${int(sorted[0]!)} ms over ${f.ms.length} kills ` +
        `(${f.failedAttempts} failed attempts retried, ${f.duplicates} first acks were duplicates of a timed-out attempt)`,
    );
    const info = await r3a.conn.jsm.streams.info(EVENT_STREAM);
    if (info.state.messages !== r3a.next - 1) throw new Error(`R3 always after the kills: ${info.state.messages} messages stored of ${r3a.next - 1} appended`);
  }
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
