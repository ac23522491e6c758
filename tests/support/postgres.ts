/**
 * Real PostgreSQL for tests. The runner (tests/run.ts) calls {@link providePostgres} once; each
 * test calls {@link createTestDatabase} for a fresh database of its own.
 */
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { accepts } from '../../db/embedded.ts';
import { embeddedBinaries } from '../../db/embedded.ts';
import { freePort } from '../../cli/port.ts';

const root = resolve(import.meta.dirname, '..', '..');

export interface ProvidedPostgres {
  adminUrl: string;
  description: string;
  stop(): Promise<void>;
}

const reachable = (url: string) => accepts({ connectionString: url });


/**
 * TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres, else a throw-away
 * cluster of the embedded PostgreSQL binaries (initdb under .tools/pg-test, started on a free port,
 * removed by `stop`; forced by TEST_PG_THROWAWAY=1), so a fresh clone needs no PostgreSQL installed.
 * @throws Error when none of the three is possible.
 */
export async function providePostgres(): Promise<ProvidedPostgres> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    if (!(await reachable(given))) throw new Error(`TEST_DATABASE_URL (${given}) is not reachable`);
    return { adminUrl: given, description: 'TEST_DATABASE_URL', stop: async () => undefined };
  }
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!process.env.TEST_PG_THROWAWAY && (await reachable(local))) return { adminUrl: local, description: '127.0.0.1:5432', stop: async () => undefined };
  const cluster = await startThrowawayCluster(join(root, '.tools', 'pg-test', String(process.pid)));
  return { adminUrl: cluster.adminUrl, description: `throw-away cluster on port ${cluster.port}`, stop: () => cluster.remove() };
}

/** A PostgreSQL server of one's own, which a test may shut down and start again. */
export interface ThrowawayCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication) */
  adminUrl: string;
  port: number;
  /**
   * `pg_ctl stop -m <mode>`: `fast` ends every session (57P01 to each client) and shuts down
   * cleanly; `immediate` quits at once, as a crash would (crash recovery at the next start).
   * Resolves once the server has exited.
   */
  shutdown(mode: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same port and data directory; resolves once it answers. */
  start(): Promise<void>;
  /** Stops the server (fast) and removes its directory. */
  remove(): Promise<void>;
}

/**
 * Creates a cluster with the embedded PostgreSQL binaries' initdb (db/embedded.ts) in `dir`
 * (emptied first) and starts it on a free loopback port, with TCP and trust authentication (tests
 * only). As root, the server runs as the `postgres` (or `nobody`) user, which PostgreSQL requires.
 * @throws EmbeddedPostgresError when the binaries are not installed; Error when the server does not start.
 */
export async function startThrowawayCluster(dir: string): Promise<ThrowawayCluster> {
  const { initdb, postgres, pg_ctl: pgCtl } = await embeddedBinaries();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // PostgreSQL refuses to run as root: there, run it as the `postgres` (or `nobody`) user.
  let asUser: string[] = [];
  if (process.getuid?.() === 0) {
    const user = spawnSync('id', ['-u', 'postgres']).status === 0 ? 'postgres' : 'nobody';
    spawnSync('chown', ['-R', user, dir]);
    asUser = ['runuser', '-u', user, '--'];
  }
  const cmd = (bin: string, args: string[]) => (asUser.length ? [asUser[0]!, [...asUser.slice(1), bin, ...args]] as const : [bin, args] as const);
  const data = join(dir, 'data');
  const [initCmd, initArgs] = cmd(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let exited: Promise<unknown> = Promise.resolve();
  const start = async () => {
    const [pgCmd, pgArgs] = cmd(postgres, ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
    const child = spawn(pgCmd, pgArgs, { stdio: 'ignore' });
    exited = new Promise((r) => child.once('exit', r));
    for (let i = 0; i < 300 && !(await reachable(url)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await reachable(url))) throw new Error(`throw-away PostgreSQL cluster in ${dir} did not start`);
  };
  const shutdown = async (mode: 'fast' | 'immediate') => {
    const [ctlCmd, ctlArgs] = cmd(pgCtl, ['stop', '-D', data, '-m', mode, '-w', '-t', '60']);
    const r = spawnSync(ctlCmd, ctlArgs, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pg_ctl stop -m ${mode} failed: ${r.stderr}`);
    await exited;
  };
  await start();
  return {
    adminUrl: url,
    port,
    shutdown,
    start,
    async remove() {
      if (existsSync(join(data, 'postmaster.pid'))) await shutdown('fast');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database named `pool_test_<pid>_<random>` on the server at `adminUrl`, by
 * default the one in TEST_PG_ADMIN_URL (set by tests/run.ts; falls back to 127.0.0.1:5432).
 */
export async function createTestDatabase(adminUrl = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'): Promise<TestDatabase> {
  const name = `pool_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
