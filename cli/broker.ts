/**
 * The broker of a pool: NATS_URL when configured, else our own nats-server child with its store in
 * `<dataDir>/nats` (a leftover server of a killed run is stopped first, via its pid file).
 *
 * Our own server requires a user per role (infra/nats/roles.ts; passwords in
 * `<dataDir>/nats/credentials.json`, infra/nats/auth.ts) and is supervised: when the child exits
 * without being asked to, it is started again on the same port and store (the clients reconnect by
 * themselves, streams/connect.ts) and an error is logged; when it cannot be started again
 * ({@link MAX_RESTART_ATTEMPTS} tries, or more than {@link MAX_RESTARTS_PER_MINUTE} exits in a
 * minute) `onFatal` is called, by default exiting the process with status 1 so that an outside
 * supervisor restarts the pool.
 *
 * An operator's server (NATS_URL) provides its own users: every role then shares one connection
 * as NATS_USER (infra/nats/accounts.conf has the `pool` user for it).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { UnreachableError, type PoolConfig } from '../config/config.ts';
import { loadOrCreateCredentials, writeServerAuthConfig, type RoleCredentials } from '../infra/nats/auth.ts';
import { inboxPrefixOf, type Role } from '../infra/nats/roles.ts';
import { startNatsServer, type NatsServerHandle, type NatsServerOptions } from '../infra/nats/server.ts';
import { sleep } from '../runtime/sleep.ts';
import { connectJetStream, type JetStreamConnection } from '../streams/connect.ts';
import { DEFAULT_POOL_ID, poolNames, type PoolNames } from '../streams/names.ts';
import { ensureTopology } from '../streams/topology.ts';

/** Tries to start the child again after it died, before giving up. */
export const MAX_RESTART_ATTEMPTS = 5;
/** More unexpected exits than this within 60 s is a crash loop: give up. */
export const MAX_RESTARTS_PER_MINUTE = 5;

/** Our own nats-server as it runs now: `pid` changes when the child is restarted. */
export interface OwnServer {
  url: string;
  port: number;
  readonly pid: number;
  version: string;
  /** how many times the child was restarted after an unexpected exit */
  readonly restarts: number;
}

export interface Broker {
  url: string;
  /** the pool's streams, buckets and subjects (from config `poolId`, streams/names.ts) */
  names: PoolNames;
  /** our own server, or null for NATS_URL */
  server: OwnServer | null;
  /** the `admin` connection (topology, worker bindings, audit) */
  conn: JetStreamConnection;
  /**
   * The connection of `role`, opened at the first call (one per role; the one NATS_USER
   * connection for every role on an operator's server).
   */
  connect(role: Role): Promise<JetStreamConnection>;
  /** closes the connections and stops our server */
  close(): Promise<void>;
}

export interface BrokerOptions {
  /** where the child's unexpected exits and restarts are logged */
  logger?: Logger;
  /** called once when the child cannot be restarted; default: log and exit the process with status 1 */
  onFatal?: (err: Error) => void;
}

function exitProcess(err: Error): void {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

/**
 * Keeps a nats-server child running: restarts it on the same port after an unexpected exit.
 * @returns the live view of the server and `stop()`, which ends supervision and stops the child.
 */
async function superviseServer(options: NatsServerOptions, logger: Logger | undefined, giveUp: (err: Error) => void): Promise<{ server: OwnServer; stop(): Promise<void> }> {
  const onFatal = (err: Error) => {
    logger?.fatal({ err }, 'nats-server child lost');
    giveUp(err);
  };
  let current: NatsServerHandle = await startNatsServer(options);
  const port = current.port;
  let stopping = false;
  let restarts = 0;
  const exits: number[] = [];
  const abort = new AbortController();

  const watch = async (): Promise<void> => {
    for (;;) {
      const { code, signal } = await current.exited;
      if (stopping) return;
      const now = Date.now();
      exits.push(now);
      while (exits.length && exits[0]! < now - 60_000) exits.shift();
      logger?.error({ pid: current.pid, code, signal, port }, 'nats-server child exited unexpectedly; restarting it on the same port');
      if (exits.length > MAX_RESTARTS_PER_MINUTE) {
        onFatal(new Error(`nats-server child exited ${exits.length} times within a minute (last: code ${code}, signal ${signal}); giving up`));
        return;
      }
      let lastErr: unknown = null;
      let next: NatsServerHandle | null = null;
      for (let attempt = 1; attempt <= MAX_RESTART_ATTEMPTS && !stopping; attempt++) {
        try {
          next = await startNatsServer({ ...options, port });
          break;
        } catch (err) {
          lastErr = err;
          logger?.error({ err, attempt, port }, 'nats-server child did not start again');
          await sleep(200 * 2 ** attempt, abort.signal);
        }
      }
      if (stopping) {
        await next?.stop();
        return;
      }
      if (!next) {
        onFatal(new Error(`nats-server child could not be restarted on port ${port} after ${MAX_RESTART_ATTEMPTS} attempts: ${String(lastErr)}`));
        return;
      }
      current = next;
      restarts++;
      logger?.warn({ pid: current.pid, port, restarts }, 'nats-server child restarted');
    }
  };
  const watching = watch().catch((err: unknown) => onFatal(err instanceof Error ? err : new Error(String(err))));

  return {
    server: {
      url: current.url,
      port,
      version: current.version,
      get pid() {
        return current.pid;
      },
      get restarts() {
        return restarts;
      },
    },
    async stop() {
      stopping = true;
      abort.abort();
      await current.stop();
      await watching;
    },
  };
}

/**
 * Starts (and supervises) or connects, then ensures pool `config.poolId`'s streams and buckets
 * exist (default pool id `pool`) with `config.natsReplicas` replicas on NATS_URL (default 1), as `admin`.
 * @throws NatsServerNotFoundError, NatsServerTooOldError, NatsCredentialsError, PoolIdError, UnreachableError naming NATS_URL, or the connection error.
 */
export async function openBroker(
  config: Pick<PoolConfig, 'natsUrl' | 'natsUser' | 'natsPassword'> & Partial<Pick<PoolConfig, 'poolId' | 'natsReplicas'>>,
  dataDir: string,
  options: BrokerOptions = {},
): Promise<Broker> {
  const names = poolNames(config.poolId ?? DEFAULT_POOL_ID);
  let own: { server: OwnServer; stop(): Promise<void> } | null = null;
  let credentials: RoleCredentials | null = null;
  if (!config.natsUrl) {
    const dir = join(dataDir, 'nats');
    mkdirSync(dir, { recursive: true });
    credentials = loadOrCreateCredentials(dir, names);
    own = await superviseServer(
      { storeDir: dir, pidFile: join(dir, 'nats-server.pid'), logFile: join(dir, 'nats-server.log'), configFile: writeServerAuthConfig(dir, credentials, names) },
      options.logger,
      options.onFatal ?? exitProcess,
    );
  }
  const url = config.natsUrl ?? own!.server.url;
  const external = config.natsUser ? { user: config.natsUser, pass: config.natsPassword ?? '' } : {};
  const opened = new Map<Role, Promise<JetStreamConnection>>();
  const connect = (role: Role): Promise<JetStreamConnection> => {
    const key: Role = credentials ? role : 'admin'; // an operator's server: one connection for all
    let c = opened.get(key);
    if (!c) {
      c = connectJetStream({ url, name: `cocoon-pool-${key}`, ...(credentials ? { ...credentials[key], inboxPrefix: inboxPrefixOf(key, names) } : external) }).catch((err: unknown) => {
        throw config.natsUrl && !(err instanceof Error && err.name === 'NatsServerTooOldError') ? new UnreachableError('NATS_URL', config.natsUrl, err) : err;
      });
      opened.set(key, c);
    }
    return c;
  };
  const closeAll = async () => {
    for (const c of opened.values()) await (await c.catch(() => null))?.nc.close();
    await own?.stop();
  };
  try {
    const conn = await connect('admin');
    // our own child is one server: replicas only on an operator's cluster
    await ensureTopology(conn.nc, conn.jsm, { names, replicas: config.natsUrl ? (config.natsReplicas ?? 1) : 1 });
    return { url, names, server: own?.server ?? null, conn, connect, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
