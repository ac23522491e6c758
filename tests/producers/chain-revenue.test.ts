/**
 * Small Cocoon payouts through the real chain indexer and the epochs projection (issue 7): a
 * payout too small for the distribution contract's intake fails on chain (exit −14, or compute
 * skipped), yet its value is booked as revenue of the open epoch exactly like one that ran, and
 * the contract's own counter holds exactly the ones that ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { loadGetterTupleTotals } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { cocoonPayoutBody } from '../../contracts/distribution.ts';
import { indexOnce, type ChainIndexerOptions } from '../../producers/chain/indexer.ts';
import { epochsProjection } from '../../projectors/epochs.ts';
import { runProjection } from '../../projectors/runner.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { emulatedCocoon, indexerOptions, type EmulatedCocoon } from '../support/cocoonRoot.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let chain: LocalChain;
let contracts: PoolContracts;
let options: ChainIndexerOptions;
let cocoon: EmulatedCocoon;
const dir = mkdtempSync(join(tmpdir(), 'pool-revenue-'));

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
  contracts = await deployPoolContracts(chain, 'operator');
  cocoon = await emulatedCocoon(chain, nats.store);
  options = await indexerOptions(nats, chain, [{ name: 'distribution', address: contracts.distribution }], cocoon);
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function counter(): Promise<bigint> {
  return loadGetterTupleTotals((await chain.runGetMethod(contracts.distribution, 'totals')).stack).revenue;
}

test('payouts below the intake cost fail on chain and are still booked, once, as the open epoch\'s revenue', async () => {
  const cost = (await chain.runGetMethod(contracts.distribution, 'revenueIntakeCost')).stack.readBigNumber();
  const before = await counter();
  const values = [3_000_000_000n, cost, cost - 1n, 1_000_000n, 500_000n, 39_999n, 1n];
  await cocoon.pay(contracts.distribution, values.map((value, i) => ({ value, queryId: BigInt(100 + i) })));
  while ((await indexOnce(options.contracts[0]!, options)) > 0);

  const events: RecordedEvent[] = [];
  for await (const b of nats.store.read({ types: ['PoolRevenueReceived', 'ChainTransactionFailed'] })) events.push(...b.events);
  const revenue = events.flatMap((e) => (e.type === 'PoolRevenueReceived' ? [e.data] : []));
  assert.equal(
    revenue.map((d) => [d.amountNanoton, d.queryId, d.knownProxy, d.countedByContract]),
    values.map((v, i) => [String(v), String(100 + i), true, v >= cost]),
  );
  const failed = events.flatMap((e) => (e.type === 'ChainTransactionFailed' ? [e.data] : []));
  assert.equal(failed.map((d) => [d.valueNanoton, d.op, d.exitCode]), values.filter((v) => v < cost).map((v) => [String(v), '0xc59a7cd3', v < 40_000n ? -1 : -14]));
  assert.is((await counter()) - before, values.filter((v) => v >= cost).reduce((s, v) => s + v, 0n), 'the contract counted the ones that ran');

  // indexed again from the start: the same ids, nothing counts twice
  await options.cursors.put('chain.distribution', { lt: '0' });
  while ((await indexOnce(options.contracts[0]!, options)) > 0);
  const artifacts = await openArtifactStore(nats.nc);
  await runProjection(epochsProjection(), { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  const sum = values.reduce((s, v) => s + v, 0n);
  const epoch = await pg.db.selectFrom('epochs').select('revenue_nanoton').where('epoch_id', '=', 1).executeTakeFirstOrThrow();
  assert.is(epoch.revenue_nanoton, String(sum), 'every nanoTON paid is revenue of the open epoch');
  const rows = await pg.db.selectFrom('revenue').select(['amount_nanoton', 'kind']).execute();
  assert.is(rows.length, values.length);
});

test.run();
