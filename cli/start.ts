/**
 * `pool start`: composes the whole pool in one process —
 *   nats-server (own child under <dataDir>/nats, or NATS_URL) → streams and buckets;
 *   read-model database (embedded PostgreSQL server on <dataDir>/pg, or DATABASE_URL) → migrations;
 *   local TON chain (<dataDir>/chain) with the pool's contracts deployed;
 *   emulated Cocoon workers and proxy (when no real workers are configured);
 *   producers (poller, log tailer, chain indexer), projections, the epoch saga, the read API.
 * Everything restarts from the stores under <dataDir>: a SIGKILL at any moment loses nothing.
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { openLocalChain, type LocalChain } from '../chain/localChain.ts';
import { openPoolContracts, type PoolContracts } from '../chain/poolContracts.ts';
import type { PoolConfig } from '../config/config.ts';
import { openDatabase, type OpenedDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { toRawAddress } from '../domain/address.ts';
import { participantWallet, registerEmulatedParticipants } from '../emulator/participants.ts';
import { startEmulatedPool } from '../emulator/pool.ts';
import { runChainIndexer } from '../producers/chain/indexer.ts';
import { runLogTailer } from '../producers/cocoon/logTailer.ts';
import { runPoller } from '../producers/cocoon/poller.ts';
import { runObserver } from '../producers/observer.ts';
import { poolProjections, uptimeCreditMs } from '../projectors/all.ts';
import { runProjection } from '../projectors/runner.ts';
import { claimStreamIdentity, readStreamIdentity } from '../projectors/streamIdentity.ts';
import { poolMetrics } from '../read-api/metrics.ts';
import { buildReadApi } from '../read-api/server.ts';
import { distributionActions } from '../sagas/epoch/distributionActions.ts';
import { runEpochSaga } from '../sagas/epoch/processManager.ts';
import { runHeartbeatSaga } from '../sagas/heartbeat/processManager.ts';
import type { PoolEvent } from '../schemas/catalog.ts';
import { openArtifactStore } from '../streams/artifacts.ts';
import { openCursorStore } from '../streams/cursors.ts';
import { deadLetterTo, quarantineInvalid, type DeadLetterSink } from '../streams/deadLetter.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import { EVENT_STREAM } from '../streams/topology.ts';
import type { Role } from '../infra/nats/roles.ts';
import { openBroker } from './broker.ts';
import { sleep } from '../runtime/sleep.ts';
import { lockDataDir } from './lock.ts';
import { assertPortFree, listenError } from './port.ts';

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
  for (const w of workers) {
    const subject = `pool.membership.${w.id}`;
    let lastInvalid = 0;
    const last = await store.lastOnSubject(subject, { onInvalid: async (i) => (await quarantine(i), void (lastInvalid = Math.max(lastInvalid, i.sequence))) });
    if (last?.type === 'WorkerBound' && last.data.participant === w.participant && last.data.endpoint === w.url) continue;
    const boundAtMs = Date.now();
    const event: PoolEvent = { type: 'WorkerBound', version: 1, id: `bound:${w.id}:${boundAtMs}`, data: { workerId: w.id, participant: w.participant, endpoint: w.url, boundAtMs } };
    await store.append(subject, event, { expectedLastSubjectSequence: Math.max(last?.sequence ?? 0, lastInvalid) });
  }
}

export interface StartOptions {
  /** drop the read models and replay the stream from its first event (`--rebuild`) */
  rebuild?: boolean;
}

/**
 * Starts every part and returns once the pool is running. Aborting `signal` stops it all.
 * @throws on any start-up failure (after stopping what had started), with a message naming the part;
 *   StreamIdentityError when the read models belong to another stream (projectors/streamIdentity.ts).
 */
export async function startPool(config: PoolConfig, logger: Logger, signal: AbortSignal, options: StartOptions = {}): Promise<RunningPool> {
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
    const db = await openDatabase({ url: config.databaseUrl ?? undefined, embeddedDir: join(dataDir, 'pg'), logger: logger.child({ component: 'database' }) });
    cleanup.push(() => db.close());
    await migrateToLatest(db.db);
    const identity = await readStreamIdentity((await broker.connect('admin')).jsm, EVENT_STREAM);
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
    const chainDir = join(dataDir, 'chain');
    const chain: LocalChain = await openLocalChain({ dir: chainDir, wallets: [OPERATOR_WALLET, PROXY_WALLET, ...participantWallets] });
    cleanup.push(() => chain.close());
    const contracts: PoolContracts = await openPoolContracts(chain, OPERATOR_WALLET, producers.store, chainDir);

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
    await bindWorkers(admin.store, admin.deadLetter, logger.child({ component: 'bind-workers' }), workers);

    const ctl = new AbortController();
    signal.addEventListener('abort', () => ctl.abort(), { once: true });
    const tasks: Promise<void>[] = [];
    const restarts = new Counter({ name: 'pool_component_restarts_total', help: 'Restarts of each supervised component after a failure', labelNames: ['component'], registers: [] });
    const run = (name: string, task: () => Promise<void>) => tasks.push(supervise(name, logger, ctl.signal, task, restarts));
    const pollIntervalMs = config.pollIntervalSeconds * 1000;

    run('poller', () => runPoller({ workers, intervalMs: pollIntervalMs, store: producers.store, deadLetter: producers.deadLetter, logger: logger.child({ component: 'poller' }), signal: ctl.signal }));
    // the pool's own observation time: each heartbeat promises as long as a worker's uptime is credited between two polls
    run('observer', () => runObserver({ store: producers.store, intervalMs: pollIntervalMs, validForMs: uptimeCreditMs(pollIntervalMs), logger: logger.child({ component: 'observer' }), signal: ctl.signal }));
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
    for (const projection of poolProjections({ pollIntervalMs, maxTaskSeconds: config.rewards.maxTaskSeconds, telemetry: config.telemetry })) {
      run(`projection-${projection.name}`, () =>
        runProjection(projection, { store: projections.store, db: db.db, artifacts: projectionArtifacts, deadLetter: projections.deadLetter, logger: logger.child({ component: `projection-${projection.name}` }), signal: ctl.signal }),
      );
    }
    const sagaArtifacts = await openArtifactStore(epochSaga.nc);
    run('epoch-saga', () =>
      runEpochSaga({
        store: epochSaga.store,
        deadLetter: epochSaga.deadLetter,
        db: db.db,
        artifacts: sagaArtifacts,
        actions: distributionActions(chain, OPERATOR_WALLET, contracts.distribution),
        settings: {
          epochMs: config.epochSeconds * 1000,
          batchSize: config.payouts.batchSize,
          maxBatchesInFlight: config.payouts.maxBatchesInFlight,
          resubmitAfterMs: config.payouts.resubmitAfterSeconds * 1000,
          maxRefusedAttempts: config.payouts.maxRefusedAttempts,
        },
        rewardParams: config.rewards,
        logger: logger.child({ component: 'epoch-saga' }),
        signal: ctl.signal,
      }),
    );

    const heartbeatCursors = await openCursorStore(heartbeat.nc);
    run('heartbeat-saga', () =>
      runHeartbeatSaga({ store: heartbeat.store, cursors: heartbeatCursors, deadLetter: heartbeat.deadLetter, settings: { offlineAfterMisses: config.offlineAfterMisses, telemetry: config.telemetry }, logger: logger.child({ component: 'heartbeat-saga' }), signal: ctl.signal }),
    );

    const metrics = poolMetrics(db.db, () => readApi.store.lastSequence(), readApi.store);
    metrics.registerMetric(restarts);
    const api = buildReadApi({
      db: db.db,
      logger,
      metrics,
      dependencies: {
        nats: async () => ({ streamSequence: await readApi.store.lastSequence() }),
        chain: async () => ({ chainTime: chain.now() }),
      },
    });
    const apiUrl = await api.listen({ host: config.api.host, port: config.api.port }).catch((err: unknown) => {
      throw listenError(err, config.api.host, config.api.port);
    });
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
