/**
 * Benchmark of the read models catching up (issue 12): every projection of the pool
 * (projectors/all.ts) replaying a stream from its first event into an empty PostgreSQL database,
 * at 10k and 100k participants, against raw limits measured in the same run on the same servers:
 *
 * 1. catch-up, shared: runProjections (one ordered read, one transaction per batch of 2000 for all
 *    six), as `pool start` runs them;
 *    before: the six projections each on its own read (runProjection, batches of 500), concurrently,
 *    as `pool start` ran them until now;
 *    raw upsert: the same number of rows as events, one multi-row `insert … on conflict do update`
 *    of 2000 rows per statement (autocommit) into a copy of the contributions table;
 *    raw read: the ordered consumer on `pool.>` counting messages, nothing decoded.
 *    Round trips are every pg query (BEGIN/COMMIT included), counted at pg.Client#query.
 *    Time spent reading epoch artifacts from the object store (ArtifactStore.getRows) is shown apart.
 * 2. proof route (largest scale): GET /api/v1/epochs/:id/proofs/:address over HTTP, keep-alive
 *    connections from a child process, against a hello-world route on the same server and, as the
 *    before, the same route answering as it did until now (proof cells built per request with
 *    @ton/core and serialised by toBoc); plus the per-proof cost of each way.
 *
 * Events per participant p (5): ParticipantRegistered, WorkerBound (worker w<p>), two
 * WorkerStatsSampled and one TaskCompleted; then one epoch: EpochOpened, EpochClosing,
 * ContributionsFrozen and RewardsComputed (artifacts of N rows, a real Merkle root),
 * PayoutBatchPlanned per 200 leaves, EpochSettled.
 *
 * Starts its own nats-server (temp store) per scale and creates/drops its own databases on
 * TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * Usage: `node --import tsx bench/projections.bench.ts [--participants 10000,100000] [--seconds 5]`
 * (see the report of the run for its duration: printed last).
 */
import { DeliverPolicy } from '@nats-io/jetstream';
import { Address } from '@ton/core';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { ContributionsTable, Database } from '../db/schema.ts';
import { buildRewardsTree, type RewardsTree } from '../domain/merkle/index.ts';
import { startNatsServer } from '../infra/nats/server.ts';
import { poolProjections } from '../projectors/all.ts';
import { runProjection, runProjections, type RunProjectionOptions } from '../projectors/runner.ts';
import { poolMetrics } from '../read-api/metrics.ts';
import { buildReadApi } from '../read-api/server.ts';
import type { PoolEvent } from '../schemas/catalog.ts';
import { openArtifactStore, type ArtifactStore } from '../streams/artifacts.ts';
import { connectJetStream } from '../streams/connect.ts';
import { deadLetterTo } from '../streams/deadLetter.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import { EVENT_STREAM, ensureTopology } from '../streams/topology.ts';
import { bound, participant, requestId, sample, subjectOf, task } from '../tests/support/events.ts';
import { createTestDatabase } from '../tests/support/postgres.ts';

const SHARED_BATCH = 2000;
const BEFORE_BATCH = 500;
const RAW_BATCH = 2000;
const PAYOUT_BATCH = 200;
const CONNECTIONS = 50;

// ---------------------------------------------------------------- load child: `--load <url>… --seconds S`

if (process.argv[2] === '--load') {
  const seconds = Number(process.argv[3]);
  const urls = process.argv.slice(4);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  let k = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = http.get(urls[k++ % urls.length]!, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - started);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const loop = async () => {
    while (performance.now() < end) await one();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const ms = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.stdout.write(JSON.stringify({ perSecond: (latencies.length * 1000) / ms, p50: at(0.5), p99: at(0.99), errors }));
  agent.destroy();
  process.exit(0);
}

// ---------------------------------------------------------------- arguments, clean-up

interface Args {
  participants: number[];
  seconds: number;
}

/** `--participants a,b` (each 100..1 000 000) and `--seconds S` (1..60). @throws Error on anything else. */
function parseArgs(argv: string[]): Args {
  const args: Args = { participants: [10_000, 100_000], seconds: 5 };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(participants|seconds)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(argv[i])}; usage: projections.bench.ts [--participants 10000,100000] [--seconds 5]`);
    const raw = m[2] ?? argv[++i] ?? '';
    if (m[1] === 'seconds') {
      args.seconds = Number(raw);
      if (!Number.isInteger(args.seconds) || args.seconds < 1 || args.seconds > 60) throw new Error(`--seconds must be an integer in 1..60, got ${JSON.stringify(raw)}`);
    } else {
      args.participants = raw.split(',').map(Number);
      if (!args.participants.length || args.participants.some((n) => !Number.isInteger(n) || n < 100 || n > 1_000_000)) {
        throw new Error(`--participants must be integers in 100..1000000, comma separated, got ${JSON.stringify(raw)}`);
      }
    }
  }
  return args;
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error('clean-up step failed:', err);
    }
  }
}

// ---------------------------------------------------------------- events

const hash = (n: number) => n.toString(16).padStart(64, '0');

/** The workload of the file header for `n` participants; the rewards tree of its epoch. */
async function workload(n: number, artifacts: ArtifactStore): Promise<{ items: { subject: string; event: PoolEvent }[]; tree: RewardsTree }> {
  const items: { subject: string; event: PoolEvent }[] = [];
  const add = (event: PoolEvent, subject = subjectOf(event)) => items.push({ subject, event });
  const epochId = 1;
  add({ type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId, startedAtMs: 1_000, endsAtMs: 100_000 } });
  for (let p = 1; p <= n; p++) {
    add(
      {
        type: 'ParticipantRegistered', version: 1, id: `registered:${p}`,
        data: { contract: participant(0), txHash: hash(p), lt: String(p), chainTime: 1_700_000_000, queryId: String(p), participant: participant(p), stakeNanoton: '1000000000', gpuSpecHash: hash(p), gpuCount: 1, worker: null },
      },
      'pool.chain.registry',
    );
    add(bound(`w${p}`, p, 1_000));
  }
  for (let p = 1; p <= n; p++) add(sample(`w${p}`, 10_000, 0));
  for (let p = 1; p <= n; p++) add(task(`w${p}`, p));
  for (let p = 1; p <= n; p++) add(sample(`w${p}`, 12_000, 1000 + p, 10));
  add({ type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId, closedAtMs: 100_000 } });
  const leaves = Array.from({ length: n }, (_, i) => ({ index: i, participant: participant(i + 1), amountNanoton: String(1_000_000 + i), scorePpb: 1 }));
  const tree = buildRewardsTree(leaves.map((l) => ({ address: Address.parseRaw(l.participant), amount: BigInt(l.amountNanoton) })));
  const contributions = await artifacts.putRows('epoch-1-contributions.json', leaves.map((l) => ({
    participant: l.participant, workers: 1, adjustedTokens: '1000', tasks: 1, tasksSucceeded: 1, taskMicros: 1_500_000, uptimeMs: 2000, expectedMs: 2000,
    pollsOk: 2, pollsFailed: 0, restarts: 0, slashes: 0, reputation: 500,
  })));
  const rewards = await artifacts.putRows('epoch-1-rewards.json', leaves);
  const total = String(leaves.reduce((s, l) => s + BigInt(l.amountNanoton), 0n));
  add({ type: 'ContributionsFrozen', version: 1, id: '1:frozen', data: { epochId, cutSequence: items.length, durationSeconds: 99, participants: n, revenueNanoton: total, carryInNanoton: '0', contributions } });
  add({
    type: 'RewardsComputed', version: 1, id: '1:computed',
    data: {
      epochId, formulaVersion: 1, params: { operatorFeeBps: 0 }, revenueNanoton: total, carryInNanoton: '0', operatorFeeNanoton: '0', rewardsNanoton: total,
      slashedNanoton: '0', carryOutNanoton: '0', eligible: n, leafCount: n, merkleRoot: tree.rootHex, rewards,
    },
  });
  for (let b = 0; b * PAYOUT_BATCH < n; b++) {
    add({ type: 'PayoutBatchPlanned', version: 1, id: `1:batch:${b}:planned`, data: { epochId, batch: b, fromIndex: b * PAYOUT_BATCH, count: Math.min(PAYOUT_BATCH, n - b * PAYOUT_BATCH) } });
  }
  add({ type: 'EpochSettled', version: 1, id: '1:settled', data: { epochId, payoutsConfirmed: 0, paidNanoton: '0', settledAtMs: 200_000 } } as PoolEvent);
  return { items, tree };
}

// ---------------------------------------------------------------- instrumentation

interface PgCount {
  queries: number;
  transactions: number;
}

/** Counts every promise-returning pg.Client#query (kysely's only path) and the BEGINs among them, until `restore`. */
function countPgQueries(): { count: PgCount; restore(): void } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const count: PgCount = { queries: 0, transactions: 0 };
  proto.query = function (this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      count.queries++;
      if (typeof args[0] === 'string' && /^\s*begin\b/i.test(args[0])) count.transactions++;
    }
    return result;
  };
  return { count, restore: () => void (proto.query = original) };
}

/** `inner` with getRows timed into `spent.ms`. */
function timedArtifacts(inner: ArtifactStore, spent: { ms: number }): ArtifactStore {
  return {
    putRows: (name, rows) => inner.putRows(name, rows),
    getBytes: (ref) => inner.getBytes(ref),
    async getRows<T>(ref: Parameters<ArtifactStore['getRows']>[0]) {
      const started = performance.now();
      try {
        return await inner.getRows<T>(ref);
      } finally {
        spent.ms += performance.now() - started;
      }
    },
  };
}

interface CatchUp {
  ms: number;
  /** CPU time of this process (node: decode, projections, kysely, pg), ms */
  nodeCpuMs: number;
  pg: PgCount;
  artifactMs: number;
  rows: Record<string, number>;
}

async function rowCounts(db: Kysely<Database>, tables: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = Number((await sql<{ n: string }>`select count(*)::text as n from ${sql.table(t)}`.execute(db)).rows[0]!.n);
  return out;
}

/** Replays the whole stream into a fresh database with `run`; the database is kept open for later use. */
async function catchUp(deps: Omit<RunProjectionOptions, 'db' | 'artifacts'> & { artifacts: ArtifactStore }, run: (options: RunProjectionOptions) => Promise<void>) {
  const created = await createTestDatabase();
  cleanups.push(() => created.drop());
  const opened = await openDatabase({ url: created.url, maxConnections: 8 });
  cleanups.push(() => opened.close());
  await migrateToLatest(opened.db);
  const spent = { ms: 0 };
  const timer = countPgQueries();
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    await run({ ...deps, db: opened.db, artifacts: timedArtifacts(deps.artifacts, spent), follow: false });
  } finally {
    timer.restore();
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const nodeCpuMs = (used.user + used.system) / 1000;
  const tables = [...new Set(poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 }).flatMap((p) => p.tables))].sort();
  const result: CatchUp = { ms, nodeCpuMs, pg: timer.count, artifactMs: spent.ms, rows: await rowCounts(opened.db, tables) };
  return { result, db: opened.db };
}

type BenchDatabase = Database & { bench_contributions: ContributionsTable };

/** The raw limit: `rows` rows, RAW_BATCH per multi-row upsert (autocommitted statements). */
async function rawUpserts(db: Kysely<BenchDatabase>, rows: number): Promise<number> {
  await sql`create table if not exists bench_contributions (like contributions including all)`.execute(db);
  await sql`truncate bench_contributions`.execute(db);
  const keys = Math.max(RAW_BATCH, Math.floor(rows / 5)); // distinct within a statement; later statements update
  const values: ContributionsTable[] = Array.from({ length: rows }, (_, i) => ({
    epoch_id: 1, worker_id: `w${i % keys}`, participant: participant((i % keys) + 1), adjusted_tokens: String(200 + (i % 4000)),
    tasks: 1, tasks_succeeded: 1, task_us: 1_500_000, uptime_ms: 2_000, polls_ok: 1, polls_failed: 0, restarts: 0,
  }));
  const started = performance.now();
  for (let from = 0; from < rows; from += RAW_BATCH) {
    await db
      .insertInto('bench_contributions')
      .values(values.slice(from, from + RAW_BATCH))
      .onConflict((oc) =>
        oc.columns(['epoch_id', 'worker_id', 'participant']).doUpdateSet({
          adjusted_tokens: sql`bench_contributions.adjusted_tokens + excluded.adjusted_tokens`,
          tasks: sql`bench_contributions.tasks + excluded.tasks`,
          uptime_ms: sql`bench_contributions.uptime_ms + excluded.uptime_ms`,
          polls_ok: sql`bench_contributions.polls_ok + excluded.polls_ok`,
        }),
      )
      .execute();
  }
  return performance.now() - started;
}

// ---------------------------------------------------------------- proof route

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

function load(urls: string[], seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--load', String(seconds), ...urls], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Load) : reject(new Error(`load child exited ${code}`))));
  });
}

async function benchProofRoute(db: Kysely<Database>, tree: RewardsTree, n: number, seconds: number) {
  const api = buildReadApi({ db, logger: pino({ level: 'silent' }), metrics: poolMetrics(db, async () => 0) });
  api.get('/bench/hello', async () => ({ hello: 'world' }));
  // the route as it answered until now: proof cells built per request, serialised by toBoc
  api.get<{ Params: { address: string } }>('/bench/proof-per-request/:address', async (req) => {
    const e = await db.selectFrom('epochs').select(['merkle_root']).where('epoch_id', '=', 1).executeTakeFirstOrThrow();
    const leaf = await db.selectFrom('rewards').select(['leaf_index', 'amount_nanoton']).where('epoch_id', '=', 1).where('participant', '=', req.params.address).executeTakeFirstOrThrow();
    return { epochId: 1, index: leaf.leaf_index, address: req.params.address, amountNanoton: leaf.amount_nanoton, root: e.merkle_root, proofBoc: tree.proof([leaf.leaf_index]).toBoc().toString('base64') };
  });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => api.close());
  const picks = Array.from({ length: 1000 }, (_, i) => participant(1 + ((i * 7919) % n)));
  // warm: the tree cache and the JIT
  await load(picks.slice(0, 50).map((p) => `${url}/api/v1/epochs/1/proofs/${p}`), 1);
  const hello = await load([`${url}/bench/hello`], seconds);
  const proof = await load(picks.map((p) => `${url}/api/v1/epochs/1/proofs/${p}`), seconds);
  const before = await load(picks.map((p) => `${url}/bench/proof-per-request/${p}`), seconds);
  // per proof, in process
  const each = (fn: (i: number) => unknown) => {
    const started = performance.now();
    for (let i = 0; i < 2000; i++) fn((i * 7919) % n);
    return (performance.now() - started) / 2000;
  };
  each((i) => tree.proofBoc(i));
  const fastMs = each((i) => tree.proofBoc(i));
  const slowMs = each((i) => tree.proof([i]).toBoc());
  return { hello, proof, before, fastMs, slowMs };
}

// ---------------------------------------------------------------- report

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const perSecond = (count: number, ms: number) => `${int((count * 1000) / ms)}/s`;
const ratio = (x: number) => `${x.toFixed(2)}×`;
const msOf = (ms: number) => `${int(ms)} ms`;

type Row = [measure: string, figure: string, limit: string, ratio: string];

function printTable(rows: (Row | string)[]): void {
  const header: Row = ['measure', 'figure', 'raw limit / before', 'ratio'];
  const cells = [header, ...rows.filter((r): r is Row => Array.isArray(r))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: Row) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(typeof r === 'string' ? `${rule}\n${r}` : line(r));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: (Row | string)[] = [];
  const benchStarted = performance.now();
  let proofFigures: Awaited<ReturnType<typeof benchProofRoute>> | null = null;
  let header = '';
  for (const [k, n] of args.participants.entries()) {
    const dir = mkdtempSync(join(tmpdir(), 'projections-bench-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startNatsServer({ storeDir: dir });
    cleanups.push(() => server.stop());
    const conn = await connectJetStream({ url: server.url, name: 'projections-bench' });
    cleanups.push(() => conn.nc.close());
    await ensureTopology(conn.nc, conn.jsm);
    const store = new NatsEventStore(conn.js, conn.jsm);
    const artifacts = await openArtifactStore(conn.nc);
    const { items, tree } = await workload(n, artifacts);
    for (let i = 0; i < items.length; i += 1000) await store.appendMany(items.slice(i, i + 1000));
    const events = items.length;
    if (!header) {
      const v = await createTestDatabase();
      const o = await openDatabase({ url: v.url });
      const pgVersion = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(o.db)).rows[0]!.v;
      await o.close();
      await v.drop();
      header = `projections benchmark — node ${process.version}, nats-server ${server.version}, PostgreSQL ${pgVersion}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
      console.log(header + '\n');
    }

    const deps = { store, artifacts, deadLetter: deadLetterTo(conn.js), logger: pino({ level: 'silent' }) };
    const projections = poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 });
    // raw read: the same ordered consumer, messages counted
    const rawStarted = performance.now();
    {
      const consumer = await conn.js.consumers.get(EVENT_STREAM, { filter_subjects: ['pool.>'], deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
      const messages = await consumer.consume({ max_messages: 2 * SHARED_BATCH });
      let count = 0;
      for await (const m of messages) if (++count && m.info.pending === 0) break;
      await messages.stop();
      if (count !== events) throw new Error(`raw read delivered ${count} of ${events}`);
    }
    const rawReadMs = performance.now() - rawStarted;
    const shared = await catchUp(deps, (o) => runProjections(projections, { ...o, batchSize: SHARED_BATCH }));
    const before = await catchUp(deps, async (o) => void (await Promise.all(projections.map((p) => runProjection(p, { ...o, batchSize: BEFORE_BATCH })))));
    for (const [t, c] of Object.entries(before.result.rows)) if (shared.result.rows[t] !== c) throw new Error(`${t}: shared wrote ${shared.result.rows[t]} rows, separate reads ${c}`);
    const rawMs = await rawUpserts(shared.db.withTables<{ bench_contributions: ContributionsTable }>(), events);

    const s = shared.result;
    const b = before.result;
    const written = Object.values(s.rows).reduce((x, y) => x + y, 0);
    rows.push(
      `${k + 1}. ${int(n)} participants: ${int(events)} events, ${int(written)} read-model rows`,
      ['catch-up, shared read (all six)', perSecond(events, s.ms), perSecond(events, rawMs), ratio(rawMs / s.ms)],
      // the ratio: read-model rows written a second against the raw upsert's rows a second
      ['  read-model rows written', perSecond(written, s.ms), perSecond(events, rawMs), ratio((written / s.ms) / (events / rawMs))],
      ['  vs six reads (before)', perSecond(events, s.ms), perSecond(events, b.ms), ratio(b.ms / s.ms)],
      ['  wall', msOf(s.ms), msOf(b.ms), ''],
      ['  node CPU per event', `${((s.nodeCpuMs * 1000) / events).toFixed(1)} µs`, `${((b.nodeCpuMs * 1000) / events).toFixed(1)} µs`, ratio(b.nodeCpuMs / s.nodeCpuMs)],
      ['  of which artifact reads', msOf(s.artifactMs), msOf(b.artifactMs), ''],
      ['  without artifact reads', perSecond(events - 2, s.ms - s.artifactMs), perSecond(events, rawMs), ratio(rawMs / (s.ms - s.artifactMs))],
      [`  transactions (before: ${int(b.pg.transactions)})`, int(s.pg.transactions), int(b.pg.transactions), ''],
      ['  round trips per transaction', (s.pg.queries / s.pg.transactions).toFixed(1), (b.pg.queries / b.pg.transactions).toFixed(1), ''],
      ['  round trips per 1000 events', (s.pg.queries / (events / 1000)).toFixed(1), (b.pg.queries / (events / 1000)).toFixed(1), ratio(b.pg.queries / s.pg.queries)],
      ['replay: raw ordered consumer', perSecond(events, rawReadMs), '', ''],
      ['raw batched upsert (rows)', perSecond(events, rawMs), '', ''],
    );
    printTable(rows.splice(0)); // each scale as soon as it is measured
    if (k === args.participants.length - 1) proofFigures = await benchProofRoute(shared.db, tree, n, args.seconds);
  }
  if (proofFigures) {
    const { hello, proof, before, fastMs, slowMs } = proofFigures;
    const n = args.participants.at(-1)!;
    const fmt = (l: Load) => `${int(l.perSecond)}/s p99 ${l.p99.toFixed(1)} ms`;
    rows.push(
      `${args.participants.length + 1}. proof route, ${int(n)} leaves, ${CONNECTIONS} keep-alive connections, ${args.seconds} s each`,
      ['GET proofs/:address vs hello route', fmt(proof), fmt(hello), ratio(proof.perSecond / hello.perSecond)],
      ['  vs proof built per request (before)', fmt(proof), fmt(before), ratio(proof.perSecond / before.perSecond)],
      ['  p50', `${proof.p50.toFixed(1)} ms`, `${before.p50.toFixed(1)} ms`, ''],
      ['  errors', String(proof.errors), String(before.errors), ''],
      ['one proof: proofBoc vs proof().toBoc()', `${(fastMs * 1000).toFixed(1)} µs`, `${(slowMs * 1000).toFixed(1)} µs`, ratio(slowMs / fastMs)],
    );
  }
  printTable(rows);
  console.log(
    [
      '',
      'ratio: ours ÷ raw limit or ÷ before (1.00× = equal). "without artifact reads": the epoch artifacts come from the object store',
      '(one JSON blob each, issue 12 "Artifacts as one JSON blob"), which no write path can speed up. Round trips: every pg query,',
      'BEGIN and COMMIT included. Proof route figures come from a child process on the same 2 cores as the server.',
      `whole benchmark: ${msOf(performance.now() - benchStarted)}`,
    ].join('\n'),
  );
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  if (!interrupted) console.error(err);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
