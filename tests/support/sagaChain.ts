/**
 * The epoch saga on the real local chain for tests and benches: a real nats-server and PostgreSQL,
 * the local chain with the operator's highload wallet v3 owning freshly deployed pool contracts,
 * the chain indexer on the distribution contract and the wallet, and epoch 1 closed and computed
 * in the stream (`leaves` leaves of `reward` nanoTON), so the saga's next steps are all chain steps.
 */
import { join } from 'node:path';
import { Address } from '@ton/core';
import pino from 'pino';
import type { ChainSender } from '../../chain/client.ts';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { localContractOwner, openLocalOperatorWallet, supervise } from '../../cli/start.ts';
import { decodeRewardPayout } from '../../contracts/distribution.ts';
import { buildRewardsTree } from '../../domain/merkle/index.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import { runChainIndexer } from '../../producers/chain/indexer.ts';
import type { SagaSettings } from '../../sagas/epoch/decide.ts';
import type { OperatorWallet } from '../../chain/poolContracts.ts';
import { distributionActions } from '../../sagas/epoch/distributionActions.ts';
import { runEpochSaga } from '../../sagas/epoch/processManager.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { emulatedCocoon } from './cocoonRoot.ts';
import { createMigratedDatabase, type TestDb } from './db.ts';
import { startTestNats, type TestNats } from './nats.ts';

export interface SagaChainOptions {
  /** directory of the local chain (created) */
  dir: string;
  leaves: number;
  /** nanoTON per leaf */
  reward: bigint;
  /** nanoTON */
  fee: bigint;
  /** seconds a signed message stays valid (the wallet's timeout) */
  walletTimeout: number;
  settings: SagaSettings;
}

export interface Harness {
  nats: TestNats;
  pg: TestDb;
  chain: LocalChain;
  wallet: OperatorWallet;
  contracts: PoolContracts;
  logs: Record<string, unknown>[];
  /** starts the saga sending through `sender`; `stop` aborts it and waits */
  saga(sender: ChainSender, tickMs?: number): { ctl: AbortController; done: Promise<void> };
  close(): Promise<void>;
}

/**
 * A fresh pool side: chain with the operator's highload wallet owning freshly deployed contracts, the indexer running, and epoch 1 closed and
 * computed in the stream (LEAVES leaves of REWARD) — so the saga's next steps are all chain steps.
 */
export async function sagaOnLocalChain(o: SagaChainOptions): Promise<Harness> {
  const [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const chain = await openLocalChain({ dir: o.dir, wallets: ['operator'] });
  const wallet = await openLocalOperatorWallet(chain, { timeout: o.walletTimeout });
  const contracts = await deployPoolContracts(chain, 'operator', 1n, localContractOwner(chain, wallet));
  const cocoon = await emulatedCocoon(chain, nats.store, 'operator');
  const ctl = new AbortController();
  const cursors = await openCursorStore(nats.nc);
  // supervised as in `pool start`: a publish timeout on a loaded machine restarts it from its cursor
  const indexer = supervise('chain-indexer', pino({ level: 'silent' }), ctl.signal, () => runChainIndexer({
    chain,
    contracts: [
      { name: 'distribution', address: contracts.distribution },
      { name: 'operator-wallet', address: wallet.address, kind: 'wallet' },
    ],
    proxies: cocoon.proxies, // no Cocoon payouts here; the indexer needs its checker all the same
    store: nats.store,
    cursors,
    deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }),
    intervalMs: 20,
    signal: ctl.signal,
  }));
  const artifacts = await openArtifactStore(nats.nc);
  await seedComputedEpoch(nats, artifacts, o);
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const sagas: Promise<void>[] = [];
  return {
    nats, pg, chain, wallet, contracts, logs,
    saga(sender, tickMs = 20) {
      const sagaCtl = new AbortController();
      const done = runEpochSaga({
        store: nats.store, deadLetter: deadLetterTo(nats.js), db: pg.db, artifacts, actions: distributionActions(chain, sender, wallet, contracts.distribution),
        settings: o.settings, rewardParams: DEFAULT_REWARD_PARAMS, logger, tickMs, signal: AbortSignal.any([sagaCtl.signal, ctl.signal]),
      });
      sagas.push(done);
      return { ctl: sagaCtl, done };
    },
    async close() {
      ctl.abort();
      await Promise.allSettled([indexer, ...sagas]);
      await chain.close();
      await nats.stop();
      await pg.drop();
    },
  };
}

/** Epoch 1 opened, closed, frozen and computed: LEAVES leaves of REWARD, the rewards artifact stored. */
async function seedComputedEpoch(nats: TestNats, artifacts: Awaited<ReturnType<typeof openArtifactStore>>, o: SagaChainOptions): Promise<void> {
  const { leaves: LEAVES, reward: REWARD, fee: FEE } = o;
  const participants = Array.from({ length: LEAVES }, (_, i) => `0:${(i + 1).toString(16).padStart(64, '0')}`);
  const table = participants.map((participant, index) => ({ index, participant, amountNanoton: String(REWARD), scorePpb: 200_000_000 }));
  const tree = buildRewardsTree(participants.map((p) => ({ address: Address.parseRaw(p), amount: REWARD })));
  const rewards = await artifacts.putRows('epoch-1-rewards.json', table);
  const contributions = await artifacts.putRows('epoch-1-contributions.json', []);
  const at = Date.now();
  const append = (event: Parameters<TestNats['store']['append']>[1]) => nats.store.append('pool.epoch.1', event);
  await append({ type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: at - 2, endsAtMs: at - 1 } });
  const closing = await append({ type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: at - 1 } });
  await append({ type: 'ContributionsFrozen', version: 1, id: '1:frozen', data: { epochId: 1, cutSequence: closing.sequence, durationSeconds: 0, participants: LEAVES, revenueNanoton: String(REWARD * BigInt(LEAVES) + FEE), carryInNanoton: '0', contributions } });
  await append({
    type: 'RewardsComputed', version: 1, id: '1:computed',
    data: {
      epochId: 1, formulaVersion: 1, params: {}, revenueNanoton: String(REWARD * BigInt(LEAVES) + FEE), carryInNanoton: '0', operatorFeeNanoton: String(FEE),
      rewardsNanoton: String(REWARD * BigInt(LEAVES)), slashedNanoton: '0', carryOutNanoton: '0', eligible: LEAVES, leafCount: LEAVES, merkleRoot: tree.rootHex, rewards,
    },
  });
}

/** Leaf index → how many times the distribution contract paid it, read from its transactions on chain. */
export async function paymentsOnChain(h: Harness): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  for (const tx of await h.chain.getTransactions(h.contracts.distribution, {})) {
    for (const m of tx.outMessages.values()) {
      if (m.info.type !== 'internal') continue;
      try {
        const p = decodeRewardPayout(m.body);
        if (p.epochId === 1n) times.set(Number(p.index), (times.get(Number(p.index)) ?? 0) + 1);
      } catch {
        // excesses and other messages
      }
    }
  }
  return times;
}

