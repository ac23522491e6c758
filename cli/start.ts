/**
 * `pool start`: composes the whole pool in one process —
 *   nats-server (own child under <dataDir>/nats, or NATS_URL) → streams and buckets;
 *   read-model database (PGlite under <dataDir>/pg, or DATABASE_URL) → migrations;
 *   local TON chain (<dataDir>/chain) with the pool's contracts deployed;
 *   emulated Cocoon workers and proxy (when no real workers are configured);
 *   producers (poller, log tailer, chain indexer), projections, the epoch saga, the read API.
 * Everything restarts from the stores under <dataDir>: a SIGKILL at any moment loses nothing.
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { openLocalChain, type LocalChain } from '../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../chain/poolContracts.ts';
import type { PoolConfig } from '../config/config.ts';
import { openDatabase, type OpenedDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { toRawAddress } from '../domain/address.ts';
import { participantWallet, registerEmulatedParticipants } from '../emulator/participants.ts';
import { startEmulatedPool } from '../emulator/pool.ts';
import { runChainIndexer } from '../producers/chain/indexer.ts';
import { runLogTailer } from '../producers/cocoon/logTailer.ts';
import { runPoller } from '../producers/cocoon/poller.ts';
import { poolProjections } from '../projectors/all.ts';
import { runProjection } from '../projectors/runner.ts';
import { poolMetrics } from '../read-api/metrics.ts';
import { buildReadApi } from '../read-api/server.ts';
import { distributionActions } from '../sagas/epoch/distributionActions.ts';
import { runEpochSaga } from '../sagas/epoch/processManager.ts';
import { runHeartbeatSaga } from '../sagas/heartbeat/processManager.ts';
import type { PoolEvent } from '../schemas/catalog.ts';
import { openArtifactStore } from '../streams/artifacts.ts';
import { openCursorStore } from '../streams/cursors.ts';
import { deadLetterTo } from '../streams/deadLetter.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import type { Role } from '../infra/nats/roles.ts';
import { openBroker } from './broker.ts';
import { sleep } from '../runtime/sleep.ts';
import { lockDataDir } from './lock.ts';

export interface RunningPool {
  /** where each part is (also logged at start-up) */
  summary: Record<string, unknown>;
  db: OpenedDatabase;
  store: NatsEventStore;
  /** resolves when `signal` aborts and everything has stopped */
  stopped: Promise<void>;
}

const PROXY_WALLET = 'proxy-1';
const OPERATOR_WALLET = 'operator';

/** Runs `task` until the signal aborts, restarting it after a failure (logged) with a back-off. */
async function supervise(name: string, logger: Logger, signal: AbortSignal, task: () => Promise<void>): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await task();
      if (signal.aborted) return;
      attempt = 0;
    } catch (err) {
      if (signal.aborted) return;
      logger.error({ err, component: name, attempt }, 'component failed; restarting');
    }
    await sleep(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)), signal);
  }
}

/** Appends WorkerBound for each worker whose configured participant differs from the last one recorded. */
async function bindWorkers(store: NatsEventStore, workers: { id: string; url: string; participant: string }[]): Promise<void> {
  for (const w of workers) {
    const subject = `pool.membership.${w.id}`;
    const last = await store.lastOnSubject(subject);
    if (last?.type === 'WorkerBound' && last.data.participant === w.participant && last.data.endpoint === w.url) continue;
    const boundAtMs = Date.now();
    const event: PoolEvent = { type: 'WorkerBound', version: 1, id: `bound:${w.id}:${boundAtMs}`, data: { workerId: w.id, participant: w.participant, endpoint: w.url, boundAtMs } };
    await store.append(subject, event, { expectedLastSubjectSequence: last?.sequence ?? 0 });
  }
}

/**
 * Starts every part and returns once the pool is running. Aborting `signal` stops it all.
 * @throws on any start-up failure (after stopping what had started), with a message naming the part.
 */
export async function startPool(config: PoolConfig, logger: Logger, signal: AbortSignal): Promise<RunningPool> {
  const dataDir = resolve(config.dataDir);
  const release = lockDataDir(dataDir);
  const cleanup: (() => Promise<void> | void)[] = [release];
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
    // broker
    const broker = await openBroker(config, dataDir, { logger: logger.child({ component: 'nats' }) });
    cleanup.push(() => broker.close());
    const { server } = broker;
    const natsUrl = broker.url;
    // one connection per role (infra/nats/roles.ts): each component publishes only its own subjects
    const as = async (role: Role) => {
      const c = await broker.connect(role);
      return { nc: c.nc, store: new NatsEventStore(c.js, c.jsm), deadLetter: deadLetterTo(c.js) };
    };
    const admin = await as('admin');
    const producers = await as('producers');
    const projections = await as('projections');
    const epochSaga = await as('epoch-saga');
    const heartbeat = await as('heartbeat-saga');
    const readApi = await as('read-api');
    const producerCursors = await openCursorStore(producers.nc);

    // read models
    const db = await openDatabase({ url: config.databaseUrl ?? undefined, pgliteDir: join(dataDir, 'pg') });
    cleanup.push(() => db.close());
    await migrateToLatest(db.db);

    // chain
    const emulated = !config.workers.length;
    const participantWallets = emulated ? Array.from({ length: config.emulator.participants }, (_, k) => participantWallet(k)) : [];
    const chain: LocalChain = await openLocalChain({ dir: join(dataDir, 'chain'), wallets: [OPERATOR_WALLET, PROXY_WALLET, ...participantWallets] });
    cleanup.push(() => chain.close());
    const contracts: PoolContracts = await deployPoolContracts(chain, OPERATOR_WALLET);

    // workers: configured real ones, or the emulated Cocoon side
    let workers: { id: string; url: string; participant: string; logPath?: string; accessHash?: string }[];
    if (!emulated) {
      workers = config.workers.map((w) => ({ ...w, participant: toRawAddress(w.participant) }));
    } else {
      await registerEmulatedParticipants(chain, contracts.operator, contracts.registry, participantWallets.length);
      const pool = await startEmulatedPool({
        dataDir,
        ...config.emulator,
        participants: participantWallets.map((w) => chain.walletAddress(w)),
        workerFeePerToken: BigInt(config.emulator.workerFeePerToken),
        proxyPayIntervalMs: config.emulator.proxyPayIntervalSeconds * 1000,
        pool: contracts.distribution,
        chain,
        proxyWallet: PROXY_WALLET,
        logger: logger.child({ component: 'emulator' }),
      });
      cleanup.push(() => pool.stop());
      workers = pool.workers;
    }
    await bindWorkers(admin.store, workers);

    const ctl = new AbortController();
    signal.addEventListener('abort', () => ctl.abort(), { once: true });
    const tasks: Promise<void>[] = [];
    const run = (name: string, task: () => Promise<void>) => tasks.push(supervise(name, logger, ctl.signal, task));
    const pollIntervalMs = config.pollIntervalSeconds * 1000;

    run('poller', () => runPoller({ workers, intervalMs: pollIntervalMs, store: producers.store, deadLetter: producers.deadLetter, logger: logger.child({ component: 'poller' }), signal: ctl.signal }));
    const logs = workers.filter((w) => w.logPath).map((w) => ({ workerId: w.id, path: w.logPath! }));
    // the emulated workers' logs are the pool's own from their first line; a real worker's log is read from where it was when first seen
    const fromStart = emulated;
    if (logs.length) run('tailer', () => runLogTailer({ logs, store: producers.store, cursors: producerCursors, deadLetter: producers.deadLetter, fromStart, logger: logger.child({ component: 'tailer' }), signal: ctl.signal }));
    run('chain-indexer', () =>
      runChainIndexer({
        chain,
        contracts: [
          { name: 'distribution', address: contracts.distribution },
          { name: 'operator', address: contracts.operator },
          { name: 'registry', address: contracts.registry },
        ],
        knownProxies: [chain.walletAddress(PROXY_WALLET)],
        store: producers.store,
        cursors: producerCursors,
        deadLetter: producers.deadLetter,
        logger: logger.child({ component: 'chain-indexer' }),
        signal: ctl.signal,
      }),
    );
    const projectionArtifacts = await openArtifactStore(projections.nc);
    for (const projection of poolProjections({ pollIntervalMs, maxTaskSeconds: config.rewards.maxTaskSeconds })) {
      run(`projection-${projection.name}`, () =>
        runProjection(projection, { store: projections.store, db: db.db, artifacts: projectionArtifacts, deadLetter: projections.deadLetter, logger: logger.child({ component: `projection-${projection.name}` }), signal: ctl.signal }),
      );
    }
    const sagaArtifacts = await openArtifactStore(epochSaga.nc);
    run('epoch-saga', () =>
      runEpochSaga({
        store: epochSaga.store,
        db: db.db,
        artifacts: sagaArtifacts,
        actions: distributionActions(chain, OPERATOR_WALLET, contracts.distribution),
        settings: {
          epochMs: config.epochSeconds * 1000,
          batchSize: config.payouts.batchSize,
          maxBatchesInFlight: config.payouts.maxBatchesInFlight,
          resubmitAfterMs: config.payouts.resubmitAfterSeconds * 1000,
        },
        rewardParams: config.rewards,
        logger: logger.child({ component: 'epoch-saga' }),
        signal: ctl.signal,
      }),
    );

    const heartbeatCursors = await openCursorStore(heartbeat.nc);
    run('heartbeat-saga', () =>
      runHeartbeatSaga({ store: heartbeat.store, cursors: heartbeatCursors, settings: { offlineAfterMisses: config.offlineAfterMisses }, logger: logger.child({ component: 'heartbeat-saga' }), signal: ctl.signal }),
    );

    const api = buildReadApi({
      db: db.db,
      logger,
      metrics: poolMetrics(db.db, () => readApi.store.lastSequence()),
      health: async () => ({ nats: readApi.nc.isClosed() ? 'closed' : 'connected', streamSequence: await readApi.store.lastSequence(), chainTime: chain.now() }),
    });
    const apiUrl = await api.listen({ host: config.api.host, port: config.api.port });
    cleanup.push(() => api.close());
    cleanup.push(async () => {
      ctl.abort();
      await Promise.all(tasks);
    });

    const summary = {
      nats: natsUrl,
      natsServer: server ? `own child (pid ${server.pid}, ${server.version}, store ${join(dataDir, 'nats')}, users per role in ${join(dataDir, 'nats', 'credentials.json')})` : 'external',
      database: db.description,
      chain: `local @ton/sandbox (${join(dataDir, 'chain')})`,
      distributionContract: contracts.distribution.toRawString(),
      operatorContract: contracts.operator.toRawString(),
      registryContract: contracts.registry.toRawString(),
      operatorWallet: chain.walletAddress(OPERATOR_WALLET).toRawString(),
      workers: workers.map((w) => `${w.id} ${w.url} → ${w.participant}`),
      api: apiUrl,
      epochSeconds: config.epochSeconds,
    };
    logger.info(summary, 'pool started');
    const stopped = new Promise<void>((r) => signal.addEventListener('abort', () => void stopAll().then(r), { once: true }));
    return { summary, db, store: projections.store, stopped };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
