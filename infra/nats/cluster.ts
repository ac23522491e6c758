/**
 * A real N-node (default 3) JetStream cluster of nats-server processes on loopback, for tests,
 * benchmarks and a local trial of infra/nats/cluster-node*.conf.
 *
 * Each node is started with {@link startNatsServer} (same binary check, `-js`, its own store
 * directory) and a config file generated here: `server_name <name>-n<i>`, a monitoring port, the
 * chosen `sync_interval` inside `jetstream {}`, a `cluster {}` block listening on a free route port
 * with routes to every node, and optionally `include`s an accounts/users file (e.g. the
 * `auth.conf` infra/nats/auth.ts writes, or infra/nats/accounts.conf). Client, route and monitoring
 * ports are chosen before the first start, so a node restarts on the same ports and store.
 *
 * Layout under `dir` (a fresh temporary directory unless given): `n<i>/server.conf`,
 * `n<i>/include.conf` (a copy of `configInclude`; nats-server resolves includes relative to the
 * config file), `n<i>/store/` (JetStream), `n<i>/server.log`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../cli/port.ts';
import { processRunning, startNatsServer, type NatsServerHandle } from './server.ts';

export interface NatsClusterOptions {
  /** Number of nodes; default 3. At least 1. */
  size?: number;
  /** Cluster name (the `cluster { name }`) and prefix of every `server_name` (`<name>-n<i>`, i from 1); default `pool`. */
  name?: string;
  /** Parent directory of the nodes' configs and stores; default a fresh directory under the OS tmpdir, removed by stop(). */
  dir?: string;
  /**
   * An accounts/users config file included by every node (copied next to each node's config),
   * e.g. infra/nats/accounts.conf or the auth.conf of infra/nats/auth.ts. Clients then need its
   * users; the cluster's own checks use the monitoring ports and need none.
   */
  configInclude?: string;
  /**
   * JetStream `sync_interval`: `'always'` (fsync every write before it is acknowledged) or a
   * nats-server duration such as `'2m'`, `'10s'`. Default: the server's own (2 minutes), i.e. none
   * written.
   */
  syncInterval?: 'always' | string;
  /** Milliseconds each node may take to listen, and the cluster to elect a meta leader; default 30000. */
  startTimeoutMs?: number;
}

export interface NatsClusterNode {
  /** `server_name`, e.g. `pool-n2`. */
  name: string;
  /** nats://127.0.0.1:port (stable across restart()). */
  url: string;
  /** Client port (stable across restart()). */
  port: number;
  /** The node's HTTP monitoring base URL, http://127.0.0.1:port (`/varz`, `/jsz`, `/healthz`). */
  monitorUrl: string;
  /** Pid of the current process (changes at restart()); 0 while the node is down. */
  pid: number;
  /** Whether the node's process is running (false after kill() until restart()). */
  running: boolean;
  /** SIGKILLs the node's process (no shutdown, no flush: a crash) and resolves when it has exited. No-op when down. */
  kill(): Promise<void>;
  /**
   * Starts the node again on the same ports and store directory. Resolves once it accepts
   * client connections (not once it has caught up: use waitForQuorum(stream) for that).
   * @throws Error when it is running or does not listen in time.
   */
  restart(): Promise<void>;
}

export interface NatsCluster {
  /** Every node's client URL, in node order (pass them all to a client: `servers: urls`). */
  urls: string[];
  nodes: NatsClusterNode[];
  /** Parent directory of the nodes' stores and configs. */
  dir: string;
  /**
   * Resolves when every running node is routed to a JetStream meta leader (each node's
   * monitoring `/jsz` names the same leader and the meta group has all `size` peers known) and,
   * with `stream` (a stream name, in any account), when its leader reports every replica on a
   * running node current (caught up, not offline) and a majority of its replicas current. With
   * every node running that means fully replicated; with a node killed, quorate without it.
   * Polls the nodes' monitoring ports every 100 ms (no credentials needed).
   * @throws Error after `timeoutMs` (default 60000) naming what was last seen.
   */
  waitForQuorum(stream?: string, timeoutMs?: number): Promise<void>;
  /** Stops every running node (SIGTERM, SIGKILL after 5 s) and removes `dir` when the cluster created it. */
  stop(): Promise<void>;
}


async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

interface Jsz {
  server_name?: string;
  meta_cluster?: { name?: string; leader?: string; cluster_size?: number; replicas?: { name: string; current: boolean; offline?: boolean }[] };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}


/**
 * Starts the cluster and resolves once it has a JetStream meta leader known to every node.
 * @throws NatsServerNotFoundError when no nats-server >= 2.12 is found; Error when a node does not
 *   start or no meta leader is elected within `startTimeoutMs` (every started node is stopped then).
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new Error(`cluster size must be a positive integer, got ${size}`);
  const name = options.name ?? 'pool';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`cluster name ${JSON.stringify(name)}: letters, digits, _ and - only`);
  if (options.syncInterval !== undefined && !/^(always|\d+(ms|s|m|h))$/.test(options.syncInterval)) {
    throw new Error(`syncInterval ${JSON.stringify(options.syncInterval)}: 'always' or a duration like '2m'`);
  }
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `nats-cluster-${name}-`));
  const ports = await distinctFreePorts(size * 3);
  const clientPorts = ports.slice(0, size);
  const routePorts = ports.slice(size, 2 * size);
  const httpPorts = ports.slice(2 * size);
  const routes = routePorts.map((p) => `    nats-route://127.0.0.1:${p}`).join('\n');

  const handles: (NatsServerHandle | null)[] = new Array(size).fill(null);
  const nodes: NatsClusterNode[] = [];
  const starts: (() => Promise<void>)[] = [];
  for (let i = 0; i < size; i++) {
    const nodeDir = join(dir, `n${i + 1}`);
    const storeDir = join(nodeDir, 'store');
    mkdirSync(storeDir, { recursive: true });
    if (options.configInclude) copyFileSync(options.configInclude, join(nodeDir, 'include.conf'));
    const configFile = join(nodeDir, 'server.conf');
    writeFileSync(
      configFile,
      [
        `# generated by infra/nats/cluster.ts`,
        `server_name: "${name}-n${i + 1}"`,
        `http: "127.0.0.1:${httpPorts[i]}"`,
        `max_payload: 1MB`,
        `jetstream {`,
        ...(options.syncInterval ? [`  sync_interval: ${options.syncInterval}`] : []),
        `}`,
        `cluster {`,
        `  name: "${name}"`,
        `  listen: "127.0.0.1:${routePorts[i]}"`,
        `  routes: [`,
        routes,
        `  ]`,
        `}`,
        ...(options.configInclude ? ['include ./include.conf'] : []),
        '',
      ].join('\n'),
    );
    const start = async () => {
      const h = await startNatsServer({ storeDir, port: clientPorts[i], configFile, logFile: join(nodeDir, 'server.log'), startTimeoutMs });
      handles[i] = h;
      node.pid = h.pid;
      node.running = true;
      void h.exited.then(() => {
        if (handles[i] === h) {
          node.running = false;
          node.pid = 0;
        }
      });
    };
    const node: NatsClusterNode = {
      name: `${name}-n${i + 1}`,
      url: `nats://127.0.0.1:${clientPorts[i]}`,
      port: clientPorts[i]!,
      monitorUrl: `http://127.0.0.1:${httpPorts[i]}`,
      pid: 0,
      running: false,
      async kill() {
        const h = handles[i];
        if (!h || !node.running) return;
        const pid = h.pid;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await h.exited;
        if (processRunning(pid)) throw new Error(`nats-server ${node.name} (pid ${pid}) survived SIGKILL`);
      },
      async restart() {
        if (node.running) throw new Error(`${node.name} is running (pid ${node.pid}); kill() it first`);
        await start();
      },
    };
    nodes.push(node);
    starts.push(start);
  }

  const stop = async () => {
    await Promise.all(handles.map((h) => h?.stop()));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  const waitForQuorum = async (stream?: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = 'nothing yet';
    for (;;) {
      try {
        const seen = await quorumState(stream);
        if (seen === true) return;
        last = seen;
      } catch (err) {
        last = String(err);
      }
      if (Date.now() > deadline) throw new Error(`cluster ${name}: no quorum${stream ? ` for stream ${stream}` : ''} within ${timeoutMs} ms (last seen: ${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** true when quorate, else a description of what is missing. */
  const quorumState = async (stream?: string): Promise<true | string> => {
    const running = nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.running);
    if (!running.length) return 'no node running';
    const leaders = new Set<string>();
    for (const { n, i } of running) {
      const jsz = await getJson<Jsz>(`http://127.0.0.1:${httpPorts[i]}/jsz`);
      const meta = jsz.meta_cluster;
      if (!meta?.leader) return `${n.name} knows no meta leader`;
      if (size > 1 && (meta.cluster_size ?? 0) < size) return `${n.name}: meta group of ${meta.cluster_size ?? 0} < ${size}`;
      leaders.add(meta.leader);
    }
    if (leaders.size !== 1) return `nodes disagree on the meta leader: ${[...leaders].join(', ')}`;
    if (!stream) return true;
    // the stream's replica state as its leader reports it (a follower's view of the others is stale)
    for (const { n, i } of running) {
      const jsz = await getJson<{ account_details?: { stream_detail?: StreamDetail[] }[] }>(`http://127.0.0.1:${httpPorts[i]}/jsz?streams=true`);
      for (const acc of jsz.account_details ?? []) {
        const c = acc.stream_detail?.find((d) => d.name === stream)?.cluster;
        if (!c || c.leader !== n.name) continue;
        const replicas = c.replicas ?? [];
        const isRunning = (name: string) => running.some((r) => r.n.name === name);
        const behind = replicas.filter((r) => isRunning(r.name) && (!r.current || r.offline));
        if (behind.length) return `stream ${stream} leader ${c.leader}; not current: ${behind.map((r) => `${r.name}${r.offline ? ' (offline)' : ''} lag ${r.lag ?? '?'}`).join(', ')}`;
        const current = 1 + replicas.filter((r) => r.current && !r.offline).length;
        const peers = 1 + replicas.length;
        if (current <= peers / 2) return `stream ${stream}: ${current} of ${peers} replicas current, no majority`;
        return true;
      }
    }
    return `no running node leads stream ${stream}`;
  };

  const cluster: NatsCluster = { urls: nodes.map((n) => n.url), nodes, dir, waitForQuorum, stop };
  try {
    await Promise.all(starts.map((start) => start()));
    await waitForQuorum(undefined, startTimeoutMs);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return cluster;
}

interface StreamDetail {
  name: string;
  cluster?: { leader?: string; replicas?: { name: string; current: boolean; offline?: boolean; lag?: number }[] };
}
