/**
 * Operators can tell what went wrong: every configuration problem is listed at once, each naming
 * its setting and value; unreachable servers name their setting; a taken API port stops the real
 * CLI at once with one line, before anything starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBroker } from '../../cli/broker.ts';
import { ConfigError, DEFAULT_CONFIG, UnreachableError, resolveConfig } from '../../config/config.ts';
import { openDatabase } from '../../db/connect.ts';
import { participant } from '../support/events.ts';

const root = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pool-config-test-'));
  dirs.push(d);
  return d;
};
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** A port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Runs the real CLI as a child process; resolves with its exit code and output. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

test('every problem is listed, each naming its setting and its value', () => {
  const dir = tempDir();
  const file = join(dir, 'pool.json');
  writeFileSync(file, JSON.stringify({
    epochSeconds: 0,
    bogus: true,
    workers: [
      { id: 'gpu1', url: 'http://10.0.0.5:12000', participant: participant(1) },
      { id: 'gpu2', url: 'ftp://10.0.0.6', participant: 'not-an-address' },
      { id: 'gpu1', url: 'http://10.0.0.7:12000', participant: participant(2) },
    ],
  }));
  const problems = problemsOf(() =>
    resolveConfig({
      file,
      env: { PORT: '99999', NATS_URL: 'nats//base', DATABASE_URL: 'mysql://pool:s3cret@db/pool', POOL_WORKER_BASE_PORT: '0x50', NATS_PASSWORD: 'hunter2' },
      overrides: { pollIntervalSeconds: -1 },
      flagNames: { '/pollIntervalSeconds': '--poll-seconds' },
    }),
  );
  assert.equal([...problems].sort(), [
    `--poll-seconds -1: must be > 0`,
    `DATABASE_URL: "mysql://pool:***@db/pool" has scheme mysql: expected postgres or postgresql (postgres://user:password@host:5432/database)`,
    `NATS_URL: "nats//base" is not a URL (expected nats://host:4222)`,
    `PORT="99999": must be <= 65535`,
    `POOL_WORKER_BASE_PORT="0x50": must be integer`,
    `bogus in ${file}=true: is not a setting (unknown key)`,
    `epochSeconds in ${file}=0: must be >= 1`,
    `workers[1] (id "gpu2") in ${file}.participant="not-an-address": not a TON address: "not-an-address" (expected <0|-1>:<64 hex> or a 48-character friendly form)`,
    `workers[1] (id "gpu2") in ${file}.url="ftp://10.0.0.6": must match pattern "^https?://"`,
    `workers[2] (id "gpu1") in ${file}: id "gpu1" is also workers[0]`,
  ].sort());
  for (const p of problems) assert.not.match(p, /s3cret|hunter2|schema is false/);
});

test('the message holds every problem, one per line; a valid configuration resolves', () => {
  try {
    resolveConfig({ env: { PORT: 'eighty', NATS_URL: 'http://nats:4222' } });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as Error).message, [
      'invalid configuration (2 problems):',
      '  - PORT="eighty": must be integer',
      '  - NATS_URL: "http://nats:4222" has scheme http: expected nats or tls (nats://host:4222)',
    ].join('\n'));
  }
  const ok = resolveConfig({ env: { PORT: '9090', NATS_URL: 'nats://a:4222,nats://b:4222', DATABASE_URL: 'postgres://pool@db:5432/pool' } });
  assert.equal([ok.api.port, ok.natsUrl, ok.databaseUrl, ok.dataDir], [9090, 'nats://a:4222,nats://b:4222', 'postgres://pool@db:5432/pool', DEFAULT_CONFIG.dataDir]);
  const file = join(tempDir(), 'broken.json');
  writeFileSync(file, '{ "epochSeconds": ');
  assert.match(problemsOf(() => resolveConfig({ file, env: {} }))[0]!, new RegExp(`^config file ${file} cannot be read: `));
});

test('api.cors.origins: none by default, exact origins or * from the file, anything else named', () => {
  assert.equal(resolveConfig({ env: {} }).api.cors, { origins: [] });
  const file = join(tempDir(), 'cors.json');
  writeFileSync(file, JSON.stringify({ api: { cors: { origins: ['https://pool.example', 'http://localhost:5173', '*'] } } }));
  const ok = resolveConfig({ file, env: {} });
  assert.equal([ok.api.cors.origins, ok.api.port], [['https://pool.example', 'http://localhost:5173', '*'], DEFAULT_CONFIG.api.port]);
  writeFileSync(file, JSON.stringify({ api: { cors: { origins: ['https://pool.example/', 'pool.example', 'ftp://pool.example', 7] } } }));
  const problems = problemsOf(() => resolveConfig({ file, env: {} }));
  assert.is(problems.length, 4, problems.join('\n'));
  for (const [i, value] of ['https://pool.example/', 'pool.example', 'ftp://pool.example'].entries()) {
    assert.ok(problems.includes(`api.cors.origins.${i} in ${file}=${JSON.stringify(value)}: must be * or an origin such as https://pool.example (http or https, host, optional port, no path or trailing slash)`), problems.join('\n'));
  }
  assert.ok(problems.includes(`api.cors.origins.3 in ${file}=7: must be string`));
});

test('an unreachable DATABASE_URL or NATS_URL is reported naming the setting, password hidden', async () => {
  const port = await closedPort();
  const url = `postgres://pool:s3cret@127.0.0.1:${port}/pool`;
  try {
    await openDatabase({ url });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, UnreachableError);
    assert.is((err as Error).message, `DATABASE_URL postgres://pool:***@127.0.0.1:${port}/pool: cannot connect (connect ECONNREFUSED 127.0.0.1:${port})`);
  }
  try {
    await openDatabase({ url: 'postgres://pool:s3cret@base.invalid/pool' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, UnreachableError);
    assert.match((err as Error).message, /^DATABASE_URL postgres:\/\/pool:\*\*\*@base\.invalid\/pool: cannot connect \(getaddrinfo \w+ base\.invalid\)$/);
  }
  const natsUrl = `nats://127.0.0.1:${port}`;
  try {
    await openBroker({ ...DEFAULT_CONFIG, natsUrl }, tempDir());
    assert.unreachable();
  } catch (err) {
    assert.instance(err, UnreachableError);
    assert.match((err as Error).message, new RegExp(`^NATS_URL nats://127\\.0\\.0\\.1:${port}: cannot connect \\(.+\\)$`));
  }
});

test('CLI: config problems and a bad LOG_LEVEL together, one exit, no stack trace', async () => {
  const dataDir = tempDir();
  const r = await runCli(['start', '--data-dir', dataDir], { PORT: '70000', LOG_LEVEL: 'loud', NATS_URL: 'nats//base', DATABASE_URL: '' });
  assert.is(r.code, 1);
  assert.is(r.stderr, [
    'pool: invalid configuration (3 problems):',
    '  - LOG_LEVEL="loud": not a log level (one of trace, debug, info, warn, error, fatal, silent)',
    '  - PORT="70000": must be <= 65535',
    '  - NATS_URL: "nats//base" is not a URL (expected nats://host:4222)',
    '',
  ].join('\n'));
  assert.is(r.stdout, '');
  assert.not.ok(existsSync(join(dataDir, 'nats')), 'nothing started');
});

test('CLI: a taken API port stops the start at once, in one line, before anything starts', async () => {
  const holder: Server = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const port = (holder.address() as { port: number }).port;
  try {
    const dataDir = tempDir();
    const r = await runCli(['start', '--data-dir', dataDir], { PORT: String(port), POOL_WORKER_BASE_PORT: '0' });
    assert.is(r.code, 1);
    assert.is(r.stderr, `pool: PORT ${port} is in use (EADDRINUSE) on 127.0.0.1: stop the process holding it or choose another port (--port N or PORT)\n`);
    // nothing was started: no broker store, no database, no chain under the data dir
    for (const part of ['nats', 'pg', 'chain', 'workers']) assert.not.ok(existsSync(join(dataDir, part)), `${part} was started`);
  } finally {
    await new Promise<void>((r) => holder.close(() => r()));
  }
});

test.run();
