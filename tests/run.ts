/**
 * The test command (`npm test`): runs every `tests/**\/*.test.ts` file (uvu) in its own Node
 * process, two at a time, and ends with the plain line `N passed, N failed`.
 *
 * Before the files run it provides the real servers the tests need:
 * - PostgreSQL: TEST_DATABASE_URL, else the server on 127.0.0.1:5432, else a throw-away cluster
 *   made with `initdb` under .tools/ on a free port. Tests get the admin URL in
 *   TEST_PG_ADMIN_URL and create fresh databases from it (tests/support/postgres.ts).
 * - nats-server >= 2.12: its path in NATS_SERVER_BIN; each test starts its own servers.
 *
 * Usage: `npm test [-- <substring filter> ...]`.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findNatsServerBinary } from '../infra/nats/server.ts';
import { providePostgres } from './support/postgres.ts';

const root = resolve(import.meta.dirname, '..');
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 6 * 60_000);
const CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? 2);

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
  output: string;
}

function listTests(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .sort();
}

/** Runs one uvu file; counts come from uvu's summary ("Total:", "Passed:", "Skipped:"). */
function runFile(file: string, env: NodeJS.ProcessEnv): Promise<FileResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...env, NODE_DISABLE_COLORS: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      // uvu prints its summary after every suite in the file has run
      const num = (label: string) => {
        const all = [...output.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))];
        return all.reduce((s, m) => s + Number(m[1]), 0);
      };
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped');
      let failed = Math.max(0, total - passed - skipped);
      if (timedOut) output += `\n[run] killed after ${FILE_TIMEOUT_MS} ms\n`;
      if ((code !== 0 || timedOut) && failed === 0) failed = 1; // crashed or hung outside a test
      done({ file: relative(root, file), passed, failed, skipped, ms: Date.now() - started, output });
    });
  });
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  let files = listTests(join(root, 'tests'));
  if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
  // heavy end-to-end files first so they overlap with the many short ones
  files.sort((a, b) => Number(b.includes('/e2e/')) - Number(a.includes('/e2e/')));

  const env: NodeJS.ProcessEnv = { ...process.env, NATS_SERVER_BIN: findNatsServerBinary() };
  const pg = await providePostgres();
  env.TEST_PG_ADMIN_URL = pg.adminUrl;
  process.stdout.write(`[run] ${files.length} test files; PostgreSQL: ${pg.description}; nats-server: ${env.NATS_SERVER_BIN}\n`);

  const results: FileResult[] = [];
  const queue = [...files];
  const workers = Array.from({ length: Math.max(1, CONCURRENCY) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await runFile(f, env);
      results.push(r);
      const status = r.failed ? 'FAIL' : 'ok  ';
      process.stdout.write(`[run] ${status} ${r.file}  ${r.passed} passed, ${r.failed} failed (${(r.ms / 1000).toFixed(1)} s)\n`);
      if (r.failed || process.env.TEST_VERBOSE) process.stdout.write(r.output.replace(/^/gm, '    ') + '\n');
    }
  });
  try {
    await Promise.all(workers);
  } finally {
    await pg.stop();
  }
  const passed = results.reduce((s, r) => s + r.passed, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed ? 1 : 0;
}

await main();
