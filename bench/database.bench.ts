/**
 * The embedded read-model database (db/embedded.ts: a PostgreSQL 18 server process on a cluster
 * directory, reached over its unix socket) side by side with the machine's PostgreSQL on
 * TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres; its column is left out
 * when it does not answer), in the same run, on the same data:
 *
 * 1. batched upsert: `rows` contributions rows, 500 per multi-row `insert … on conflict do update`
 *    (the statement shape of the projections' write path), rows/s;
 * 2. round trip: sequential `select 1` on one connection, µs each (what a projection transaction
 *    of several statements pays per statement);
 * 3. participant route: GET /api/v1/participants/:address of the real read API (read-api/server.ts,
 *    six indexed queries per request) over HTTP, 50 keep-alive connections for a fixed time,
 *    against a hello-world route of the same Fastify app in the same run (the raw HTTP limit), with
 *    req/s, p50 and p99. The load generator shares this process (and the 2 cores) with the server,
 *    equally for both routes.
 *
 * The ratio column of each database row is against the hello route (route) or against the other
 * server (embedded / machine). Cleans up its cluster and database on success, failure and SIGINT.
 *
 * Usage: `node --import tsx bench/database.bench.ts [--participants N] [--seconds S]`
 * (defaults 10 000 participants, 3 epochs each, and 5 s per route).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, type OpenedDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { Database } from '../db/schema.ts';
import { buildReadApi } from '../read-api/server.ts';
import { participant } from '../tests/support/events.ts';
import { createTestDatabase, type TestDatabase } from '../tests/support/postgres.ts';
import { integerArgs } from './args.ts';

const EPOCHS = 3;
const UPSERT_BATCH = 500;
const CONNECTIONS = 50;
const ROUND_TRIPS = 2000;

function parseArgs(argv: string[]) {
  return integerArgs(argv, 'database.bench.ts', { participants: 10_000, seconds: 5 }, { participants: [100, 1_000_000], seconds: [1, 120] });
}

interface Figures {
  upsertRowsPerS: number;
  roundTripUs: number;
  route: Load;
  hello: Load;
}

interface Load {
  requests: number;
  perS: number;
  p50Ms: number;
  p99Ms: number;
  non200: number;
}

/** Seeds `participants` workers, registry rows and EPOCHS contributions each; returns the upsert rate (rows/s) of the contributions. */
async function seed(db: Kysely<Database>, participants: number): Promise<number> {
  const address = (i: number) => participant(i + 1);
  const columnsWithDefaults = db as unknown as Kysely<any>; // the table types list every column; these rows rely on defaults
  for (let from = 0; from < participants; from += UPSERT_BATCH) {
    const ids = Array.from({ length: Math.min(UPSERT_BATCH, participants - from) }, (_, k) => from + k);
    await columnsWithDefaults.insertInto('workers').values(ids.map((i) => ({ worker_id: `worker-${i}`, participant: address(i), status: 'online' }))).execute();
    await columnsWithDefaults
      .insertInto('participants')
      .values(ids.map((i) => ({ participant: address(i), stake_nanoton: '1000000000', status: 'active', gpu_spec_hash: 'ab'.repeat(32), gpu_count: 1, worker: `worker-${i}`, registered_at_ms: 1_700_000_000_000, last_lt: '1' })))
      .execute();
  }
  const rows = participants * EPOCHS;
  const started = performance.now();
  for (let from = 0; from < rows; from += UPSERT_BATCH) {
    const batch = Array.from({ length: Math.min(UPSERT_BATCH, rows - from) }, (_, k) => {
      const n = from + k;
      const i = n % participants;
      return { epoch_id: 1 + Math.floor(n / participants), worker_id: `worker-${i}`, participant: address(i), adjusted_tokens: String(200 + (n % 4000)), tasks: 4, tasks_succeeded: 4, task_us: 1_500_000, uptime_ms: 10_000, polls_ok: 1, polls_failed: 0, restarts: 0 };
    });
    await db
      .insertInto('contributions')
      .values(batch)
      .onConflict((oc) =>
        oc.columns(['epoch_id', 'worker_id', 'participant']).doUpdateSet({
          adjusted_tokens: sql`contributions.adjusted_tokens + excluded.adjusted_tokens`,
          tasks: sql`contributions.tasks + excluded.tasks`,
          uptime_ms: sql`contributions.uptime_ms + excluded.uptime_ms`,
        }),
      )
      .execute();
  }
  const ms = performance.now() - started;
  await sql`analyze`.execute(db);
  return (rows * 1000) / ms;
}

async function roundTripUs(db: Kysely<Database>): Promise<number> {
  const started = performance.now();
  await db.connection().execute(async (c) => {
    for (let i = 0; i < ROUND_TRIPS; i++) await sql`select 1`.execute(c);
  });
  return ((performance.now() - started) * 1000) / ROUND_TRIPS;
}

/** CONNECTIONS keep-alive loops asking `path(i)` for `seconds`; latencies in ms. */
async function load(port: number, path: (i: number) => string, seconds: number): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let non200 = 0;
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const one = (p: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: p, agent }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      });
      req.once('error', reject);
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const status = await one(path(n++));
        latencies.push(performance.now() - t);
        if (status !== 200) non200++;
      }
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { requests: latencies.length, perS: (latencies.length * 1000) / ms, p50Ms: at(0.5), p99Ms: at(0.99), non200 };
}

async function measure(opened: OpenedDatabase, participants: number, seconds: number): Promise<Figures> {
  await migrateToLatest(opened.db);
  const upsertRowsPerS = await seed(opened.db, participants);
  const rt = await roundTripUs(opened.db);
  const app = buildReadApi({ db: opened.db, logger: pino({ level: 'warn' }) });
  app.get('/hello', async () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (app.server.address() as { port: number }).port;
    const hello = await load(port, () => '/hello', seconds);
    const route = await load(port, (i) => `/api/v1/participants/${participant((i * 7919) % participants + 1)}`, seconds);
    if (route.non200) throw new Error(`${route.non200} participant requests were not 200`);
    return { upsertRowsPerS, roundTripUs: rt, route, hello };
  } finally {
    await app.close();
  }
}

async function machineDatabase(): Promise<TestDatabase | null> {
  const adminUrl = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const probe = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
  } catch {
    return null;
  } finally {
    await probe.end().catch(() => undefined);
  }
  return createTestDatabase(adminUrl);
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const { participants, seconds } = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'pool-bench-db-'));
  const cleanup: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch((err) => console.error(err));
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const results: [string, Figures][] = [];
    let t = performance.now();
    const embedded = await openDatabase({ embeddedDir: join(dir, 'pg'), maxConnections: 10 });
    cleanup.push(() => embedded.close());
    const firstStartMs = performance.now() - t;
    results.push([`embedded (${embedded.description.replace(/^embedded /, '').replace(/ \(pid.*/, '')}, unix socket)`, await measure(embedded, participants, seconds)]);
    await cleanup.pop()!();
    t = performance.now();
    const again = await openDatabase({ embeddedDir: join(dir, 'pg'), maxConnections: 2 });
    const restartMs = performance.now() - t;
    await again.close();
    const machine = await machineDatabase();
    if (machine) {
      cleanup.push(() => machine.drop());
      const opened = await openDatabase({ url: machine.url, maxConnections: 10 });
      cleanup.push(() => opened.close());
      const version = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(opened.db)).rows[0]!.v;
      results.push([`machine (PostgreSQL ${version.split(' ')[0]}, TCP ${new URL(machine.url).host})`, await measure(opened, participants, seconds)]);
    }
    console.log(`participants ${int(participants)}, contributions rows ${int(participants * EPOCHS)}, ${CONNECTIONS} connections, ${seconds} s per route`);
    console.log(`embedded server: first start (initdb + start) ${ms(firstStartMs)}, restart ${ms(restartMs)}`);
    const header = ['server', 'measure', 'figure', 'ratio'];
    const rows: string[][] = [];
    const base = results[0]![1];
    for (const [name, f] of results) {
      const vsEmbedded = (x: number, y: number) => (f === base ? '' : `${(x / y).toFixed(2)}× of embedded`);
      rows.push([name, 'batched upsert (500 rows/stmt)', `${int(f.upsertRowsPerS)} rows/s`, vsEmbedded(f.upsertRowsPerS, base.upsertRowsPerS)]);
      rows.push(['', 'round trip (select 1)', `${f.roundTripUs.toFixed(0)} µs`, vsEmbedded(f.roundTripUs, base.roundTripUs)]);
      rows.push(['', 'hello route (raw HTTP limit)', `${int(f.hello.perS)} req/s, p50 ${ms(f.hello.p50Ms)}, p99 ${ms(f.hello.p99Ms)}`, '']);
      rows.push(['', 'participant route', `${int(f.route.perS)} req/s, p50 ${ms(f.route.p50Ms)}, p99 ${ms(f.route.p99Ms)}`, `${((100 * f.route.perS) / f.hello.perS).toFixed(1)} % of hello${f === base ? '' : `; ${(f.route.perS / base.route.perS).toFixed(2)}× of embedded`}`]);
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    if (!machine) console.log('(no PostgreSQL on TEST_PG_ADMIN_URL / 127.0.0.1:5432: the machine column is left out)');
  } finally {
    await stop();
  }
}

await main();
