/**
 * `pool start`: composes the whole pool in one process —
 *   nats-server (own child under <dataDir>/nats, or NATS_URL) → streams and buckets;
 *   read-model database (embedded PostgreSQL server on <dataDir>/pg, or DATABASE_URL) → migrations;
 *   the chain of `chain.network` (cli/chainPort.ts): the local TON chain (<dataDir>/chain) with the
 *   pool's contracts deployed; devnet (the pool's own TON Center-compatible endpoint over it, the
 *   contracts deployed from the operator's highload wallet through TON Center's API); testnet or
 *   mainnet through TON Center, where the contracts `pool deploy` deployed are checked, never deployed;
 *   emulated Cocoon workers and proxy (when no real workers are configured; local and devnet), in a
 *   process of their own (emulator/child.ts) whose payouts the pool sends on its chain;
 *   producers (poller, log tailer, chain indexer), projections, the epoch saga, the read API.
 * Everything restarts from the stores under <dataDir>: a SIGKILL at any moment loses nothing.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { contractAddress, type Cell, type StateInit } from '@ton/core';
import { keyPairFromSeed, type KeyPair } from '@ton/crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Counter, Metric } from 'prom-client';
import { Address } from '@ton/core';
import type { LocalChain } from '../chain/localChain.ts';
import type { OutgoingMessage } from '../chain/client.ts';
import { deployCost, deployPoolContractsFrom, openDeployedPoolContracts, openPoolContracts, type ContractOwner, type OperatorWallet, type PoolContracts } from '../chain/poolContracts.ts';
import { HIGHLOAD_V3_DEFAULT_SUBWALLET_ID, HighloadQueryId, highloadV3Address, highloadV3StateInit, signTransfer } from '../chain/wallet/highloadV3.ts';
import type { PoolConfig } from '../config/config.ts';
import { openDatabase, type OpenedDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { toRawAddress } from '../domain/address.ts';
import { participantWallet, registerEmulatedParticipants } from '../emulator/participants.ts';
import { deployStandInRoot } from '../emulator/cocoonRoot.ts';
import { spawnEmulator } from '../emulator/child.ts';
import { emulatedWorkers } from '../emulator/pool.ts';
import { memberForwarderAddress } from '../contracts/forwarder.ts';
import { deployEmulatedProxy, EMULATED_PROXY_CODE, readWorkerContractTokens } from '../emulator/proxy.ts';
import { chainIndexerMetrics, runChainIndexer } from '../producers/chain/indexer.ts';
import { openProxyAuthenticity } from '../producers/chain/proxyAuthenticity.ts';
import { runLogTailer } from '../producers/cocoon/logTailer.ts';
import { runPoller } from '../producers/cocoon/poller.ts';
import { runWorkerTokensCheck, workerTokensMetrics } from '../producers/chain/workerTokens.ts';
import { runObserver } from '../producers/observer.ts';
import { alertMetrics, runAlertDispatcher } from '../alerts/dispatcher.ts';
import { poolProjections, uptimeCreditMs } from '../projectors/all.ts';
import { runProjections } from '../projectors/runner.ts';
import { claimStreamIdentity, readStreamIdentity } from '../projectors/streamIdentity.ts';
import { componentRestartsCounter, countAppends, poolActivityMetrics, poolMetrics } from '../read-api/metrics.ts';
import { alertsApi } from '../read-api/alerts.ts';
import { deadLettersApi } from '../read-api/deadLetters.ts';
import { buildReadApi } from '../read-api/server.ts';
import { loadPriceFile } from '../read-api/routes/exports.ts';
import { dashboard } from '../read-api/dashboard.ts';
import { distributionActions } from '../sagas/epoch/distributionActions.ts';
import { runEpochSaga } from '../sagas/epoch/processManager.ts';
import { runHeartbeatSaga } from '../sagas/heartbeat/processManager.ts';
import { subjectFor, type PoolEvent } from '../schemas/catalog.ts';
import { openArtifactStore } from '../streams/artifacts.ts';
import { openCursorStore } from '../streams/cursors.ts';
import { instanceHolderId, leaseMetrics, runUnderLease } from '../streams/lease.ts';
import { deadLetterTo, quarantineInvalid, type DeadLetterSink } from '../streams/deadLetter.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import type { Role } from '../infra/nats/roles.ts';
import { openBroker } from './broker.ts';
import { openChainPort, type ChainPort } from './chainPort.ts';
import { loadOperatorWallet } from './wallet.ts';
import { sleep } from '../runtime/sleep.ts';
import { lockDataDir } from './lock.ts';
import { assertPortFree, listenError } from './port.ts';

/** Where each part of a started pool is (logged at start-up; {@link formatStartupSummary} for people). */
export interface PoolSummary {
  dataDir: string;
  nats: string;
  natsServer: string;
  database: string;
  chain: string;
  tonCenter: string | null;
  distributionContract: string;
  operatorContract: string;
  registryContract: string;
  operatorWallet: string;
  /** emulated workers (no real one configured) */
  emulatedWorkers: boolean;
  /** `<id> <url> → <participant>` each */
  workers: string[];
  /** base URL of the read API */
  api: string;
  dashboard: string;
  metrics: string;
  /** the variable holding the operator token of /api/v1/alerts, and whether it is set */
  operatorToken: { variable: string; set: boolean };
  epochSeconds: number;
}

/**
 * The start-up summary for people (stderr; the JSON log has the same facts): one line per part,
 * at most 5 workers listed. Pure.
 */
export function formatStartupSummary(s: PoolSummary): string {
  const shown = s.workers.slice(0, 5);
  const more = s.workers.length - shown.length;
  const lines = [
    `Cocoon pool started — data in ${s.dataDir}`,
    `  NATS        ${s.nats} (${s.natsServer})`,
    `  PostgreSQL  ${s.database}`,
    `  Chain       ${s.chain}${s.tonCenter ? ` via TON Center ${s.tonCenter}` : ''}`,
    `  Contracts   distribution ${s.distributionContract}`,
    `              operator ${s.operatorContract}, registry ${s.registryContract}`,
    `  Operator    wallet ${s.operatorWallet}`,
    `  Workers     ${s.workers.length}${s.emulatedWorkers ? ' emulated' : ''}: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
    `  Epochs      every ${s.epochSeconds} s`,
    `  API         ${s.api}/api/v1`,
    `  Dashboard   ${s.dashboard}`,
    `  Metrics     ${s.metrics}`,
    `  Alerts      ${s.api}/api/v1/alerts (operator token ${s.operatorToken.variable}: ${s.operatorToken.set ? 'set' : 'NOT set, the alerts routes answer 503'})`,
    'Stop with Ctrl-C; a restart resumes from the data directory. JSON logs on stdout.',
  ];
  return `${lines.join('\n')}\n`;
}

export interface RunningPool {
  /** where each part is (also logged at start-up) */
  summary: PoolSummary;
  db: OpenedDatabase;
  store: NatsEventStore;
  /** resolves when `signal` aborts and everything has stopped */
  stopped: Promise<void>;
}

const PROXY_WALLET = 'proxy-1';
const OPERATOR_WALLET = 'operator';

/** Seed of the local chain's operator key: a test chain, so a fixed, public key (never use it on a real network). */
export const LOCAL_OPERATOR_SEED = 'cocoon-pool local chain operator';
/** Seconds a local operator message stays valid (highload v3 `timeout`). */
export const LOCAL_OPERATOR_TIMEOUT = 600;
/** The local operator wallet is topped up to this when below a tenth of it: 10,000 TON in nanoTON. */
const LOCAL_OPERATOR_FUNDING = 10_000_000_000_000n;

/** Highload v3 query_ids (by sequence) the local set-up uses, above the saga's (sagas/epoch/distributionActions.ts). */
const LOCAL_WALLET_DEPLOY_SEQUENCE = 8380415;
const LOCAL_CONTRACT_DEPLOY_SEQUENCE = 8380414;

/**
 * The local chain's operator wallet: a highload wallet v3 for `keyPair` (default derived from
 * {@link LOCAL_OPERATOR_SEED}), the default subwallet id, `timeout` seconds (default
 * {@link LOCAL_OPERATOR_TIMEOUT}). Pure: nothing is read or sent.
 */
export function localOperatorWallet(options: { keyPair?: KeyPair; timeout?: number } = {}): OperatorWallet {
  const keyPair = options.keyPair ?? keyPairFromSeed(createHash('sha256').update(LOCAL_OPERATOR_SEED).digest());
  const config = { publicKey: keyPair.publicKey, subwalletId: HIGHLOAD_V3_DEFAULT_SUBWALLET_ID, timeout: options.timeout ?? LOCAL_OPERATOR_TIMEOUT };
  return { keyPair, config, address: highloadV3Address(config) };
}

/**
 * Local chain only: {@link localOperatorWallet}, funded with {@link LocalChain.mint} (topped up
 * when below a tenth of {@link LOCAL_OPERATOR_FUNDING}) and deployed by its first external message
 * (a small transfer to the local 'operator' treasury carrying the wallet's StateInit). Idempotent.
 * On a real network the operator creates and funds the wallet (`pool wallet`); chain/keys.ts loads the key.
 * @throws the chain's errors; SendRejectedError when the deploy message is refused.
 */
export async function openLocalOperatorWallet(chain: LocalChain, options: { keyPair?: KeyPair; timeout?: number } = {}): Promise<OperatorWallet> {
  const wallet = localOperatorWallet(options);
  const account = await chain.getAccount(wallet.address);
  if (account.balance < LOCAL_OPERATOR_FUNDING / 10n) await chain.mint(wallet.address, LOCAL_OPERATOR_FUNDING);
  if (account.state !== 'active') {
    await chain.sendMessage(
      signLocal(wallet, LOCAL_WALLET_DEPLOY_SEQUENCE, await chain.chainTime(), { to: chain.walletAddress(OPERATOR_WALLET), value: 10_000_000n, bounce: false }, highloadV3StateInit(wallet.config)),
    );
  }
  return wallet;
}

function signLocal(wallet: OperatorWallet, sequence: number, createdAt: number, message: OutgoingMessage, init?: StateInit): Cell {
  const { keyPair, config, address } = wallet;
  return signTransfer({
    secretKey: keyPair.secretKey, walletAddress: address, subwalletId: config.subwalletId, timeout: config.timeout,
    queryId: HighloadQueryId.fromSequence(sequence), createdAt, messages: [message], init,
  }).message;
}

/**
 * The operator wallet as the owner of the pool's contracts on the local chain: it deploys the
 * distribution contract itself (its TopUp deploy body is owner-only), from a query_id kept for it.
 * @throws Error when the deploy transaction failed.
 */
export function localContractOwner(chain: LocalChain, wallet: OperatorWallet): ContractOwner {
  return {
    address: wallet.address,
    async deploy(init, value, body) {
      const address = contractAddress(0, init);
      if ((await chain.getAccountState(address)) === 'active') return;
      await chain.sendMessage(signLocal(wallet, LOCAL_CONTRACT_DEPLOY_SEQUENCE, await chain.chainTime(), { to: address, value, body, init, bounce: true }));
      const [tx] = await chain.getTransactions(address, { limit: 1 });
      const d = tx?.description;
      if (!d || d.type !== 'generic' || d.aborted || d.computePhase.type !== 'vm' || !d.computePhase.success) {
        throw new Error(`deploy of ${address.toString()} from the operator wallet failed${d?.type === 'generic' && d.computePhase.type === 'vm' ? ` (exit code ${d.computePhase.exitCode})` : ''}`);
      }
    },
  };
}

/**
 * Runs `task` until the signal aborts, restarting it after a failure or an unexpected return,
 * each logged (with the count of restarts in a row) and counted in `restarts`; the back-off
 * doubles from 0.4 s to 10 s and starts again after a run of a minute or more.
 */
export async function supervise(name: string, logger: Logger, signal: AbortSignal, task: () => Promise<void>, restarts?: Counter<'component'>): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    const startedAt = Date.now();
    try {
      await task();
      if (signal.aborted) return;
      logger.warn({ component: name, attempt }, 'component stopped by itself; restarting');
    } catch (err) {
      if (signal.aborted) return;
      logger.error({ err, component: name, attempt }, 'component failed; restarting');
    }
    restarts?.inc({ component: name });
    if (Date.now() - startedAt >= 60_000) attempt = 1;
    await sleep(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)), signal);
  }
}

/**
 * Appends WorkerBound for each worker whose configured participant or endpoint differs from the
 * last binding recorded on `pool.membership.<worker>`. A message there that is not a valid event
 * binds nothing (the projections skip it too): it is dead-lettered once, the last valid binding
 * stands, and a new binding is appended after it (expect.lastSubjectSequence names it).
 */
export async function bindWorkers(store: EventStore, deadLetter: DeadLetterSink, logger: Logger, workers: { id: string; url: string; participant: string }[]): Promise<void> {
  const quarantine = quarantineInvalid(deadLetter, 'bind-workers', logger);
  // workers are independent (one subject each): BIND_CONCURRENCY of them at a time
  let next = 0;
  const lane = async () => {
    while (next < workers.length) await bindWorker(workers[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(BIND_CONCURRENCY, workers.length) }, lane));

  async function bindWorker(w: { id: string; url: string; participant: string }): Promise<void> {
    const subject = subjectFor('membership', w.id);
    let lastInvalid = 0;
    const last = await store.lastOnSubject(subject, { onInvalid: async (i) => (await quarantine(i), void (lastInvalid = Math.max(lastInvalid, i.sequence))) });
    if (last?.type === 'WorkerBound' && last.data.participant === w.participant && last.data.endpoint === w.url) return;
    const boundAtMs = Date.now();
    const event: PoolEvent = { type: 'WorkerBound', version: 1, id: `bound:${w.id}:${boundAtMs}`, data: { workerId: w.id, participant: w.participant, endpoint: w.url, boundAtMs } };
    await store.append(subject, event, { expectedLastSubjectSequence: Math.max(last?.sequence ?? 0, lastInvalid) });
  }
}

/** Workers bound at the same time by {@link bindWorkers}. */
const BIND_CONCURRENCY = 64;

/** At most `max` entries of `items` for a log line, and how many were left out. */
function firstOf<T>(items: readonly T[], max = 20): { shown: T[]; more: number } {
  return { shown: items.slice(0, max), more: Math.max(0, items.length - max) };
}

/**
 * The pool's contracts on `port`'s chain, and the operator wallet that owns them (its key too, for
 * the saga's sends, except on local where a sandbox treasury owns them):
 * - local: the sandbox treasury 'operator' deploys them (openPoolContracts: chain identity checked);
 * - devnet with the pool's own endpoint: the operator's highload v3 wallet (its mnemonic configured,
 *   else `<dataDir>/chain/operator.mnemonic`), funded from the devnet faucet when short, deploys
 *   what is missing through TON Center's API, as `pool deploy` would; then they are opened as below;
 * - otherwise (testnet, mainnet, devnet with `chain.tonCenter.url`): `chain.contracts` opened without deploying
 *   (openDeployedPoolContracts: code hash against contracts/build, owner and pool id, chain identity).
 * @throws ChainMismatchError, PoolContractsError, KeyError, DeployError; the chain's errors.
 */
async function openContracts(config: PoolConfig, port: ChainPort, store: EventStore, dataDir: string, logger: Logger): Promise<{ contracts: PoolContracts; wallet: OperatorWallet }> {
  const poolId = BigInt(config.chain.poolId);
  if (port.network === 'local') {
    // owned by the highload wallet that sends the owner operations
    const chain = port.local!;
    const wallet = await openLocalOperatorWallet(chain);
    return { contracts: await openPoolContracts(chain, OPERATOR_WALLET, store, join(dataDir, 'chain'), poolId, localContractOwner(chain, wallet)), wallet };
  }
  const ownDevnet = port.network === 'devnet' && port.local !== null;
  const wallet = await loadOperatorWallet(config, process.env, ownDevnet ? dataDir : undefined);
  let configured = config.chain.contracts;
  if (ownDevnet) {
    if (ownDevnet && (await port.reader.getAccount(wallet.address)).balance < deployCost()) await port.local!.mint(wallet.address, 10n * deployCost());
    const deployed = await deployPoolContractsFrom({ reader: port.reader, sender: port.sender, wallet, poolId, progress: (line) => logger.info({ component: 'deploy' }, line) });
    configured = { distribution: deployed.contracts.distribution.toRawString(), operator: deployed.contracts.operator.toRawString(), registry: deployed.contracts.registry.toRawString() };
  }
  const contracts = await openDeployedPoolContracts({
    reader: port.reader, owner: wallet.address, poolId, store, network: port.description,
    configured: configured as Record<keyof PoolContracts, string>, // resolveConfig requires them where the pool does not deploy
    deployCommand: `pool deploy --network ${port.network} --config <file>`,
  });
  return { contracts, wallet };
}

/** The parts of a pool an instance can run (`pool start --role`); `all` is every one of them. */
export const POOL_ROLES = ['producers', 'projections', 'sagas', 'api'] as const;
export type PoolRole = (typeof POOL_ROLES)[number];

/**
 * The single-writer pieces (streams/lease.ts keys) by role: one instance at a time does each,
 * the others stand by. The read API itself has no lease: any number of instances serve reads.
 */
export const ROLE_LEASES: Record<PoolRole, readonly string[]> = {
  producers: ['producers'],
  projections: ['projections'],
  sagas: ['epoch-saga', 'heartbeat-saga'],
  api: ['alerts'],
};

export interface StartOptions {
  /** drop the read models and replay the stream from its first event (`--rebuild`) */
  rebuild?: boolean;
  /** the roles this instance runs (`--role`); default every one */
  roles?: readonly PoolRole[];
}

/**
 * Why this configuration cannot run only some roles, or null. The instances of a split pool must
 * share the broker (NATS_URL), the read models (DATABASE_URL) and the chain: the local chain, and
 * devnet without `chain.tonCenter.url`, live inside one process (run `pool devnet` and point
 * `chain.tonCenter.url` at it), and emulated workers pay through it.
 */
export function splitRolesProblem(config: PoolConfig): string | null {
  const missing: string[] = [];
  if (!config.natsUrl) missing.push('NATS_URL (a broker every instance shares; its own child server belongs to one instance)');
  if (!config.databaseUrl) missing.push('DATABASE_URL (the read models every instance shares; the embedded PostgreSQL belongs to one data directory)');
  if (config.chain.network === 'local' || (config.chain.network === 'devnet' && !config.chain.tonCenter.url)) {
    missing.push(`a chain every instance shares: --chain ${config.chain.network} lives inside one process; run \`pool devnet\` and set chain.tonCenter.url to it, or use testnet/mainnet`);
  }
  if (!config.workers.length) missing.push('configured workers (the emulated ones pay through the in-process local chain)');
  return missing.length ? `--role ${'<role>'} runs part of a pool beside other instances, which needs: ${missing.join('; ')}` : null;
}

/**
 * Starts every part and returns once the pool is running. Aborting `signal` stops it all.
 * @throws on any start-up failure (after stopping what had started), with a message naming the part;
 *   StreamIdentityError when the read models belong to another stream (projectors/streamIdentity.ts).
 */
export async function startPool(config: PoolConfig, logger: Logger, signal: AbortSignal, options: StartOptions = {}): Promise<RunningPool> {
  const roles = new Set<PoolRole>(options.roles ?? POOL_ROLES);
  if (roles.size < POOL_ROLES.length) {
    const problem = splitRolesProblem(config);
    if (problem) throw new Error(problem.replace('<role>', [...roles].join(',')));
  }
  const dataDir = resolve(config.dataDir);
  const release = await lockDataDir(dataDir);
  const cleanup: (() => Promise<void> | void)[] = [release];
  try {
    await assertPortFree(config.api.host, config.api.port); // before anything starts: a taken port is one line, at once
  } catch (err) {
    await release();
    throw err;
  }
  const stopAll = async () => {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
  };
  try {
    // the tax export's daily prices, if the operator supplies them: a bad file stops the start here (ConfigError)
    const prices = config.exports.pricesFile ? loadPriceFile(config.exports.pricesFile, config.exports.fiatCurrency) : undefined;
    // broker
    const broker = await openBroker(config, dataDir, { logger: logger.child({ component: 'nats' }) });
    cleanup.push(() => broker.close());
    const { server } = broker;
    const natsUrl = broker.url;
    // one connection per role (infra/nats/roles.ts): each component publishes only its own subjects;
    // every append is counted on /metrics (polls, tasks, payouts: read-api/metrics.ts)
    const activity = poolActivityMetrics();
    const as = async (role: Role) => {
      const c = await broker.connect(role);
      const raw = new NatsEventStore(c.js, c.jsm, broker.names);
      return { nc: c.nc, jsm: c.jsm, raw, store: countAppends(raw, activity), deadLetter: deadLetterTo(c.js, broker.names) };
    };
    const admin = await as('admin');
    const producers = await as('producers');
    const projections = await as('projections');
    const epochSaga = await as('epoch-saga');
    const heartbeat = await as('heartbeat-saga');
    const readApi = await as('read-api');
    const producerCursors = await openCursorStore(producers.nc, broker.names);

    // read models
    const db = await openDatabase({ url: config.databaseUrl ?? undefined, embeddedDir: join(dataDir, 'pg'), logger: logger.child({ component: 'database' }) });
    cleanup.push(() => db.close());
    await migrateToLatest(db.db);
    const identity = await readStreamIdentity((await broker.connect('admin')).jsm, broker.names.eventStream);
    const claimed = await claimStreamIdentity(db.db, {
      identity,
      lastSequence: await admin.store.lastSequence(),
      projections: poolProjections({ pollIntervalMs: config.pollIntervalSeconds * 1000, maxTaskSeconds: config.rewards.maxTaskSeconds, telemetry: config.telemetry }),
      rebuild: options.rebuild ?? false,
      database: db.description,
    });
    if (claimed === 'rebuilt') logger.warn({ database: db.description, stream: identity }, 'read models dropped (--rebuild): replaying the stream from its first event');

    // chain
    const emulated = !config.workers.length;
    const participantWallets = emulated ? Array.from({ length: config.emulator.participants }, (_, k) => participantWallet(k)) : [];
    const port = await openChainPort(config, { dataDir, logger, wallets: [OPERATOR_WALLET, PROXY_WALLET, ...participantWallets], ownDevnet: true });
    cleanup.push(() => port.close());
    const { contracts, wallet: operatorWallet } = await openContracts(config, port, producers.store, dataDir, logger);
    // the Cocoon root that says which proxies are genuine: on a chain of our own (local, own devnet) a
    // stand-in publishing the emulated proxy contract's code as proxy_sc_hash; elsewhere the configured one
    let emulatedProxy: Address | null = null;
    /** waits on the emulator process and starts it again when it dies (emulated workers only) */
    let superviseEmulator: ((signal: AbortSignal) => Promise<void>) | null = null;
    let cocoonRoot: Address;
    if (port.local) {
      emulatedProxy = await deployEmulatedProxy(port.local, PROXY_WALLET);
      cocoonRoot = await deployStandInRoot(port.local, OPERATOR_WALLET, {
        owner: port.local.walletAddress(OPERATOR_WALLET),
        paramsVersion: 1,
        pricePerToken: BigInt(config.emulator.workerFeePerToken),
        workerFeePerToken: BigInt(config.emulator.workerFeePerToken),
        proxyCode: EMULATED_PROXY_CODE,
      });
    } else if (config.chain.cocoonRoot) {
      cocoonRoot = Address.parse(config.chain.cocoonRoot);
    } else {
      throw new Error(`chain.cocoonRoot is not set for network ${port.network}: without the Cocoon root no payout can be told from a genuine proxy's; set it in the config file (--config)`);
    }

    // workers: configured real ones, or the emulated Cocoon side (it pays through the local chain: resolveConfig requires workers where there is none)
    let workers: { id: string; url: string; participant: string; logPath?: string; accessHash?: string }[];
    if (!emulated) {
      workers = config.workers.map((w) => ({ ...w, participant: toRawAddress(w.participant) }));
    } else {
      const chain = port.local!;
      const registeringSince = Date.now();
      const registered = await registerEmulatedParticipants(chain, contracts.operator, contracts.registry, participantWallets.length);
      logger.info({ component: 'emulator', registered, participants: participantWallets.length, ms: Date.now() - registeringSince }, 'emulated participants registered');
      const participants = participantWallets.map((w) => chain.walletAddress(w).toRawString());
      const forwarderAddresses = await Promise.all(participantWallets.map((w) => memberForwarderAddress(contracts.distribution, chain.walletAddress(w))));
      /** Forks the emulator on `basePort`; its proxy continues each member's worker contract from the chain. */
      const startEmulator = async (basePort: number) =>
        spawnEmulator(
          {
            dataDir,
            workers: config.emulator.workers,
            participants,
            basePort,
            seed: config.emulator.seed,
            requestsPerSecond: config.emulator.requestsPerSecond,
            faults: config.emulator.faults,
            workerFeePerToken: String(config.emulator.workerFeePerToken),
            autoPayThresholdNanoton: String(config.emulator.autoPayThresholdNanoton),
            proxyPayIntervalMs: config.emulator.proxyPayIntervalSeconds * 1000,
            pool: contracts.distribution.toRawString(),
            proxy: emulatedProxy!.toRawString(), // emulated workers run only on a chain of our own (config.ts resolveConfig)
            proxyWallet: PROXY_WALLET,
            // where each member's worker contract stands, so that a restarted proxy raises it from there
            workerContractTokens: Object.fromEntries([...(await readWorkerContractTokens(chain, emulatedProxy!, forwarderAddresses)).entries()].map(([owner, tokens]) => [owner, String(tokens)])),
            logLevel: logger.level,
          },
          chain,
          logger.child({ component: 'emulator' }),
        );
      let emulator = await startEmulator(config.emulator.basePort);
      const emulatorPort = Number(new URL(emulator.url).port);
      cleanup.push(() => emulator.stop());
      // an emulator process that dies is started again on the same port, so the workers' URLs stay (run below, supervised)
      let emulatorDied = false;
      superviseEmulator = async (signal) => {
        if (emulatorDied) {
          emulator = await startEmulator(emulatorPort);
          emulatorDied = false;
          logger.info({ component: 'emulator', emulatorPid: emulator.pid, workerServer: emulator.url }, 'emulator process started again');
        }
        const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
        const code = await Promise.race([emulator.exited, aborted]);
        if (code === 'aborted') return;
        emulatorDied = true;
        throw new Error(`the emulator process exited (code ${code}): its workers are offline until it is started again`);
      };
      workers = emulatedWorkers(emulator.url, dataDir, config.emulator.workers, participants);
      const forwarders = firstOf(participants, 100);
      logger.info(
        {
          emulatorPid: emulator.pid,
          workerServer: emulator.url,
          proxy: emulatedProxy!.toRawString(),
          forwarders: Object.fromEntries(await Promise.all(forwarders.shown.map(async (p) => [p, (await memberForwarderAddress(contracts.distribution, Address.parse(p))).toRawString()]))),
          forwardersNotShown: forwarders.more,
          autoPayThresholdNanoton: String(config.emulator.autoPayThresholdNanoton),
          payoutRequest: `${workers[0]!.url}/request/payout?proxy=${emulatedProxy!.toRawString()}`,
        },
        'emulated workers report their participant\'s forwarder as owner_address; the emulated proxy pays each forwarder its owed balance once it reaches the auto-pay threshold, or when a worker is asked GET /request/payout?proxy=<proxy>; the forwarder relays it to the distribution contract, booked as MemberRevenueReceived',
      );
    }
    if (roles.has('producers')) await bindWorkers(admin.store, admin.deadLetter, logger.child({ component: 'bind-workers' }), workers);

    const ctl = new AbortController();
    signal.addEventListener('abort', () => ctl.abort(), { once: true });
    const tasks: Promise<void>[] = [];
    const restarts = componentRestartsCounter();
    const leases = leaseMetrics();
    const holder = instanceHolderId(dataDir);
    type Part = [name: string, task: (signal: AbortSignal) => Promise<void>];
    /**
     * Runs `parts` (each supervised) only while this instance holds lease `key` (streams/lease.ts),
     * on `nc`, the connection of the role that owns the work; stands by otherwise.
     */
    const leased = (key: string, nc: NatsConnection, parts: Part[]) =>
      tasks.push(
        supervise(`lease:${key}`, logger, ctl.signal, () =>
          runUnderLease({ nc, names: broker.names, key, holder, logger: logger.child({ component: `lease:${key}` }), signal: ctl.signal, metrics: leases }, async (held) => {
            await Promise.all(parts.map(([name, task]) => supervise(name, logger, held, () => task(held), restarts)));
          }),
        restarts),
      );
    const pollIntervalMs = config.pollIntervalSeconds * 1000;

    if (superviseEmulator) {
      const task = superviseEmulator;
      tasks.push(supervise('emulator', logger, ctl.signal, () => task(ctl.signal), restarts));
    }
    const indexerMetrics = chainIndexerMetrics();
    const tokensMetrics = workerTokensMetrics();
    if (roles.has('producers')) {
      const parts: Part[] = [
        ['poller', (signal) => runPoller({ workers, intervalMs: pollIntervalMs, store: producers.store, deadLetter: producers.deadLetter, logger: logger.child({ component: 'poller' }), signal })],
        // the pool's own observation time: each heartbeat promises as long as a worker's uptime is credited between two polls
        ['observer', (signal) => runObserver({ store: producers.store, intervalMs: pollIntervalMs, validForMs: uptimeCreditMs(pollIntervalMs), logger: logger.child({ component: 'observer' }), signal })],
      ];
      const logs = workers.filter((w) => w.logPath).map((w) => ({ workerId: w.id, path: w.logPath! }));
      // the emulated workers' logs are the pool's own from their first line; a real worker's log is read from where it was when first seen
      const fromStart = emulated;
      if (logs.length) parts.push(['tailer', (signal) => runLogTailer({ logs, store: producers.store, cursors: producerCursors, deadLetter: producers.deadLetter, fromStart, logger: logger.child({ component: 'tailer' }), signal })]);
      // over TON Center the indexer's idle polls (one request per contract) take at most half the request rate
      const indexerIntervalMs = port.network === 'local' ? undefined : Math.max(1000, Math.ceil(6000 / config.chain.tonCenter.requestsPerSecond));
      // each (re)start loads the proxy verdicts from the stream
      parts.push(['chain-indexer', async (signal) =>
        runChainIndexer({
          chain: port.reader,
          intervalMs: indexerIntervalMs,
          continuityBreaks: indexerMetrics.continuityBreaks,
          contracts: [
            { name: 'distribution', address: contracts.distribution },
            { name: 'operator', address: contracts.operator },
            { name: 'registry', address: contracts.registry },
            { name: 'operator-wallet', address: operatorWallet.address, kind: 'wallet' },
          ],
          proxies: await openProxyAuthenticity({ reader: port.reader, root: cocoonRoot, store: producers.store, onInvalid: quarantineInvalid(producers.deadLetter, 'chain-indexer', logger) }),
          store: producers.store,
          cursors: producerCursors,
          deadLetter: producers.deadLetter,
          logger: logger.child({ component: 'chain-indexer' }),
          signal,
        })]);
      // workers' cached_out_tokens against their Cocoon worker contracts, for proxies the indexer recorded as genuine
      parts.push(['worker-tokens', (signal) =>
        runWorkerTokensCheck({
          store: producers.store,
          reader: port.reader,
          root: cocoonRoot,
          toleranceTokens: BigInt(config.telemetry.cashedOutToleranceTokens),
          metrics: tokensMetrics,
          onInvalid: quarantineInvalid(producers.deadLetter, 'chain-indexer', logger),
          logger: logger.child({ component: 'worker-tokens' }),
          signal,
        })]);
      leased('producers', producers.nc, parts);
    }
    if (roles.has('projections')) {
      const projectionArtifacts = await openArtifactStore(projections.nc, broker.names);
      // every read model on one shared read of the stream, one transaction per batch (projectors/runner.ts)
      const readModels = poolProjections({ pollIntervalMs, maxTaskSeconds: config.rewards.maxTaskSeconds, telemetry: config.telemetry });
      leased('projections', projections.nc, [['projections', (signal) =>
        runProjections(readModels, { store: projections.store, db: db.db, artifacts: projectionArtifacts, deadLetter: projections.deadLetter, logger: logger.child({ component: 'projections' }), batchSize: 2000, signal })]]);
    }
    if (roles.has('sagas')) {
      const sagaArtifacts = await openArtifactStore(epochSaga.nc, broker.names);
      // the operator's highload wallet signs; every read and submission goes through the chain port (local chain or TON Center)
      leased('epoch-saga', epochSaga.nc, [['epoch-saga', (signal) =>
        runEpochSaga({
          store: epochSaga.store,
          deadLetter: epochSaga.deadLetter,
          db: db.db,
          artifacts: sagaArtifacts,
          actions: distributionActions(port.reader, port.sender, operatorWallet, contracts.distribution),
          settings: {
            epochMs: config.epochSeconds * 1000,
            batchSize: config.payouts.batchSize,
            maxBatchesInFlight: config.payouts.maxBatchesInFlight,
            resubmitAfterMs: config.payouts.resubmitAfterSeconds * 1000,
            maxRefusedAttempts: config.payouts.maxRefusedAttempts,
          },
          rewardParams: config.rewards,
          logger: logger.child({ component: 'epoch-saga' }),
          signal,
        })]]);
      const heartbeatCursors = await openCursorStore(heartbeat.nc, broker.names);
      leased('heartbeat-saga', heartbeat.nc, [['heartbeat-saga', (signal) =>
        runHeartbeatSaga({ store: heartbeat.store, cursors: heartbeatCursors, deadLetter: heartbeat.deadLetter, settings: { offlineAfterMisses: config.offlineAfterMisses, telemetry: config.telemetry }, logger: logger.child({ component: 'heartbeat-saga' }), signal })]]);
    }

    // operator alerts: rules from /api/v1/alerts, the stream's alert events posted to their webhooks
    const alerting = alertMetrics();
    if (roles.has('api')) {
      leased('alerts', readApi.nc, [['alerts', (signal) =>
        runAlertDispatcher({
          store: readApi.store,
          db: db.db,
          settings: { attempts: config.alerts.attempts, attemptTimeoutMs: config.alerts.attemptTimeoutSeconds * 1000, firstRetryMs: config.alerts.firstRetrySeconds * 1000 },
          metrics: alerting,
          logger: logger.child({ component: 'alerts' }),
          signal,
        })]]);
    }
    const metrics = poolMetrics(db.db, () => readApi.store.lastSequence(), readApi.store);
    metrics.registerMetric(alerting.deliveries);
    metrics.registerMetric(alerting.attempts);
    metrics.registerMetric(restarts);
    for (const metric of [leases.active, leases.acquired, leases.lost]) metrics.registerMetric(metric);
    for (const metric of activity.all) metrics.registerMetric(metric);
    for (const metric of [...port.metrics, indexerMetrics.continuityBreaks, tokensMetrics.checks, tokensMetrics.divergences] as Metric[]) metrics.registerMetric(metric);
    const api = buildReadApi({
      db: db.db,
      logger,
      metrics,
      cors: config.api.cors,
      // epoch artifacts served as files (GET /api/v1/epochs/:id/artifacts/:kind), read with the read API's own role
      artifacts: await openArtifactStore(readApi.nc, broker.names),
      streamSequence: () => readApi.store.lastSequence(),
      operatorFeeBps: config.rewards.operatorFeeBps,
      store: readApi.store,
      // pull claims name the pool's distribution contract (test-only addresses off mainnet)
      claims: { distribution: contracts.distribution, testOnly: port.network !== 'mainnet' },
      prices,
      dependencies: {
        nats: async () => ({ streamSequence: await readApi.store.lastSequence() }),
        chain: async () => ({ chainTime: await port.reader.chainTime() }),
      },
    });
    const operatorToken = process.env[config.alerts.operatorTokenEnv] || null;
    if (!operatorToken) logger.warn({ variable: config.alerts.operatorTokenEnv }, `no operator token: /api/v1/alerts answers 503 until ${config.alerts.operatorTokenEnv} is set`);
    await api.register(alertsApi, { db: db.db, operatorToken, operatorTokenEnv: config.alerts.operatorTokenEnv, streamSequence: () => readApi.store.lastSequence() });
    await api.register(deadLettersApi, { jsm: readApi.jsm, names: broker.names, operatorToken, operatorTokenEnv: config.alerts.operatorTokenEnv });
    await api.register(dashboard);
    const apiUrl = await api.listen({ host: config.api.host, port: config.api.port }).catch((err: unknown) => {
      throw listenError(err, config.api.host, config.api.port);
    });
    cleanup.push(() => api.close());
    cleanup.push(async () => {
      ctl.abort();
      await Promise.all(tasks);
    });

    const summary: PoolSummary = {
      dataDir,
      nats: natsUrl,
      natsServer: server ? `own child (pid ${server.pid}, ${server.version}, store ${join(dataDir, 'nats')}, users per role in ${join(dataDir, 'nats', 'credentials.json')})` : 'external',
      database: db.description,
      chain: port.description,
      tonCenter: port.tonCenter,
      distributionContract: contracts.distribution.toRawString(),
      operatorContract: contracts.operator.toRawString(),
      registryContract: contracts.registry.toRawString(),
      operatorWallet: operatorWallet.address.toRawString(),
      emulatedWorkers: emulated,
      workers: ((f) => [...f.shown.map((w) => `${w.id} ${w.url} → ${w.participant}`), ...(f.more ? [`… and ${f.more} more`] : [])])(firstOf(workers)),
      api: apiUrl,
      dashboard: `${apiUrl}/`,
      metrics: `${apiUrl}/metrics`,
      operatorToken: { variable: config.alerts.operatorTokenEnv, set: operatorToken !== null },
      epochSeconds: config.epochSeconds,
    };
    logger.info(summary, 'pool started');
    const stopped = new Promise<void>((r) => signal.addEventListener('abort', () => void stopAll().then(r), { once: true }));
    return { summary, db, store: projections.raw, stopped };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
