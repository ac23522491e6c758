/**
 * The emulated Cocoon side of `npm start` with no real workers: N workers behind one HTTP server
 * on 127.0.0.1:<basePort> (or a free port), worker i at `/w<i>/…` (emulator/workerServer.ts),
 * writing their logs under `<dataDir>/workers/` (batched, asynchronous), bound round-robin to
 * the participant wallets, each owned by its participant's forwarder (owner_address =
 * memberForwarderAddress(distribution, participant), as a member configures its real workers:
 * issue 11), with seeded restarts, stalls and offline periods; and a proxy paying each forwarder
 * for its workers' work, which the forwarder relays to the distribution tagged with the member.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Address } from '@ton/core';
import type { Logger } from 'pino';
import type { WalletName } from '../chain/client.ts';
import { memberForwarderAddress } from '../contracts/forwarder.ts';
import { workerContractAddress } from './cocoonWorkerContract.ts';
import { DEFAULT_MODEL, defaultRootConfig } from './defaults.ts';
import { emulatedProxyPublicKey, startEmulatedProxy, type ProxySender } from './proxy.ts';
import { EmulatedWorker, type FaultPlan } from './worker.ts';
import { WorkerServer } from './workerServer.ts';

export interface EmulatedPoolOptions {
  dataDir: string;
  workers: number;
  /** participant wallets the workers are bound to, round-robin */
  participants: readonly Address[];
  /** the one port every worker is served on (worker i at `/w<i>/`); 0 = a free port */
  basePort: number;
  seed: number;
  /** mean requests a second of one worker (each worker 0.5–1.4× it); all of them together are held to {@link MAX_TOTAL_REQUESTS_PER_SECOND} */
  requestsPerSecond: number;
  faults: boolean;
  workerFeePerToken: bigint;
  /** nanoTON an owner's owed balance must reach for the proxy to pay it unasked (emulator/proxy.ts) */
  autoPayThresholdNanoton: bigint;
  proxyPayIntervalMs: number;
  /** the pool's distribution contract: the forwarders are its members' */
  pool: Address;
  /** sends the emulated proxy's payouts (the local chain, or the pool process's over IPC: emulator/child.ts) */
  chain: ProxySender;
  proxyWallet: WalletName;
  /** the emulated proxy contract owned by `proxyWallet` (emulator/proxy.ts deployEmulatedProxy) */
  proxy: Address;
  /** each owner's worker contract `tokens` at start, by raw owner (emulator/proxy.ts readWorkerContractTokens) */
  workerContractTokens: ReadonlyMap<string, bigint>;
  logger: Logger;
}

/** Restarts, stalls, offline periods and slow replies, about `perHour` per worker. */
function faultPlan(perHour: number): FaultPlan {
  return {
    random: {
      perHour,
      faults: [
        { kind: 'restart' },
        { kind: 'stall', seconds: 4 },
        { kind: 'offline', seconds: 6 },
        { kind: 'offline', seconds: 5, restartOnReturn: true },
        { kind: 'slow', seconds: 5, replyDelayMs: 300 },
      ],
    },
  };
}

/** Id of emulated worker `i`: `w<i>`. */
export const emulatedWorkerId = (i: number) => `w${i}`;

/** Log file of emulated worker `i` under the data directory: `<dataDir>/workers/w<i>.log`. */
export const emulatedWorkerLog = (dataDir: string, i: number) => join(dataDir, 'workers', `${emulatedWorkerId(i)}.log`);

/**
 * The emulated workers as the pool configures them: worker i is `w<i>` at `<baseUrl>/w<i>`, its
 * log {@link emulatedWorkerLog}, bound to participant i mod P (raw addresses). Pure.
 */
export function emulatedWorkers(baseUrl: string, dataDir: string, count: number, participants: readonly string[]): { id: string; url: string; logPath: string; participant: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    id: emulatedWorkerId(i),
    url: `${baseUrl}/${emulatedWorkerId(i)}`,
    logPath: emulatedWorkerLog(dataDir, i),
    participant: participants[i % participants.length]!,
  }));
}

/**
 * Most requests a second the emulated workers of one process simulate together. Each request is
 * simulated, counted and logged on the emulator's one thread: at 10,000 workers × 2 requests a
 * second it ran at 107 % of a core, its log queue grew to 3.85 GB in two minutes and polls timed
 * out. Past this the per-worker rate is scaled down, and said so.
 */
export const MAX_TOTAL_REQUESTS_PER_SECOND = 2_000;

/** The mean requests a second each of `workers` emulated workers runs at: `requestsPerSecond`, or less so that all of them together stay within {@link MAX_TOTAL_REQUESTS_PER_SECOND}. */
export function emulatedRequestRate(requestsPerSecond: number, workers: number): number {
  return requestsPerSecond * workers > MAX_TOTAL_REQUESTS_PER_SECOND ? MAX_TOTAL_REQUESTS_PER_SECOND / workers : requestsPerSecond;
}

/**
 * Starts the shared server, the workers and the proxy; `stop()` stops them all (and writes the
 * logs' queued lines). Rejects when the port is taken (after stopping what started).
 */
export async function startEmulatedPool(options: EmulatedPoolOptions): Promise<{ url: string; stop(): Promise<void> }> {
  mkdirSync(join(options.dataDir, 'workers'), { recursive: true });
  const server = new WorkerServer({ port: options.basePort });
  await server.start();
  const started: { id: string; worker: EmulatedWorker; owner: Address }[] = [];
  const owners = await Promise.all(options.participants.map((p) => memberForwarderAddress(options.pool, p)));
  const rootConfig = defaultRootConfig(DEFAULT_MODEL); // one object for all: a worker only reads it
  const proxyPublicKey = emulatedProxyPublicKey(options.proxy);
  const wanted = options.requestsPerSecond * options.workers;
  const rate = emulatedRequestRate(options.requestsPerSecond, options.workers);
  if (rate < options.requestsPerSecond) {
    options.logger.warn({ workers: options.workers, requestsPerSecond: options.requestsPerSecond, scaledTo: rate, maxTotal: MAX_TOTAL_REQUESTS_PER_SECOND }, `${options.workers} emulated workers at ${options.requestsPerSecond} requests a second would be ${wanted} a second: each runs at ${rate.toPrecision(3)} instead (at most ${MAX_TOTAL_REQUESTS_PER_SECOND} a second together)`);
  }
  try {
    for (let i = 0; i < options.workers; i++) {
      const id = emulatedWorkerId(i);
      const logPath = emulatedWorkerLog(options.dataDir, i);
      const owner = owners[i % options.participants.length]!;
      const worker = new EmulatedWorker({
        mount: { server, id },
        seed: options.seed * 1000 + i,
        logFile: logPath,
        requestsPerSecond: rate * (0.5 + ((i * 7) % 10) / 10),
        ownerAddress: owner.toRawString(),
        proxyScAddress: options.proxy.toRawString(),
        proxyPublicKey: proxyPublicKey.toString(16).padStart(64, '0'),
        workerContractAddress: workerContractAddress({ owner, proxy: options.proxy, proxyPublicKey }).toRawString(),
        rootConfig,
        faults: options.faults ? faultPlan(40) : undefined,
      });
      await worker.start();
      started.push({ id, worker, owner });
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.worker.stop()));
    await server.stop();
    throw err;
  }
  const proxy = startEmulatedProxy({
    chain: options.chain,
    wallet: options.proxyWallet,
    proxy: options.proxy,
    workers: started,
    workerFeePerToken: options.workerFeePerToken,
    autoPayThresholdNanoton: options.autoPayThresholdNanoton,
    payIntervalMs: options.proxyPayIntervalMs,
    workerContractTokens: options.workerContractTokens,
    logger: options.logger,
  });
  return {
    url: server.url,
    async stop() {
      await proxy.stop();
      await Promise.all(started.map((s) => s.worker.stop()));
      await server.stop();
    },
  };
}
