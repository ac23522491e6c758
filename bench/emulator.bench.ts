/**
 * Benchmark of the emulated Cocoon side at scale (issue 12): `pool start` with N emulated workers
 * over P participants (the emulator in its own process, one HTTP server for all workers), on a
 * fresh data directory. Prints: registration time (batched), time to "pool started", then over a
 * window of W seconds the CPU (% of one core) and peak RSS of the pool process and of the
 * emulator process (from /proc), and the events appended per second with the projections' lag
 * at the start and end of the window (the pool's /healthz), against the polls per second the workers' count and the poll
 * interval ask for.
 *
 * Usage: `node --import tsx bench/emulator.bench.ts [workers=10000] [participants=1000] [window=60] [pollSeconds=10] [requestsPerSecond=0.01]`.
 * With BENCH_DATA_DIR=<dir> the pool runs on that data directory and keeps it (a second run skips the registrations).
 * Linux only (/proc).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [WORKERS, PARTICIPANTS, WINDOW_S, POLL_S, RPS] = [10_000, 1000, 60, 10, 0.01].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number, number];
const root = join(import.meta.dirname, '..');
const TICKS = 100; // USER_HZ on Linux

/** utime + stime (seconds) and RSS (bytes) of `pid`, from /proc. */
function sample(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpu, rss: rssKb * 1024 };
}

/** The stream's last sequence and how far the slowest projection is behind it, from GET /healthz. */
async function projection(api: string): Promise<{ stream: number; lag: number }> {
  const health = (await (await fetch(`${api}/healthz`)).json()) as { checks?: unknown } & Record<string, unknown>;
  const find = (o: unknown, key: string): unknown => {
    if (!o || typeof o !== 'object') return undefined;
    if (key in o) return (o as Record<string, unknown>)[key];
    for (const v of Object.values(o)) {
      const f = find(v, key);
      if (f !== undefined) return f;
    }
    return undefined;
  };
  const positions = Object.values((find(health, 'projections') ?? {}) as Record<string, number>).map(Number);
  const stream = Number(find(health, 'streamSequence'));
  if (!Number.isFinite(stream)) throw new Error(`GET /healthz did not give the stream's sequence: ${JSON.stringify(health).slice(0, 400)}`);
  const position = positions.length ? Math.min(...positions) : 0; // no checkpoint yet: nothing projected
  return { stream, lag: stream - position };
}

async function main(): Promise<void> {
  const keep = process.env.BENCH_DATA_DIR; // a data dir whose participants are registered already (registration skipped)
  const dataDir = keep ?? mkdtempSync(join(tmpdir(), 'bench-emulator-'));
  const configFile = join(dataDir, 'bench.json');
  writeFileSync(configFile, JSON.stringify({ emulator: { requestsPerSecond: RPS } }));
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/pool.ts', 'start', '--config', configFile, '--workers', String(WORKERS), '--participants', String(PARTICIPANTS), '--poll-seconds', String(POLL_S), '--no-faults', '--log-level', 'info'],
    { cwd: root, env: { ...process.env, POOL_DATA_DIR: dataDir, PORT: '0', POOL_WORKER_BASE_PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let partial = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) if (w.re.test(l)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(l));
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const found = lines.find((l) => re.test(l));
      if (found) return resolve(found);
      waiters.push({ re, resolve });
      void exited.then((c) => reject(new Error(`pool exited (${c}) before ${re}`)));
    });
  try {
    const registered = JSON.parse(await waitFor(/"msg":"emulated participants registered"/)) as { ms: number; registered: number };
    const emulatorLine = JSON.parse(await waitFor(/"emulatorPid"/)) as { emulatorPid: number; time: number };
    const poolStarted = JSON.parse(await waitFor(/"msg":"pool started"/)) as { api: string; time: number };
    const startMs = poolStarted.time - started;
    const pids = { pool: child.pid!, emulator: emulatorLine.emulatorPid };
    const first = { pool: sample(pids.pool), emulator: sample(pids.emulator), at: Date.now(), projection: await projection(poolStarted.api) };
    const peak = { pool: first.pool.rss, emulator: first.emulator.rss };
    const until = Date.now() + WINDOW_S * 1000;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 1000));
      peak.pool = Math.max(peak.pool, sample(pids.pool).rss);
      peak.emulator = Math.max(peak.emulator, sample(pids.emulator).rss);
    }
    const last = { pool: sample(pids.pool), emulator: sample(pids.emulator), at: Date.now(), projection: await projection(poolStarted.api) };
    const wall = (last.at - first.at) / 1000;
    const pct = (k: 'pool' | 'emulator') => ((100 * (last[k].cpu - first[k].cpu)) / wall).toFixed(0);
    const mb = (b: number) => (b / 2 ** 20).toFixed(0);
    const eventsPerS = (last.projection.stream - first.projection.stream) / wall;
    console.log(`emulated Cocoon side at scale: ${WORKERS} workers, ${PARTICIPANTS} participants, poll every ${POLL_S} s, ${RPS} requests/s per worker, ${WINDOW_S} s window`);
    console.log('| figure | value |\n|---|---|');
    console.log(`| registrations (${registered.registered} new, batched; registered ones found by binary search) | ${registered.ms} ms (${(registered.ms / Math.max(1, registered.registered)).toFixed(1)} ms each) |`);
    console.log(`| emulator process up (workers serving) → pool started | ${poolStarted.time - emulatorLine.time} ms |`);
    console.log(`| start → pool started | ${startMs} ms |`);
    console.log(`| pool process CPU / peak RSS | ${pct('pool')} % of a core / ${mb(peak.pool)} MB |`);
    console.log(`| emulator process CPU / peak RSS | ${pct('emulator')} % of a core / ${mb(peak.emulator)} MB |`);
    console.log(`| events appended per second (asked: ${(WORKERS / POLL_S).toFixed(0)} polls/s + tasks) | ${eventsPerS.toFixed(0)} |`);
    console.log(`| projection lag at the start of the window | ${first.projection.lag} events |`);
    console.log(`| projection lag at the end | ${last.projection.lag} events |`);
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(killer);
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
