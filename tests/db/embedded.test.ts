/**
 * The embedded PostgreSQL server (db/embedded.ts through db/connect.ts), on real clusters in
 * temporary directories: first start, restart, a SIGKILL of its owner (with and without the
 * server), a stale postmaster.pid, and the refusal of a PGlite directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../db/connect.ts';
import { CLUSTER_MARKER, EmbeddedPostgresError } from '../../db/embedded.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { until } from '../support/until.ts';

const scratch: string[] = [];
/** A fresh `<tmp>/pool-embedded-…/pg` path (the parent made by mkdtemp: mode 0700, as the e2e tests make theirs). */
function clusterDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pool-embedded-'));
  scratch.push(dir);
  return join(dir, 'pg');
}
test.after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** Alive and not a zombie (pid 1 of a container may never reap an orphan). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

const asRoot = process.getuid?.() === 0;
const postgresUid = asRoot ? Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : process.getuid!();

async function values(dir: string): Promise<string[]> {
  const opened = await openDatabase({ embeddedDir: dir, maxConnections: 2 });
  try {
    return (await sql<{ value: string }>`select value from held order by value`.execute(opened.db)).rows.map((r) => r.value);
  } finally {
    await opened.close();
  }
}

/** Runs tests/db/holder.ts on `dir` until it has committed `value`; returns it and its server's pid. */
async function holder(dir: string, value: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'holder.ts'), dir, value], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const line = await until(`the holder to report its server (stderr: ${err.slice(-500)})`, () => out.includes('\n') && out.split('\n')[0]!, 180_000);
  const serverPid = (JSON.parse(line) as { serverPid: number }).serverPid;
  return {
    serverPid,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

test('first start initialises the cluster (server user, socket only) and migrates; close stops it', async () => {
  const dir = clusterDir();
  const opened = await openDatabase({ embeddedDir: dir });
  try {
    assert.match(opened.description, /^embedded PostgreSQL 18\.\d+ \(pid \d+, /);
    await migrateToLatest(opened.db);
    const migrations = (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(opened.db)).rows.map((r) => r.name);
    assert.ok(migrations.includes('0005_stream_identity'), migrations.join(','));
    const settings = (await sql<{ listen: string; sockets: string; who: string }>`select current_setting('listen_addresses') as listen, current_setting('unix_socket_directories') as sockets, current_user as who`.execute(opened.db)).rows[0]!;
    assert.equal(settings, { listen: '', sockets: realpathSync(dir), who: 'postgres' });
    const st = statSync(dir);
    assert.is(st.uid, postgresUid, 'the cluster belongs to the user the server runs as');
    assert.is(st.mode & 0o777, 0o700);
    assert.ok(existsSync(join(dir, CLUSTER_MARKER)));
    assert.not.ok(existsSync(`${dir}.init`), 'the staging directory is gone');
  } finally {
    await opened.close();
  }
  assert.not.ok(running(opened.serverPid!), 'close stopped the server');
  assert.not.ok(existsSync(join(dir, 'postmaster.pid')), 'a clean shutdown');
});

test('a restart keeps the data and migrating again changes nothing', async () => {
  const dir = clusterDir();
  const first = await openDatabase({ embeddedDir: dir, maxConnections: 2 });
  await migrateToLatest(first.db);
  await sql`create table held (value text not null)`.execute(first.db);
  await sql`insert into held values ('kept')`.execute(first.db);
  await first.close();
  const second = await openDatabase({ embeddedDir: dir, maxConnections: 2 });
  try {
    await migrateToLatest(second.db);
    assert.equal((await sql<{ value: string }>`select value from held`.execute(second.db)).rows, [{ value: 'kept' }]);
    assert.is.not(second.serverPid, first.serverPid);
  } finally {
    await second.close();
  }
});

test('after a SIGKILL of its owner the server left running is stopped, and the cluster reopens with the data', async () => {
  const dir = clusterDir();
  const held = await holder(dir, 'before-kill');
  await held.kill();
  assert.ok(running(held.serverPid), 'the orphaned server still runs (the case to handle)');
  const opened = await openDatabase({ embeddedDir: dir, maxConnections: 2 });
  try {
    assert.not.ok(running(held.serverPid), 'the orphan was stopped before a new server started');
    assert.is.not(opened.serverPid, held.serverPid);
    assert.equal((await sql<{ value: string }>`select value from held`.execute(opened.db)).rows, [{ value: 'before-kill' }]);
  } finally {
    await opened.close();
  }
});

test('owner and server both SIGKILLed: the stale postmaster.pid is removed and crash recovery keeps what was committed', async () => {
  const dir = clusterDir();
  const held = await holder(dir, 'committed');
  await held.kill();
  process.kill(held.serverPid, 'SIGKILL');
  await until('the killed server to be gone', () => !running(held.serverPid));
  assert.ok(existsSync(join(dir, 'postmaster.pid')), 'left behind by the kill');
  assert.equal(await values(dir), ['committed']);
});

test('a postmaster.pid naming a live process that is not a server on the cluster is stale (a reused pid)', async () => {
  const dir = clusterDir();
  const held = await holder(dir, 'x');
  await held.kill();
  assert.equal(await values(dir), ['x']); // stops the orphan; a clean shutdown removes postmaster.pid
  const other = spawn('sleep', ['600'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, 'postmaster.pid'), `${other.pid}\n${dir}\n`);
    assert.equal(await values(dir), ['x']);
    assert.ok(running(other.pid!), 'the unrelated process was left alone');
  } finally {
    other.kill('SIGKILL');
  }
});

test('a directory written by PGlite is refused with what to do, and left as it was', async () => {
  const dir = clusterDir();
  // PGlite's layout: a PostgreSQL 18 data directory (WASM build), no marker of ours
  mkdirSync(join(dir, 'base'), { recursive: true });
  mkdirSync(join(dir, 'global'));
  writeFileSync(join(dir, 'PG_VERSION'), '18\n');
  writeFileSync(join(dir, 'postgresql.conf'), '');
  const before = readdirSync(dir).sort();
  try {
    await openDatabase({ embeddedDir: dir });
    assert.unreachable('a PGlite directory was opened');
  } catch (err) {
    assert.instance(err, EmbeddedPostgresError);
    assert.match((err as Error).message, /written by PGlite/);
    assert.match((err as Error).message, new RegExp(`mv ${dir} ${dir}\\.pglite`));
  }
  assert.equal(readdirSync(dir).sort(), before);
});

test('a non-empty directory that is no cluster is refused', async () => {
  const dir = clusterDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  try {
    await openDatabase({ embeddedDir: dir });
    assert.unreachable('a foreign directory was used');
  } catch (err) {
    assert.instance(err, EmbeddedPostgresError);
    assert.match((err as Error).message, /holds no embedded PostgreSQL cluster/);
  }
  assert.equal(readdirSync(dir), ['notes.txt']);
});

test.run();
