/**
 * The emulated Cocoon side of `npm start` with no real workers: N workers on 127.0.0.1 ports
 * 12000+10·i (or free ports) writing their logs under `<dataDir>/workers/`, bound round-robin to
 * the participant wallets, each owned by its participant's forwarder (owner_address =
 * memberForwarderAddress(distribution, participant), as a member configures its real workers:
 * issue 11), with seeded restarts, stalls and offline periods; and a proxy paying each forwarder
 * for its workers' work, which the forwarder relays to the distribution tagged with the member.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Address } from '@ton/core';
import type { Logger } from 'pino';
import type { ChainClient, WalletName } from '../chain/client.ts';
import { memberForwarderAddress } from '../contracts/forwarder.ts';
import { workerContractAddress } from './cocoonWorkerContract.ts';
import { emulatedProxyPublicKey, startEmulatedProxy } from './proxy.ts';
import { EmulatedWorker, type FaultPlan } from './worker.ts';

export interface EmulatedPoolOptions {
  dataDir: string;
  workers: number;
  /** participant wallets the workers are bound to, round-robin */
  participants: readonly Address[];
  /** worker i listens on basePort + 10·i; 0 = free ports */
  basePort: number;
  seed: number;
  requestsPerSecond: number;
  faults: boolean;
  workerFeePerToken: bigint;
  /** nanoTON an owner's owed balance must reach for the proxy to pay it unasked (emulator/proxy.ts) */
  autoPayThresholdNanoton: bigint;
  proxyPayIntervalMs: number;
  /** the pool's distribution contract: the forwarders are its members' */
  pool: Address;
  chain: ChainClient;
  proxyWallet: WalletName;
  /** the emulated proxy contract owned by `proxyWallet` (emulator/proxy.ts deployEmulatedProxy) */
  proxy: Address;
  logger: Logger;
}

export interface EmulatedPoolWorker {
  id: string;
  url: string;
  logPath: string;
  /** raw participant address */
  participant: string;
  /** raw address of the participant's forwarder: the worker's owner_address */
  owner: string;
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

/** Starts the workers and the proxy; `stop()` stops them all. */
export async function startEmulatedPool(options: EmulatedPoolOptions): Promise<{ workers: EmulatedPoolWorker[]; stop(): Promise<void> }> {
  const dir = join(options.dataDir, 'workers');
  mkdirSync(dir, { recursive: true });
  const started: { id: string; worker: EmulatedWorker; owner: Address; participant: string; logPath: string }[] = [];
  const proxyPublicKey = emulatedProxyPublicKey(options.proxy);
  try {
    for (let i = 0; i < options.workers; i++) {
      const id = `w${i}`;
      const logPath = join(dir, `${id}.log`);
      const participant = options.participants[i % options.participants.length]!;
      const owner = await memberForwarderAddress(options.pool, participant);
      const worker = new EmulatedWorker({
        port: options.basePort ? options.basePort + 10 * i : 0,
        seed: options.seed * 1000 + i,
        logFile: logPath,
        requestsPerSecond: options.requestsPerSecond * (0.5 + ((i * 7) % 10) / 10),
        ownerAddress: owner.toRawString(),
        proxyScAddress: options.proxy.toRawString(),
        proxyPublicKey: proxyPublicKey.toString(16).padStart(64, '0'),
        workerContractAddress: workerContractAddress({ owner, proxy: options.proxy, proxyPublicKey }).toRawString(),
        faults: options.faults ? faultPlan(40) : undefined,
      });
      await worker.start();
      started.push({ id, worker, logPath, owner, participant: participant.toRawString() });
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.worker.stop()));
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
    logger: options.logger,
  });
  return {
    workers: started.map((s) => ({ id: s.id, url: s.worker.url, logPath: s.logPath, participant: s.participant, owner: s.owner.toRawString() })),
    async stop() {
      await proxy.stop();
      await Promise.all(started.map((s) => s.worker.stop()));
    },
  };
}
