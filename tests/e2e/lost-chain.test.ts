/**
 * A lost `<dataDir>/chain` (issue 7: the pool redeployed the contracts on a new chain and re-sent
 * epoch 4's root commit every 30 s, refused with exit 1110, with no error line):
 * - the start compares the stream's chain identity with the chain it opens and refuses another one
 *   (chain/poolContracts.ts `openPoolContracts`), for a stream recording PoolContractsDeployed and for
 *   one from before that event;
 * - the epoch saga on the real local chain whose contract refuses epoch 4's commit (a fresh chain
 *   expects epoch 1) halts the epoch after `maxRefusedAttempts` refusals: EpochHalted recorded, an
 *   error logged, nothing more sent, after a restart of the saga too;
 * - the real `pool start` on a data dir whose chain/ was deleted stops with the message.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { localContractOwner, openLocalOperatorWallet } from '../../cli/start.ts';
import { ChainMismatchError, CHAIN_IDENTITY_SUBJECT, deployPoolContracts, openPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { cocoonPayoutBody, DISTRIBUTION_EXIT } from '../../contracts/distribution.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import { epochsProjection } from '../../projectors/epochs.ts';
import { runProjection } from '../../projectors/runner.ts';
import { poolMetrics } from '../../read-api/metrics.ts';
import { indexOnce, runChainIndexer, type ChainIndexerOptions } from '../../producers/chain/indexer.ts';
import { distributionActions } from '../../sagas/epoch/distributionActions.ts';
import { runEpochSaga } from '../../sagas/epoch/processManager.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase } from '../support/db.ts';
import { emulatedCocoon } from '../support/cocoonRoot.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { spawnPool } from '../support/pool.ts';
import { until } from '../support/until.ts';

const WALLETS = ['operator', 'proxy-1'];
const scratch = mkdtempSync(join(tmpdir(), 'pool-lost-chain-'));
chmodSync(scratch, 0o711); // the pools' data dirs are below it: the embedded PostgreSQL server (run as `postgres` under root) must reach them
test.after(() => rmSync(scratch, { recursive: true, force: true }));

async function indexerOptions(nats: TestNats, chain: LocalChain, contracts: PoolContracts, cursors: ChainIndexerOptions['cursors'], signal: AbortSignal): Promise<ChainIndexerOptions> {
  return {
    chain,
    contracts: [
      { name: 'distribution', address: contracts.distribution },
      { name: 'operator', address: contracts.operator },
      { name: 'registry', address: contracts.registry },
    ],
    proxies: (await emulatedCocoon(chain, nats.store)).proxies,
    store: nats.store,
    cursors,
    deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }),
    intervalMs: 20,
    signal,
  };
}

test('the chain identity is recorded once; the same chain reopens, a recreated one is refused', async () => {
  const nats = await startTestNats();
  const dir = join(scratch, 'identity-chain');
  try {
    let chain = await openLocalChain({ dir, wallets: WALLETS });
    const contracts = await openPoolContracts(chain, 'operator', nats.store, dir);
    const recorded = await nats.store.readSubject(CHAIN_IDENTITY_SUBJECT);
    assert.equal(recorded.map((e) => e.type), ['PoolContractsDeployed']);
    await chain.close();

    chain = await openLocalChain({ dir, wallets: WALLETS });
    const again = await openPoolContracts(chain, 'operator', nats.store, dir);
    assert.ok(again.distribution.equals(contracts.distribution));
    assert.is((await nats.store.readSubject(CHAIN_IDENTITY_SUBJECT)).length, 1, 'recorded once');
    await chain.close();

    const refused = async (message: string) => {
      try {
        await openPoolContracts(chain, 'operator', nats.store, dir);
        assert.unreachable('another chain was accepted');
      } catch (err) {
        assert.instance(err, ChainMismatchError);
        assert.match((err as Error).message, message);
        assert.match((err as Error).message, `Restore ${dir}`);
      }
    };
    // chain/ lost: the new chain has nothing at the contracts' addresses, and nothing is deployed there
    rmSync(dir, { recursive: true, force: true });
    chain = await openLocalChain({ dir, wallets: WALLETS });
    await refused('has no transactions here');
    assert.is(await chain.getAccountState(contracts.distribution), 'none', 'nothing was deployed on the other chain');
    // redeployed there (what the pool used to do): same addresses, another deploy transaction
    chain.setNow(Math.floor(Date.now() / 1000) + 3600);
    await deployPoolContracts(chain, 'operator');
    await refused('deployed in transaction');
    await chain.close();
  } finally {
    await nats.stop();
  }
});

test('a stream from before the identity event, with indexed transactions, refuses a chain that lacks them', async () => {
  const nats = await startTestNats();
  const dir = join(scratch, 'legacy-chain');
  try {
    let chain = await openLocalChain({ dir, wallets: WALLETS });
    const contracts = await openPoolContracts(chain, 'operator', nats.store, dir);
    await chain.send('proxy-1', [{ to: contracts.distribution, value: 3_000_000_000n, body: cocoonPayoutBody({ queryId: 42n }), bounce: false }]);
    const options = await indexerOptions(nats, chain, contracts, await openCursorStore(nats.nc), new AbortController().signal);
    await indexOnce(options.contracts[0]!, options);
    assert.ok(await nats.store.lastOnSubject('pool.chain.distribution'));
    await chain.close();

    // the same history without the identity event: a new stream holding only the indexed chain events
    const legacy = await startTestNats();
    try {
      for (const e of await nats.store.readSubject('pool.chain.distribution')) {
        await legacy.store.append('pool.chain.distribution', { type: e.type, version: e.version, id: e.id, data: e.data } as PoolEvent);
      }
      chain = await openLocalChain({ dir, wallets: WALLETS });
      await openPoolContracts(chain, 'operator', legacy.store, dir); // its own chain: accepted, and the identity recorded now
      assert.is((await legacy.store.readSubject(CHAIN_IDENTITY_SUBJECT)).length, 1);
      await chain.close();

      const other = await startTestNats();
      try {
        for (const e of await nats.store.readSubject('pool.chain.distribution')) {
          await other.store.append('pool.chain.distribution', { type: e.type, version: e.version, id: e.id, data: e.data } as PoolEvent);
        }
        const freshDir = join(scratch, 'legacy-fresh-chain');
        chain = await openLocalChain({ dir: freshDir, wallets: WALLETS });
        try {
          await openPoolContracts(chain, 'operator', other.store, freshDir);
          assert.unreachable('a chain without the indexed transactions was accepted');
        } catch (err) {
          assert.instance(err, ChainMismatchError);
          assert.match((err as Error).message, 'last distribution transaction');
        }
        await chain.close();
      } finally {
        await other.stop();
      }
    } finally {
      await legacy.stop();
    }
  } finally {
    await nats.stop();
  }
});

/** Epochs 1–3 settled (on another chain), epoch 4 computed: the history the lost chain left behind. */
async function seedHistory(nats: TestNats): Promise<void> {
  const artifact = { bucket: 'b', name: 'n', sha256: 'a'.repeat(64), bytes: 1, rows: 1 };
  const at = Date.now();
  const append = (epochId: number, event: PoolEvent) => nats.store.append(`pool.epoch.${epochId}`, event);
  for (let id = 1; id <= 4; id++) {
    await append(id, { type: 'EpochOpened', version: 1, id: `${id}:opened`, data: { epochId: id, startedAtMs: at, endsAtMs: at + 1 } });
    await append(id, { type: 'EpochClosing', version: 1, id: `${id}:closing`, data: { epochId: id, closedAtMs: at + 1 } });
    if (id < 4) {
      await append(id, { type: 'RootCommitConfirmed', version: 1, id: `${id}:commit-confirmed`, data: { epochId: id, txHash: String(id).repeat(64), confirmedAtMs: at } });
      await append(id, { type: 'EpochSettled', version: 1, id: `${id}:settled`, data: { epochId: id, payoutsConfirmed: 0, paidNanoton: '0', settledAtMs: at } });
    }
  }
  await append(4, {
    type: 'ContributionsFrozen', version: 1, id: '4:frozen',
    data: { epochId: 4, cutSequence: 1, durationSeconds: 1, participants: 1, revenueNanoton: '1000000', carryInNanoton: '0', contributions: artifact },
  });
  await append(4, {
    type: 'RewardsComputed', version: 1, id: '4:computed',
    data: {
      epochId: 4, formulaVersion: 1, params: {}, revenueNanoton: '1000000', carryInNanoton: '0', operatorFeeNanoton: '50000', rewardsNanoton: '950000',
      slashedNanoton: '0', carryOutNanoton: '0', eligible: 1, leafCount: 1, merkleRoot: 'ab'.repeat(32), rewards: artifact,
    },
  });
}

test('epoch 4\'s root commit refused by a fresh chain (exit 1110): the epoch halts loudly, nothing more is sent, after a restart too', async () => {
  const nats = await startTestNats();
  const pg = await createMigratedDatabase();
  const dir = join(scratch, 'refusing-chain');
  const chain = await openLocalChain({ dir, wallets: WALLETS });
  const ctl = new AbortController();
  try {
    // the contracts are deployed on this chain directly: the stream names no chain, as after the old redeploy
    const wallet = await openLocalOperatorWallet(chain);
    const contracts = await deployPoolContracts(chain, 'operator', 1n, localContractOwner(chain, wallet));
    await seedHistory(nats);
    const cursors = await openCursorStore(nats.nc);
    const options = await indexerOptions(nats, chain, contracts, cursors, ctl.signal);
    const indexer = runChainIndexer({ ...options, contracts: [...options.contracts, { name: 'operator-wallet', address: wallet.address, kind: 'wallet' }] });

    const logs: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logs.push(...chunk.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)), done()) });
    const logger = pino({ level: 'info' }, sink);
    // a clock that moves a minute per reading: the resubmit timeouts pass in a few decision rounds
    let clock = Date.now();
    let readings = 0;
    const now = () => (readings++, (clock += 60_000));
    const settings = { epochMs: 365 * 24 * 3600 * 1000, batchSize: 200, maxBatchesInFlight: 4, resubmitAfterMs: 5 * 60_000, maxRefusedAttempts: 3 };
    const sagaOptions = { store: nats.store, deadLetter: deadLetterTo(nats.js), db: pg.db, artifacts: await openArtifactStore(nats.nc), actions: distributionActions(chain, chain, wallet, contracts.distribution), settings, rewardParams: DEFAULT_REWARD_PARAMS, logger, tickMs: 20, now };
    const sagaCtl = new AbortController();
    const saga = runEpochSaga({ ...sagaOptions, signal: sagaCtl.signal });

    const halted = await until('EpochHalted on pool.epoch.4', async () => (await nats.store.readSubject('pool.epoch.4')).find((e) => e.type === 'EpochHalted'));
    assert.ok(halted.type === 'EpochHalted');
    if (halted.type !== 'EpochHalted') return;
    assert.is(halted.data.step, 'commit');
    assert.is(halted.data.attempts, 3);
    assert.is(halted.data.lastExitCode, DISTRIBUTION_EXIT.epochSequence);
    assert.is(DISTRIBUTION_EXIT.epochSequence, 1110, 'the exit code of the run in issue 7');
    const errorLog = logs.find((l) => l.msg === 'epoch halted: nothing more is sent for it; an operator must investigate (a lost or replaced chain: restore <dataDir>/chain or start a fresh data dir)');
    assert.ok(errorLog, 'an error line');
    assert.is(errorLog!.level, 50);
    assert.is(errorLog!.epochId, 4);
    // the read model and /metrics show it
    await runProjection(epochsProjection(), { store: nats.store, db: pg.db, artifacts: sagaOptions.artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
    assert.is((await pg.db.selectFrom('epochs').select('status').where('epoch_id', '=', 4).executeTakeFirstOrThrow()).status, 'halted');
    assert.match(await poolMetrics(pg.db, () => nats.store.lastSequence()).metrics(), 'pool_epochs{status="halted"} 1');

    // the saga goes on deciding (long after every timeout) and sends nothing more for epoch 4
    const readingsAtHalt = readings;
    await until('40 more clock readings (decision rounds)', async () => readings > readingsAtHalt + 40);
    sagaCtl.abort();
    await saga;
    const requests = (await nats.store.readSubject('pool.epoch.4')).filter((e) => e.type === 'RootCommitRequested');
    assert.is(requests.length, 3, 'three attempts, then no more');
    const failedCommits = async () => {
      const out: RecordedEvent[] = [];
      for (const e of await nats.store.readSubject('pool.chain.distribution')) if (e.type === 'ChainTransactionFailed') out.push(e);
      return out;
    };
    assert.is((await failedCommits()).length, 3);

    // restarted: the halt is remembered (logged at error at start), still nothing is sent
    const restartCtl = new AbortController();
    const logsBefore = logs.length;
    const restarted = runEpochSaga({ ...sagaOptions, signal: restartCtl.signal });
    await until('the restarted saga to report the recorded halt', async () => logs.slice(logsBefore).find((l) => l.level === 50 && l.epochId === 4 && String(l.msg).startsWith('epoch is halted (recorded earlier)')));
    const readingsAtRestart = readings;
    await until('40 clock readings after the restart', async () => readings > readingsAtRestart + 40);
    restartCtl.abort();
    await restarted;
    const after = await nats.store.readSubject('pool.epoch.4');
    assert.is(after.filter((e) => e.type === 'RootCommitRequested').length, 3);
    assert.is(after.filter((e) => e.type === 'EpochHalted').length, 1);
    assert.is((await failedCommits()).length, 3, 'no further sends reached the chain');
    ctl.abort();
    await indexer;
  } finally {
    ctl.abort();
    await chain.close();
    await nats.stop();
    await pg.drop();
  }
});

test('pool start on a data dir whose chain/ was deleted stops with the message, before sending anything', async () => {
  const dataDir = join(scratch, 'pool');
  const first = spawnPool('node', ['--epoch-seconds', '3', '--log-level', 'info'], dataDir);
  await first.waitFor(/"msg":"committing epoch root"/);
  first.child.kill('SIGTERM');
  await first.exited;
  rmSync(join(dataDir, 'chain'), { recursive: true, force: true });

  const second = spawnPool('node', ['--epoch-seconds', '3', '--log-level', 'info'], dataDir);
  let stderr = '';
  second.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  assert.is(await second.exited, 1);
  assert.ok(stderr.includes('names another chain than the one in'), stderr);
  assert.match(stderr, `Restore ${join(dataDir, 'chain')}`);
  assert.not.ok(second.lines.some((l) => l.includes('"msg":"pool started"')), 'the pool did not start');
  assert.not.ok(second.lines.some((l) => l.includes('committing epoch root')), 'nothing was sent');
});

test.run();
