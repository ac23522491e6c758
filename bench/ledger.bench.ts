/**
 * Benchmark of the ledger's core path: append → JetStream → replay → contributions projection →
 * PostgreSQL, each against a raw limit measured in the same run on the same servers:
 *
 * 1. append: NatsEventStore.appendMany in chunks (schema validation, JSON envelope, headers,
 *    Nats-Msg-Id) vs pipelined `js.publish` of the same payload bytes with the same msgID, in the
 *    same chunks, into a twin stream (same storage and duplicate window). What-if: both again on a
 *    second connection with `noAsyncTraces: true` (nats.js then skips building an Error per
 *    request), into twin streams. The paths take turns chunk by chunk, so noise hits all alike.
 * 2. replay: NatsEventStore.read (ordered consumer, decode, schema validation) vs the same ordered
 *    consumer and flow control counting the messages without decoding; plus the in-process cost of
 *    TextDecoder + JSON.parse and of validateEvent over the same bytes (shares of the replay time),
 *    and the raw consume with the filter subjects the contributions projection reads with.
 * 3. rebuild: runProjection(contributionsProjection, follow: false) at batch sizes 500 and 2000 vs
 *    one multi-row `insert … on conflict do update` of batchSize rows per statement through kysely
 *    into a copy of the contributions table (`like contributions including all`). The rebuild's
 *    wall time is split into waiting for the next batch from NATS, PostgreSQL round trips (every
 *    pg query incl. begin/commit, timed around pg.Client#query; the three costliest statement
 *    kinds are listed) and the rest (projection and runner JS, kysely). CPU time of node, of the
 *    database's PostgreSQL backends and of nats-server is read from /proc when they run here.
 *    A what-if rebuild reads `pool.>` with one filter subject and keeps the projection's types in
 *    JS (its ratio is against the real rebuild).
 * 4. memory: RSS and V8 heap before, at the peak of, and after one replay.
 *
 * Round trips are client-side: they include event-loop delay (e.g. NATS messages arriving while a
 * query is in flight), so they bound PostgreSQL's share from above; backend CPU bounds it from below.
 *
 * Events (default 50 000): 50 workers bound to 20 participants; every 10 s each worker is polled
 * (WorkerStatsSampled, 1 % WorkerPollFailed) and completes 4 tasks (TaskCompleted); two epoch
 * cuts (EpochClosing) at 1/3 and 2/3; built with tests/support/events.ts.
 *
 * Starts its own nats-server (infra/nats/server.ts, temp store) and creates/drops its own database
 * on TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres); both are removed
 * on success, failure and SIGINT/SIGTERM.
 *
 * Usage: `node --import tsx bench/ledger.bench.ts [--events N] [--repeats N]` (defaults 50 000 and
 * 3; replays run 2 × repeats − 1 times, rebuilds and raw upserts `repeats` times; medians shown).
 */
import { DeliverPolicy, jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { sql, type Kysely } from 'kysely';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import pino from 'pino';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { ContributionsTable, Database } from '../db/schema.ts';
import { startNatsServer } from '../infra/nats/server.ts';
import { contributionsProjection } from '../projectors/contributions.ts';
import type { Projection } from '../projectors/projection.ts';
import { readCheckpoint, resetProjection, runProjection, type RunProjectionOptions } from '../projectors/runner.ts';
import { subjectsFor, validateEvent, type PoolEvent } from '../schemas/catalog.ts';
import { openArtifactStore } from '../streams/artifacts.ts';
import { connectJetStream } from '../streams/connect.ts';
import { deadLetterTo } from '../streams/deadLetter.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { poolNames } from '../streams/names.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import { EVENT_STREAM, ensureTopology, streamConfigs } from '../streams/topology.ts';
import { bound, closing, participant, pollFailed, sample, subjectOf, task } from '../tests/support/events.ts';
import { createTestDatabase } from '../tests/support/postgres.ts';
import { integerArgs } from './args.ts';

const WORKERS = 50;
const PARTICIPANTS = 20;
const POLL_MS = 10_000;
const TASKS_PER_POLL = 4;
const APPEND_CHUNK = 500;
const READ_BATCH = 500;
const REBUILD_BATCHES = [500, 2000] as const;
const RAW_STREAM = 'BENCH_RAW';
/** a twin pool whose stream (WHATIF, subjects `whatif.>`) the what-if append writes to */
const WHAT_IF_NAMES = poolNames('whatif');

// ---------------------------------------------------------------- arguments, clocks, clean-up

interface Args {
  events: number;
  repeats: number;
}

/** `--events N` (default 50 000, 1000..10 000 000) and `--repeats N` (default 3, 1..20). @throws Error on anything else. */
function parseArgs(argv: string[]): Args {
  return integerArgs(argv, 'ledger.bench.ts', { events: 50_000, repeats: 3 }, { events: [1000, 10_000_000], repeats: [1, 20] });
}

/** V8's gc(), exposed at run time so the benchmark needs no --expose-gc flag. */
function exposeGc(): () => void {
  if (globalThis.gc) return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const gc = exposeGc();

function timedSync(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const medianRun = <T extends { ms: number }>(runs: T[]) => [...runs].sort((a, b) => a.ms - b.ms)[runs.length >> 1]!;

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * CPU time (user + system, ms) used so far by process `pid` of this machine whose command line
 * contains `name`; null when /proc cannot tell (another OS, a server on another host or container).
 */
function processCpuMs(pid: number, name: string): number | null {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(name)) return null;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is stat field 3 (state)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime
  } catch {
    return null;
  }
}

const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms so far of each PostgreSQL backend connected to `db`'s database, or null (see processCpuMs). */
async function backendsCpuMs<DB>(db: Kysely<DB>): Promise<Map<number, number> | null> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity where datname = current_database() and backend_type = 'client backend'`.execute(db);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid, 'postgres');
    if (ms === null) return null;
    out.set(pid, ms);
  }
  return out;
}

/** CPU used between two readings of {@link backendsCpuMs} (backends opened in between start at 0). */
function backendsSpent(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
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

/** Deterministic events: `n` of them, the mix described in the file header. */
function makeEvents(n: number): PoolEvent[] {
  let s = 0x2545f491;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const workers = Array.from({ length: WORKERS }, (_, i) => ({ id: `worker-${String(i).padStart(2, '0')}`, tokens: 0, queries: 0 }));
  const events: PoolEvent[] = workers.map((w, i) => bound(w.id, (i % PARTICIPANTS) + 1, 1_700_000_000_000));
  const cuts = [Math.floor(n / 3), Math.floor((2 * n) / 3)];
  let epoch = 1;
  let at = 1_700_000_000_000;
  let request = 0;
  while (events.length < n) {
    at += POLL_MS;
    for (const w of workers) {
      if (rand() < 0.01) {
        events.push(pollFailed(w.id, at));
      } else {
        if (rand() < 0.002) w.tokens = w.queries = 0; // the worker process restarted: counters reset
        events.push(sample(w.id, at, w.tokens, w.queries));
      }
      for (let k = 0; k < TASKS_PER_POLL; k++) {
        const total = 200 + Math.floor(rand() * 4000);
        w.tokens += total;
        w.queries += 1;
        events.push(task(w.id, ++request, rand() > 0.02, Math.round(rand() * 8000) / 1000, total));
      }
      if (cuts.length && events.length >= cuts[0]!) {
        events.push(closing(epoch++, at));
        cuts.shift();
      }
    }
  }
  return events.slice(0, n);
}

/** The body NatsEventStore stores (streams/natsEventStore.ts `encode`). */
const envelope = (e: PoolEvent) => new TextEncoder().encode(JSON.stringify({ type: e.type, version: e.version, id: e.id, data: e.data }));

// ---------------------------------------------------------------- instrumentation

interface PgClock {
  ms: number;
  queries: number;
  /** rows inserted or updated by INSERT statements (pg's rowCount) */
  rows: number;
  /** round-trip ms per statement kind, e.g. `select counted_tasks`, `commit` */
  byStatement: Map<string, number>;
}

/** `insert into "counted_tasks" (…` → `insert counted_tasks`. */
function statementKind(text: string): string {
  const m = /^\s*(\w+)(?:[\s\S]*?\b(?:from|into|update)\s+"?(\w+))?/i.exec(text);
  return m ? [m[1]!.toLowerCase(), m[2]].filter(Boolean).join(' ') : '?';
}

/** Times every promise-returning pg.Client#query (kysely's only path, begin/commit included) until `restore`. */
function timePgQueries(): { clock: PgClock; restore(): void } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const clock: PgClock = { ms: 0, queries: 0, rows: 0, byStatement: new Map() };
  proto.query = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      clock.queries++;
      const kind = typeof args[0] === 'string' ? statementKind(args[0]) : '?';
      const done = (res?: { command?: string; rowCount?: number | null }) => {
        const ms = performance.now() - started;
        clock.ms += ms;
        clock.byStatement.set(kind, (clock.byStatement.get(kind) ?? 0) + ms);
        if (res?.command === 'INSERT') clock.rows += res.rowCount ?? 0;
      };
      result.then(done, () => done());
    }
    return result;
  };
  return { clock, restore: () => void (proto.query = original) };
}

/** Re-yields `source`, adding the time spent waiting for each item to `add`. */
async function* timeWaits<T>(source: AsyncIterable<T>, add: (ms: number) => void): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const started = performance.now();
      const next = await it.next();
      add(performance.now() - started);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}

interface Memory {
  rss: number;
  heap: number;
}
const memory = (): Memory => {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
};

// ---------------------------------------------------------------- 1. append

interface AppendPath {
  ms: number;
  nodeCpuMs: number;
  /** null when nats-server's CPU cannot be read */
  natsCpuMs: number | null;
}

interface AppendFigures {
  store: AppendPath;
  raw: AppendPath;
  /** the same raw publishes on a connection with `noAsyncTraces: true` */
  rawNoTraces: AppendPath;
  /** appendMany on that connection, into a twin stream (subjects `whatif.…`) */
  storeNoTraces: AppendPath;
  validateMs: number;
  envelopeMs: number;
  headersMs: number;
}

/**
 * `js` is the store's connection (streams/connect.ts settings); `jsNoTraces` one opened with
 * `noAsyncTraces: true`, which spares nats.js an Error (stack capture) per request;
 * `storeNoTraces` a NatsEventStore on it for the twin pool WHAT_IF_NAMES.
 */
async function benchAppend(
  store: NatsEventStore,
  js: JetStreamClient,
  jsNoTraces: JetStreamClient,
  storeNoTraces: NatsEventStore,
  natsPid: number,
  events: PoolEvent[],
  payloads: Uint8Array[],
): Promise<AppendFigures> {
  const items = events.map((event) => ({ subject: subjectOf(event), event }));
  const rawSubjects = items.map((i) => i.subject.slice('pool.'.length));
  // warm the JIT and the compiled validators without touching POOL
  const warm = Math.min(2000, events.length);
  for (let i = 0; i < warm; i++) validateEvent(events[i]!), envelope(events[i]!);
  for (const client of [js, jsNoTraces]) {
    await Promise.all(payloads.slice(0, warm).map((p, i) => client.publish(`raw.warm.${i % WORKERS}`, p, { msgID: `warm:${i}:${client === js}` })));
  }

  const path = (): AppendPath => ({ ms: 0, nodeCpuMs: 0, natsCpuMs: 0 });
  const paths = { store: path(), raw: path(), rawNoTraces: path(), storeNoTraces: path() };
  const measure = async (into: AppendPath, fn: () => Promise<unknown>) => {
    const nats = processCpuMs(natsPid, 'nats-server');
    const cpu = nodeCpuMs();
    const started = performance.now();
    await fn();
    into.ms += performance.now() - started;
    into.nodeCpuMs += nodeCpuMs() - cpu;
    const natsAfter = processCpuMs(natsPid, 'nats-server');
    into.natsCpuMs = into.natsCpuMs === null || nats === null || natsAfter === null ? null : into.natsCpuMs + natsAfter - nats;
  };
  const publishRaw = (client: JetStreamClient, prefix: string, from: number, to: number) => {
    const publishes: Promise<unknown>[] = [];
    for (let i = from; i < to; i++) publishes.push(client.publish(`${prefix}.${rawSubjects[i]!}`, payloads[i]!, { msgID: `${prefix}:${events[i]!.id}` }));
    return Promise.all(publishes);
  };
  const append = async (into: NatsEventStore, batch: typeof items) => {
    const acks = await into.appendMany(batch);
    if (acks.some((a) => a.duplicate)) throw new Error('benchmark events must have distinct ids');
  };
  for (let from = 0, chunk = 0; from < events.length; from += APPEND_CHUNK, chunk++) {
    const to = Math.min(events.length, from + APPEND_CHUNK);
    const steps = [
      () => measure(paths.store, () => append(store, items.slice(from, to))),
      () => measure(paths.raw, () => publishRaw(js, 'raw', from, to)),
      () => measure(paths.rawNoTraces, () => publishRaw(jsNoTraces, 'raw.nt', from, to)),
      () => measure(paths.storeNoTraces, () => append(storeNoTraces, items.slice(from, to))),
    ];
    for (let k = 0; k < steps.length; k++) await steps[(chunk + k) % steps.length]!(); // rotate who goes first
  }
  if ((await store.lastSequence()) !== events.length) throw new Error('POOL does not hold every appended event');

  // the in-process parts of appendMany, on the same events
  const five = (fn: () => void) => median([0, 1, 2, 3, 4].map(() => timedSync(fn)));
  const validateMs = five(() => events.forEach((e) => validateEvent(e)));
  const envelopeMs = five(() => events.forEach((e) => envelope(e)));
  const headersMs = five(() =>
    events.forEach((e) => {
      const h = natsHeaders();
      h.set('Pool-Event-Type', e.type);
      h.set('Pool-Event-Version', String(e.version));
    }),
  );
  return { ...paths, validateMs, envelopeMs, headersMs };
}

// ---------------------------------------------------------------- 2. replay and 4. memory

interface ReplayRun {
  ms: number;
  natsCpuMs: number | null;
  before: Memory;
  peak: Memory;
}

/** Runs one replay, tracking wall time, nats-server CPU and the heap/RSS peak (`sample()` per batch). */
async function replay(natsPid: number, body: (sample: () => void) => Promise<void>): Promise<ReplayRun> {
  const before = memory();
  const peak = { ...before };
  const sample = () => {
    const m = memory();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heap);
  };
  const nats = processCpuMs(natsPid, 'nats-server');
  const started = performance.now();
  await body(sample);
  const ms = performance.now() - started;
  const natsAfter = processCpuMs(natsPid, 'nats-server');
  return { ms, natsCpuMs: nats === null || natsAfter === null ? null : natsAfter - nats, before, peak };
}

function replayStore(store: EventStore, natsPid: number, expected: number): Promise<ReplayRun> {
  return replay(natsPid, async (sample) => {
    let count = 0;
    for await (const batch of store.read({ batchSize: READ_BATCH })) {
      count += batch.events.length;
      sample();
    }
    if (count !== expected) throw new Error(`store replay delivered ${count} events, expected ${expected}`);
  });
}

/** The raw limit: the store's ordered consumer and flow control on `filters`, messages counted, nothing decoded. */
function replayRaw(js: JetStreamClient, natsPid: number, expected: number, filters: string[]): Promise<ReplayRun> {
  return replay(natsPid, async (sample) => {
    const consumer = await js.consumers.get(EVENT_STREAM, { filter_subjects: filters, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
    const messages = await consumer.consume({ max_messages: Math.min(1000, READ_BATCH * 2) });
    let count = 0;
    try {
      for await (const m of messages) {
        if (++count % READ_BATCH === 0) sample();
        if (m.info.pending === 0) break;
      }
    } finally {
      await messages.stop();
    }
    if (count !== expected) throw new Error(`raw replay delivered ${count} messages, expected ${expected}`);
  });
}

interface ReplayFigures {
  store: ReplayRun;
  raw: ReplayRun;
  /** raw consume filtered like the contributions projection reads (one filter subject per context) */
  rawFiltered: ReplayRun;
  filters: string[];
  parseMs: number;
  parseSharedDecoderMs: number;
  validateMs: number;
  memory: { before: Memory; peak: Memory; after: Memory; afterGc: Memory; rawHeapGrowth: number };
}

async function benchReplay(store: EventStore, js: JetStreamClient, natsPid: number, filters: string[], payloads: Uint8Array[], repeats: number): Promise<ReplayFigures> {
  const n = payloads.length;
  // memory (and warm-up): one replay of each from a collected heap
  gc();
  const rawRun = await replayRaw(js, natsPid, n, ['pool.>']);
  gc();
  const storeRun = await replayStore(store, natsPid, n);
  const after = memory();
  gc();
  const afterGc = memory();

  const runs = { store: [] as ReplayRun[], raw: [] as ReplayRun[], rawFiltered: [] as ReplayRun[] };
  const steps = [
    async () => runs.store.push(await replayStore(store, natsPid, n)),
    async () => runs.raw.push(await replayRaw(js, natsPid, n, ['pool.>'])),
    async () => runs.rawFiltered.push(await replayRaw(js, natsPid, n, filters)),
  ];
  for (let r = 0; r < repeats; r++) for (let k = 0; k < steps.length; k++) await steps[(r + k) % steps.length]!();

  // what the store's decode does per message, on the same bytes
  const five = (fn: () => void) => median([0, 1, 2, 3, 4].map(() => timedSync(fn)));
  const parseMs = five(() => payloads.forEach((p) => JSON.parse(new TextDecoder().decode(p))));
  const decoder = new TextDecoder();
  const parseSharedDecoderMs = five(() => payloads.forEach((p) => JSON.parse(decoder.decode(p))));
  const parsed = payloads.map((p) => JSON.parse(decoder.decode(p)) as PoolEvent);
  const validateMs = five(() => parsed.forEach((e) => validateEvent(e)));

  return {
    store: medianRun(runs.store),
    raw: medianRun(runs.raw),
    rawFiltered: medianRun(runs.rawFiltered),
    filters,
    parseMs,
    parseSharedDecoderMs,
    validateMs,
    memory: { before: storeRun.before, peak: storeRun.peak, after, afterGc, rawHeapGrowth: rawRun.peak.heap - rawRun.before.heap },
  };
}

// ---------------------------------------------------------------- 3. rebuild

interface RebuildRun {
  ms: number;
  readWaitMs: number;
  handleMs: number;
  pg: PgClock;
  transactions: number;
  nodeCpuMs: number;
  pgCpuMs: number | null;
  natsCpuMs: number | null;
}

type Deps = Omit<RunProjectionOptions, 'batchSize' | 'follow'>;

/** `inner` with its `read` replaced. */
function withRead(inner: EventStore, read: EventStore['read']): EventStore {
  return {
    append: (subject, event, options) => inner.append(subject, event, options),
    appendMany: (items) => inner.appendMany(items),
    readSubject: (subject) => inner.readSubject(subject),
    lastOnSubject: (subject) => inner.lastOnSubject(subject),
    lastSequence: () => inner.lastSequence(),
    subscribe: (options) => inner.subscribe(options),
    read,
  };
}

/**
 * What-if: `read` consumes `pool.>` (one filter subject) and keeps the wanted types in JS, instead
 * of one filter subject per context on the server. Same batches, positions and events.
 */
function singleFilter(inner: EventStore): EventStore {
  return withRead(inner, (options = {}) => {
    const wanted = options.types ? new Set<string>(options.types) : null;
    return (async function* () {
      for await (const batch of inner.read({ ...options, types: undefined })) {
        yield { events: wanted ? batch.events.filter((e) => wanted.has(e.type)) : batch.events, lastSequence: batch.lastSequence };
      }
    })();
  });
}

async function rebuild(projection: Projection, deps: Deps, natsPid: number, batchSize: number): Promise<RebuildRun> {
  let readWaitMs = 0;
  let handleMs = 0;
  let transactions = 0;
  const store = withRead(deps.store, (options) => timeWaits(deps.store.read(options), (ms) => (readWaitMs += ms)));
  const timedProjection: Projection = {
    ...projection,
    handle: async (events, ctx) => {
      transactions++;
      const started = performance.now();
      await projection.handle(events, ctx);
      handleMs += performance.now() - started;
    },
  };
  await resetProjection(deps.db, projection);
  // repeats start alike: without this, each reset leaves the previous run's rows as dead tuples
  await sql.raw(`vacuum analyze ${projection.tables.join(', ')}`).execute(deps.db);
  gc();
  const pgBefore = await backendsCpuMs(deps.db);
  const natsBefore = processCpuMs(natsPid, 'nats-server');
  const pgTimer = timePgQueries();
  const cpu = nodeCpuMs();
  const started = performance.now();
  try {
    await runProjection(timedProjection, { ...deps, store, batchSize, follow: false });
  } finally {
    pgTimer.restore();
  }
  const ms = performance.now() - started;
  const nodeCpu = nodeCpuMs() - cpu;
  const natsAfter = processCpuMs(natsPid, 'nats-server');
  const pgCpuMs = backendsSpent(pgBefore, await backendsCpuMs(deps.db));
  return {
    ms,
    readWaitMs,
    handleMs,
    pg: pgTimer.clock,
    transactions,
    nodeCpuMs: nodeCpu,
    pgCpuMs,
    natsCpuMs: natsBefore === null || natsAfter === null ? null : natsAfter - natsBefore,
  };
}

interface RawUpsertRun {
  ms: number;
  pgMs: number;
  pgCpuMs: number | null;
}

type BenchDatabase = Database & { bench_contributions: ContributionsTable };

/** The raw limit: `rows` rows, batchSize per multi-row upsert (one autocommitted statement each). */
async function rawUpserts(db: Kysely<BenchDatabase>, rows: number, batchSize: number): Promise<RawUpsertRun> {
  await sql`truncate bench_contributions`.execute(db);
  const values: ContributionsTable[] = Array.from({ length: rows }, (_, i) => ({
    epoch_id: 1,
    worker_id: `worker-${i % batchSize}`, // distinct within a statement; later statements update
    participant: participant((i % PARTICIPANTS) + 1),
    adjusted_tokens: String(200 + (i % 4000)),
    tasks: 1,
    tasks_succeeded: 1,
    task_us: 1_500_000,
    uptime_ms: 10_000,
    polls_ok: 1,
    polls_failed: 0,
    restarts: 0,
  }));
  gc();
  const pgBefore = await backendsCpuMs(db);
  const pgTimer = timePgQueries();
  const started = performance.now();
  try {
    for (let from = 0; from < rows; from += batchSize) {
      await db
        .insertInto('bench_contributions')
        .values(values.slice(from, from + batchSize))
        .onConflict((oc) =>
          oc.columns(['epoch_id', 'worker_id', 'participant']).doUpdateSet({
            adjusted_tokens: sql`bench_contributions.adjusted_tokens + excluded.adjusted_tokens`,
            tasks: sql`bench_contributions.tasks + excluded.tasks`,
            tasks_succeeded: sql`bench_contributions.tasks_succeeded + excluded.tasks_succeeded`,
            task_us: sql`bench_contributions.task_us + excluded.task_us`,
            uptime_ms: sql`bench_contributions.uptime_ms + excluded.uptime_ms`,
            polls_ok: sql`bench_contributions.polls_ok + excluded.polls_ok`,
            polls_failed: sql`bench_contributions.polls_failed + excluded.polls_failed`,
            restarts: sql`bench_contributions.restarts + excluded.restarts`,
          }),
        )
        .execute();
    }
  } finally {
    pgTimer.restore();
  }
  const ms = performance.now() - started;
  if (pgTimer.clock.rows !== rows) throw new Error(`raw upserts wrote ${pgTimer.clock.rows} rows, expected ${rows}`);
  return { ms, pgMs: pgTimer.clock.ms, pgCpuMs: backendsSpent(pgBefore, await backendsCpuMs(db)) };
}

// ---------------------------------------------------------------- report

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const perSecond = (count: number, ms: number) => `${int((count * 1000) / ms)}/s`;
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const ratio = (x: number) => `${x.toFixed(2)}×`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const usPer = (ms: number, n: number) => `${((ms * 1000) / n).toFixed(2)} µs/ev`;
const msOf = (ms: number) => `${int(ms)} ms`;

type Row = [measure: string, figure: string, limit: string, ratio: string];

function printTable(rows: (Row | string)[]): void {
  const header: Row = ['measure', 'figure', 'raw limit / whole', 'ratio'];
  const cells = [header, ...rows.filter((r): r is Row => Array.isArray(r))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: Row) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(typeof r === 'string' ? `${rule}\n${r}` : line(r));
}

/** A CPU row: figure and share of `wallMs`, or n/a when /proc could not tell. */
function cpuRow(label: string, cpuMs: number | null, wallMs: number): Row {
  return cpuMs === null ? [label, 'n/a', msOf(wallMs), ''] : [label, msOf(cpuMs), msOf(wallMs), pct(cpuMs, wallMs)];
}

/** A per-event cost of two paths and their ratio (ours ÷ reference), or n/a when /proc could not tell. */
function perEventRow(label: string, store: number | null, raw: number | null, n: number): Row {
  return store === null || raw === null ? [label, 'n/a', 'n/a', ''] : [label, usPer(store, n), usPer(raw, n), ratio(store / raw)];
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const { events: n, repeats } = parseArgs(process.argv.slice(2));
  const replayRepeats = 2 * repeats - 1;
  const events = makeEvents(n);
  const payloads = events.map(envelope);
  const mix = new Map<string, number>();
  for (const e of events) mix.set(e.type, (mix.get(e.type) ?? 0) + 1);
  const tasks = mix.get('TaskCompleted') ?? 0;
  const payloadBytes = payloads.reduce((sum, p) => sum + p.length, 0);

  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startNatsServer({ storeDir: dir });
  cleanups.push(() => server.stop());
  const conn = await connectJetStream({ url: server.url, name: 'ledger-bench' });
  cleanups.push(() => conn.nc.close());
  await ensureTopology(conn.nc, conn.jsm);
  await conn.jsm.streams.add({ ...streamConfigs()[0]!, name: RAW_STREAM, subjects: ['raw.>'], description: 'benchmark: raw publish limit', deny_delete: false, deny_purge: false });
  const store = new NatsEventStore(conn.js, conn.jsm);
  const ncNoTraces = await connect({ servers: server.url, name: 'ledger-bench-no-async-traces', noAsyncTraces: true });
  cleanups.push(() => ncNoTraces.close());
  const jsNoTraces = jetstream(ncNoTraces);
  await conn.jsm.streams.add({ ...streamConfigs()[0]!, name: WHAT_IF_NAMES.eventStream, subjects: [`${WHAT_IF_NAMES.subjectRoot}.>`], description: 'benchmark: what-if append', deny_delete: false, deny_purge: false });

  const created = await createTestDatabase();
  cleanups.push(() => created.drop());
  const opened = await openDatabase({ url: created.url, maxConnections: 4 });
  cleanups.push(() => opened.close());
  await migrateToLatest(opened.db);
  const settings = await sql<{ fsync: string; synchronous_commit: string; version: string }>`
    select current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit,
           current_setting('server_version') as version`.execute(opened.db);
  const pgInfo = settings.rows[0]!;

  console.log(
    `ledger benchmark — ${int(n)} events (${[...mix].map(([t, c]) => `${t} ${int(c)}`).join(', ')}), ${WORKERS} workers, ` +
      `${int(payloadBytes / n)} B/event\nnode ${process.version}, nats-server ${server.version}, PostgreSQL ${pgInfo.version} ` +
      `(fsync ${pgInfo.fsync}, synchronous_commit ${pgInfo.synchronous_commit}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
  );

  const projection = contributionsProjection({ maxCreditMs: 3 * POLL_MS });
  const append = await benchAppend(store, conn.js, jsNoTraces, new NatsEventStore(jsNoTraces, conn.jsm, WHAT_IF_NAMES), server.pid, events, payloads);
  const replayed = await benchReplay(store, conn.js, server.pid, subjectsFor(projection.canHandle), payloads, replayRepeats);

  const deps: Deps = {
    store,
    db: opened.db,
    artifacts: await openArtifactStore(conn.nc),
    deadLetter: deadLetterTo(conn.js),
    logger: pino({ level: 'silent' }),
  };
  const benchDb = opened.db.withTables<{ bench_contributions: ContributionsTable }>();
  await sql`create table bench_contributions (like contributions including all)`.execute(benchDb);
  const rebuilds: { batchSize: number; run: RebuildRun; whatIf: RebuildRun; raw: RawUpsertRun }[] = [];
  const checkRebuild = async (batchSize: number) => {
    const counted = await sql<{ tasks: string }>`select coalesce(sum(tasks), 0)::text as tasks from contributions`.execute(opened.db);
    if (Number(counted.rows[0]!.tasks) !== tasks || (await readCheckpoint(opened.db, projection.name)) !== n) {
      throw new Error(`rebuild at batch ${batchSize} counted ${counted.rows[0]!.tasks} tasks of ${tasks}`);
    }
  };
  for (const batchSize of REBUILD_BATCHES) {
    const runs: RebuildRun[] = [];
    const whatIfs: RebuildRun[] = [];
    const raws: RawUpsertRun[] = [];
    for (let r = 0; r < repeats; r++) {
      runs.push(await rebuild(projection, deps, server.pid, batchSize));
      await checkRebuild(batchSize);
      whatIfs.push(await rebuild(projection, { ...deps, store: singleFilter(store) }, server.pid, batchSize));
      await checkRebuild(batchSize);
      raws.push(await rawUpserts(benchDb, n, batchSize));
    }
    rebuilds.push({ batchSize, run: medianRun(runs), whatIf: medianRun(whatIfs), raw: medianRun(raws) });
  }

  const { store: s, raw: r, rawNoTraces: rt, storeNoTraces: st } = append;
  const { store: rs, raw: rr, rawFiltered: rf, memory: mem } = replayed;
  const rows: (Row | string)[] = [
    `1. append: appendMany, chunks of ${APPEND_CHUNK}    raw limit: js.publish of the same bytes + msgID, same chunks`,
    ['appendMany', perSecond(n, s.ms), perSecond(n, r.ms), ratio(r.ms / s.ms)],
    ['  wall per event', usPer(s.ms, n), usPer(r.ms, n), ratio(s.ms / r.ms)],
    perEventRow('  node CPU per event', s.nodeCpuMs, r.nodeCpuMs, n),
    perEventRow('  nats-server CPU per event', s.natsCpuMs, r.natsCpuMs, n),
    ['  validateEvent', usPer(append.validateMs, n), usPer(s.ms, n), pct(append.validateMs, s.ms)],
    ['  envelope (stringify + encode)', usPer(append.envelopeMs, n), usPer(s.ms, n), pct(append.envelopeMs, s.ms)],
    ['  headers', usPer(append.headersMs, n), usPer(s.ms, n), pct(append.headersMs, s.ms)],
    ['what-if: noAsyncTraces connection', '', '', ''],
    ['  appendMany', perSecond(n, st.ms), perSecond(n, rt.ms), ratio(rt.ms / st.ms)],
    ['  appendMany vs appendMany today', perSecond(n, st.ms), perSecond(n, s.ms), ratio(s.ms / st.ms)],
    ['  raw js.publish vs raw today', perSecond(n, rt.ms), perSecond(n, r.ms), ratio(r.ms / rt.ms)],
    perEventRow('  node CPU per event: appendMany', st.nodeCpuMs, s.nodeCpuMs, n),
    `2. replay: read, batches of ${READ_BATCH}, median of ${replayRepeats}    raw limit: same ordered consumer on pool.>, no decode`,
    ['NatsEventStore.read', perSecond(n, rs.ms), perSecond(n, rr.ms), ratio(rr.ms / rs.ms)],
    ['  wall per event', usPer(rs.ms, n), usPer(rr.ms, n), ratio(rs.ms / rr.ms)],
    perEventRow('  nats-server CPU per event', rs.natsCpuMs, rr.natsCpuMs, n),
    ['  TextDecoder (new) + JSON.parse', usPer(replayed.parseMs, n), usPer(rs.ms, n), pct(replayed.parseMs, rs.ms)],
    ['  same, one shared TextDecoder', usPer(replayed.parseSharedDecoderMs, n), usPer(rs.ms, n), pct(replayed.parseSharedDecoderMs, rs.ms)],
    ['  validateEvent', usPer(replayed.validateMs, n), usPer(rs.ms, n), pct(replayed.validateMs, rs.ms)],
    [`raw, ${replayed.filters.length} filters (projection's)`, perSecond(n, rf.ms), perSecond(n, rr.ms), ratio(rr.ms / rf.ms)],
    perEventRow('  nats-server CPU per event', rf.natsCpuMs, rr.natsCpuMs, n),
    `3. rebuild contributions: runProjection, follow: false, median of ${repeats}    raw limit: one upsert of batchSize rows per statement`,
  ];
  for (const { batchSize, run, whatIf, raw } of rebuilds) {
    const jsMs = run.ms - run.readWaitMs - run.pg.ms;
    const statements = [...run.pg.byStatement].sort((a, b) => b[1] - a[1]).slice(0, 3);
    rows.push(
      [`batch ${batchSize}: events vs raw rows`, perSecond(n, run.ms), perSecond(n, raw.ms), ratio(raw.ms / run.ms)],
      [`  rows written (${int(run.pg.rows / run.transactions)}/tx)`, perSecond(run.pg.rows, run.ms), perSecond(n, raw.ms), ratio((run.pg.rows * raw.ms) / (n * run.ms))],
      ['  waiting for NATS batches', msOf(run.readWaitMs), msOf(run.ms), pct(run.readWaitMs, run.ms)],
      [`  PostgreSQL round trips (${(run.pg.queries / run.transactions).toFixed(1)}/tx)`, msOf(run.pg.ms), msOf(run.ms), pct(run.pg.ms, run.ms)],
      ...statements.map(([kind, ms]): Row => [`    ${kind}`, msOf(ms), msOf(run.ms), pct(ms, run.ms)]),
      ['  JS: projection, runner, kysely', msOf(jsMs), msOf(run.ms), pct(jsMs, run.ms)],
      ['  handle() with its queries', msOf(run.handleMs), msOf(run.ms), pct(run.handleMs, run.ms)],
      cpuRow('  CPU: node', run.nodeCpuMs, run.ms),
      cpuRow('  CPU: PostgreSQL backends', run.pgCpuMs, run.ms),
      cpuRow('  CPU: nats-server', run.natsCpuMs, run.ms),
      ['  raw: PostgreSQL round trips', msOf(raw.pgMs), msOf(raw.ms), pct(raw.pgMs, raw.ms)],
      cpuRow('  raw: CPU PostgreSQL backends', raw.pgCpuMs, raw.ms),
      ['  what-if: read pool.>, types in JS', perSecond(n, whatIf.ms), perSecond(n, run.ms), ratio(run.ms / whatIf.ms)],
      ['    waiting for NATS batches', msOf(whatIf.readWaitMs), msOf(whatIf.ms), pct(whatIf.readWaitMs, whatIf.ms)],
      cpuRow('    CPU: nats-server', whatIf.natsCpuMs, whatIf.ms),
    );
  }
  rows.push(
    '4. memory around one replay (gc before; peak sampled per batch)',
    ['RSS before → peak', `${mb(mem.before.rss)} → ${mb(mem.peak.rss)}`, `+${mb(mem.peak.rss - mem.before.rss)}`, ''],
    ['heap before → peak', `${mb(mem.before.heap)} → ${mb(mem.peak.heap)}`, `+${mb(mem.peak.heap - mem.before.heap)}`, ''],
    ['heap growth: read vs raw consume', `+${mb(mem.peak.heap - mem.before.heap)}`, `+${mb(mem.rawHeapGrowth)}`, ''],
    ['after (no gc): RSS / heap', `${mb(mem.after.rss)} / ${mb(mem.after.heap)}`, '', ''],
    ['after gc: RSS / heap', `${mb(mem.afterGc.rss)} / ${mb(mem.afterGc.heap)}`, `retained ${mb(mem.afterGc.heap - mem.before.heap)}`, ''],
  );
  printTable(rows);
  console.log(
    [
      '',
      'ratio: throughput ours ÷ raw limit (1.00× = at the limit; what-if rows: ÷ the real run); per-event rows: cost ours ÷ raw;',
      '% rows: share of that phase\'s wall time. "events vs raw rows" compares events applied with rows upserted; "rows written"',
      'compares rows with rows (the projection writes narrower rows, so it can pass the raw limit).',
      'PostgreSQL round trips are client-side (include event-loop delay); backend CPU excludes I/O waits: the truth lies between.',
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
  if (!interrupted) console.error(err); // once interrupted, the clean-up closes what main is using
  process.exitCode = 1;
} finally {
  await cleanUp();
}
