/**
 * Finding, checking and starting a nats-server process (JetStream enabled).
 *
 * `npm start` runs one with its store under ./var/nats; tests run one each on a free port.
 * The project needs nats-server >= 2.12 (atomic batch publish, priority groups, per-message
 * TTL; see DESIGN.md "Runtime and defaults"); scripts/bootstrap.mjs installs Debian's package
 * into .tools/ when the machine has none that new.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIN_NATS_SERVER_VERSION = '2.12.0';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Thrown when no usable nats-server binary (>= 2.12) can be found. */
export class NatsServerNotFoundError extends Error {
  override name = 'NatsServerNotFoundError';
}

/** Thrown when a running server (NATS_URL) is older than {@link MIN_NATS_SERVER_VERSION}. */
export class NatsServerTooOldError extends Error {
  override name = 'NatsServerTooOldError';
}

/** Compares dotted versions ("2.15.1"); true when `version` >= `min`. Pre-release suffixes are ignored. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.replace(/^v/, '').split(/[.-]/).slice(0, 3).map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * Throws {@link NatsServerTooOldError} when `serverVersion` (the INFO `version` of a connected
 * server, e.g. `nc.info.version`) is older than 2.12.
 */
export function assertServerVersion(serverVersion: string, url: string): void {
  if (!versionAtLeast(serverVersion, MIN_NATS_SERVER_VERSION)) {
    throw new NatsServerTooOldError(
      `nats-server at ${url} is ${serverVersion}; this project needs ${MIN_NATS_SERVER_VERSION} or newer ` +
        `(unset NATS_URL to let the pool start its own)`,
    );
  }
}

function binaryVersion(bin: string): string | null {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const m = /v?(\d+\.\d+\.\d+)/.exec(r.stdout ?? '');
  return m?.[1] ?? null;
}

/**
 * Path of a nats-server binary >= 2.12: NATS_SERVER_BIN, then .tools/nats-server (installed by
 * scripts/bootstrap.mjs), then PATH.
 * @throws NatsServerNotFoundError when none qualifies.
 */
export function findNatsServerBinary(): string {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    join(projectRoot, '.tools', 'nats-server', 'usr', 'sbin', 'nats-server'),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'nats-server')),
  ].filter((p): p is string => !!p && existsSync(p));
  const seen: string[] = [];
  for (const bin of candidates) {
    const v = binaryVersion(bin);
    if (v && versionAtLeast(v, MIN_NATS_SERVER_VERSION)) return bin;
    seen.push(`${bin} (${v ?? 'unrunnable'})`);
  }
  throw new NatsServerNotFoundError(
    `no nats-server >= ${MIN_NATS_SERVER_VERSION} found` +
      (seen.length ? `; rejected: ${seen.join(', ')}` : '') +
      '; run `node scripts/bootstrap.mjs` (npm start/test do) to install one into .tools/',
  );
}

export interface NatsServerOptions {
  /** JetStream store directory (created if missing). */
  storeDir: string;
  /** Interface to listen on; default 127.0.0.1 (loopback only). */
  host?: string;
  /** TCP port; 0 (default) lets the server pick a free one. */
  port?: number;
  /**
   * A file holding the child's pid. When it names a live nats-server (left behind by a killed
   * parent), that process is stopped before a new one starts on the same store.
   */
  pidFile?: string;
  /** Where the server writes its log; default: inherit nothing (logs are discarded). */
  logFile?: string;
  /** Milliseconds to wait for the server to accept connections; default 15000. */
  startTimeoutMs?: number;
  /** A config file (`-c`), e.g. the users of infra/nats/auth.ts; the options above override it. */
  configFile?: string;
}

export interface NatsServerHandle {
  /** nats://host:port */
  url: string;
  port: number;
  pid: number;
  version: string;
  /** Resolves when the process has exited, for whatever reason (stop() or not). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM (lame-duck free shutdown), waits for exit, SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * True while `pid` runs: it exists and is not a zombie (killed, not yet reaped by its parent, which
 * `kill(pid, 0)` alone would count as running).
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return !existsSync('/proc'); // gone while we looked; without /proc (not Linux) kill(pid, 0) is all we know
  }
}

async function stopStale(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !processRunning(pid)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes('nats-server')) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && processRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (processRunning(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Starts nats-server with JetStream on loopback and resolves once it listens.
 * @throws NatsServerNotFoundError when no binary qualifies; Error when it exits or does not
 *   listen within `startTimeoutMs`.
 */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServerHandle> {
  const bin = findNatsServerBinary();
  const version = binaryVersion(bin) ?? 'unknown';
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.storeDir, { recursive: true });
  if (options.pidFile) await stopStale(options.pidFile);
  const portsDir = join(options.storeDir, '.ports');
  rmSync(portsDir, { recursive: true, force: true });
  mkdirSync(portsDir, { recursive: true });
  const args = [
    ...(options.configFile ? ['-c', options.configFile] : []),
    '-a', host,
    '-p', options.port ? String(options.port) : '-1',
    '-js',
    '-sd', options.storeDir,
    '--ports_file_dir', portsDir,
  ];
  if (options.logFile) args.push('-l', options.logFile);
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const pid = child.pid;
  if (!pid) throw new Error(`nats-server (${bin}) did not start`);
  if (options.pidFile) writeFileSync(options.pidFile, String(pid));

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  let port = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!port) {
    if (done) throw new Error(`nats-server exited during start-up: ${stderr.trim().slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not listen within ${options.startTimeoutMs ?? 15_000} ms: ${stderr.slice(-2000)}`);
    }
    const file = join(portsDir, `nats-server_${pid}.ports`);
    if (existsSync(file)) {
      try {
        const ports = JSON.parse(readFileSync(file, 'utf8')) as { nats?: string[] };
        const m = /:(\d+)$/.exec(ports.nats?.[0] ?? '');
        if (m) port = Number(m[1]);
      } catch {
        // written but not complete yet
      }
    }
    if (!port) await new Promise((r) => setTimeout(r, 20));
  }
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();

  return {
    url: `nats://${host}:${port}`,
    port,
    pid,
    version,
    exited,
    async stop() {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      if (options.pidFile) rmSync(options.pidFile, { force: true });
    },
  };
}
