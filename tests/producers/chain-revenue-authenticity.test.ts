/**
 * Revenue authenticity (issue 10) through the real chain indexer, nats and PostgreSQL, on the local
 * chain with the stand-in Cocoon root (emulator/cocoonRoot.ts):
 * - a Cocoon payout (op 0xc59a7cd3) is proxy revenue only from a sender whose code hash the root
 *   publishes as proxy_sc_hash; the same op from any wallet is revenue of another kind, labelled;
 * - each sender is checked once (one getAccount, at most one root get-method), and the verdict
 *   comes from the stream after a restart;
 * - a cocoon wallet's bounceable "w" reply is the member's float: owed to that member, not revenue;
 * - the read models rebuilt from the stream alone are the same, without a chain call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginCell, type Address } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { cocoonPayoutBody } from '../../contracts/distribution.ts';
import { deployStandInRoot } from '../../emulator/cocoonRoot.ts';
import { deployEmulatedProxy, EMULATED_PROXY_CODE, relayedPayouts } from '../../emulator/proxy.ts';
import { indexOnce, type ChainIndexerOptions } from '../../producers/chain/indexer.ts';
import { CocoonRootError, openProxyAuthenticity, PROXY_CHECKS_SUBJECT } from '../../producers/chain/proxyAuthenticity.ts';
import { epochsProjection } from '../../projectors/epochs.ts';
import { memberFloatsProjection } from '../../projectors/revenueFloats.ts';
import { runProjection } from '../../projectors/runner.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { countingReader } from '../support/chainReader.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, participant, sample } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let chain: LocalChain;
let contracts: PoolContracts;
let root: Address;
/** the emulated proxy contract (its payouts' sender) */
let proxy: Address;
const dir = mkdtempSync(join(tmpdir(), 'pool-authenticity-'));
const silent = pino({ level: 'silent' });

/** The local chain as a reader, counting the calls per (method, address). */
const counting = countingReader(() => chain);
const { calls, total: callsTotal } = counting;

async function indexerOptions(): Promise<ChainIndexerOptions> {
  return {
    chain,
    contracts: [{ name: 'distribution', address: contracts.distribution }],
    proxies: await openProxyAuthenticity({ reader: counting.reader, root, store: nats.store }),
    store: nats.store,
    cursors: await openCursorStore(nats.nc),
    deadLetter: deadLetterTo(nats.js),
    logger: silent,
    signal: new AbortController().signal,
  };
}

async function indexAll(options: ChainIndexerOptions): Promise<void> {
  while ((await indexOnce(options.contracts[0]!, options)) > 0);
}

async function project(db: TestDb['db']): Promise<void> {
  const artifacts = await openArtifactStore(nats.nc);
  for (const p of [epochsProjection(), memberFloatsProjection()]) {
    await runProjection(p, { store: nats.store, db, artifacts, deadLetter: deadLetterTo(nats.js), logger: silent, follow: false });
  }
}

async function stored(): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const b of nats.store.read({ types: ['PoolRevenueReceived', 'CocoonProxyChecked', 'CocoonWalletFloatReturned'] })) out.push(...b.events);
  return out;
}

const payout = (to: Address, value: bigint, queryId: bigint) => ({ to, value, body: cocoonPayoutBody({ queryId }), bounce: false });
/** The body of a cocoon wallet's "w" reply (cocoon_wallet TextCommand 119). */
const withdrawReply = () => beginCell().storeUint(0, 32).storeUint(119, 8).endCell();

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1', 'impostor', 'cocoon-wallet-1', 'stranger'] });
  contracts = await deployPoolContracts(chain, 'operator');
  proxy = await deployEmulatedProxy(chain, 'proxy-1');
  root = await deployStandInRoot(chain, 'operator', { owner: chain.walletAddress('operator'), paramsVersion: 7, pricePerToken: 20n, workerFeePerToken: 16n, proxyCode: EMULATED_PROXY_CODE });
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('a payout counts as proxy revenue only from a genuine Cocoon proxy; an impostor\'s is labelled revenue of another kind; one check per sender', async () => {
  const impostor = chain.walletAddress('impostor');
  await chain.send('proxy-1', relayedPayouts(proxy, contracts.distribution, [{ value: 3_000_000_000n, queryId: 1n }, { value: 2_000_000_000n, queryId: 2n }]));
  await chain.send('impostor', [payout(contracts.distribution, 5_000_000_000n, 3n), payout(contracts.distribution, 1_000_000_000n, 4n)]);
  await chain.send('stranger', [{ to: contracts.distribution, value: 700_000_000n, bounce: false }]);
  await chain.send('proxy-1', relayedPayouts(proxy, contracts.distribution, [{ value: 4_000_000_000n, queryId: 5n }]));
  const options = await indexerOptions();
  await indexAll(options);

  const events = await stored();
  const checks = events.flatMap((e) => (e.type === 'CocoonProxyChecked' ? [e.data] : []));
  const proxyHash = EMULATED_PROXY_CODE.hash().toString('hex');
  assert.equal(
    checks.map((c) => [c.sender, c.verdict, c.codeHash, c.rootProxyHashes, c.workerFeePerTokenNanoton]),
    [
      [proxy.toRawString(), 'genuine', proxyHash, [{ paramsVersion: 7, proxyCodeHash: proxyHash }], '16'],
      [impostor.toRawString(), 'refused', (await chain.getAccount(impostor)).codeHash!.toString('hex'), [{ paramsVersion: 7, proxyCodeHash: proxyHash }], null],
    ],
    'one check per payout sender, none for a plain transfer; the genuine one records the root\'s worker_fee_per_token',
  );
  assert.equal(options.proxies.info(proxy), { verdict: 'genuine', workerFeePerToken: 16n });
  assert.equal(options.proxies.info(impostor), { verdict: 'refused', workerFeePerToken: null });

  const revenue = events.flatMap((e) => (e.type === 'PoolRevenueReceived' ? [e.data] : []));
  assert.equal(
    revenue.map((d) => [d.sender === proxy.toRawString() ? 'proxy' : d.sender === impostor.toRawString() ? 'impostor' : 'stranger', d.kind, d.knownProxy, d.amountNanoton]),
    [
      ['proxy', 'cocoon_payout', true, '3000000000'], ['proxy', 'cocoon_payout', true, '2000000000'],
      ['impostor', 'cocoon_payout', false, '5000000000'], ['impostor', 'cocoon_payout', false, '1000000000'],
      ['stranger', 'transfer', false, '700000000'],
      ['proxy', 'cocoon_payout', true, '4000000000'],
    ],
  );
  assert.equal(
    Object.fromEntries(calls),
    { [`getAccount ${proxy.toRawString()}`]: 1, [`get_cur_params ${root.toRawString()}`]: 2, [`getAccount ${impostor.toRawString()}`]: 1 },
    'each sender read once; the root once when the checker opened and once for the impostor, whose hash it did not know',
  );

  await project(pg.db);
  const rows = await pg.db.selectFrom('revenue').select(['sender', 'kind', 'amount_nanoton']).orderBy('lt').execute();
  const byKind = (kind: string) => rows.filter((r) => r.kind === kind).reduce((s, r) => s + BigInt(r.amount_nanoton), 0n);
  assert.is(byKind('cocoon_payout'), 9_000_000_000n, 'proxy revenue: the genuine proxy\'s payouts only');
  assert.is(byKind('unverified_payout'), 6_000_000_000n, 'the impostor\'s op 0xc59a7cd3 is labelled, not proxy revenue');
  assert.is(byKind('transfer'), 700_000_000n);
  const epoch = await pg.db.selectFrom('epochs').select('revenue_nanoton').where('epoch_id', '=', 1).executeTakeFirstOrThrow();
  assert.is(epoch.revenue_nanoton, '15700000000', 'every kind is revenue of the open epoch');

  // indexed again from the start by a fresh indexer: the verdicts come from the stream, no chain read
  const before = callsTotal();
  const again = await indexerOptions();
  await again.cursors.put('chain.distribution', { lt: '0' });
  await chain.send('impostor', [payout(contracts.distribution, 1n, 6n)]);
  await indexAll(again);
  assert.is(callsTotal(), before, 'no getAccount or get-method for senders already checked');
  assert.is((await nats.store.readSubject(PROXY_CHECKS_SUBJECT)).length, 2, 'no second check recorded');
  assert.equal(again.proxies.info(proxy), { verdict: 'genuine', workerFeePerToken: 16n }, 'the fee comes from the stream too');
});

test('a check recorded before the fee was read gives the fee as unknown; the next sender\'s check reads the root for it', async () => {
  const root2 = await deployStandInRoot(chain, 'operator', { owner: chain.walletAddress('operator'), paramsVersion: 8, pricePerToken: 30n, workerFeePerToken: 25n, proxyCode: EMULATED_PROXY_CODE });
  const proxyHash = EMULATED_PROXY_CODE.hash().toString('hex');
  const proxy2 = await deployEmulatedProxy(chain, 'stranger');
  const old: PoolEvent = {
    type: 'CocoonProxyChecked', version: 1, id: `proxy-check:${root2.toRawString()}:${proxy.toRawString()}`,
    data: { root: root2.toRawString(), sender: proxy.toRawString(), verdict: 'genuine', accountState: 'active', codeHash: proxyHash, rootProxyHashes: [{ paramsVersion: 8, proxyCodeHash: proxyHash }], txHash: '00'.repeat(32), checkedAtChainTime: 1 },
  };
  await nats.store.append(PROXY_CHECKS_SUBJECT, old);
  calls.clear();
  const checker = await openProxyAuthenticity({ reader: counting.reader, root: root2, store: nats.store });
  assert.equal(checker.info(proxy), { verdict: 'genuine', workerFeePerToken: null }, 'no fee recorded: unknown, never guessed');
  assert.equal(Object.fromEntries(calls), {}, 'a recorded check: the root is not read at open');
  const check = await checker.check(proxy2, '11'.repeat(32));
  assert.equal([check.data.verdict, check.data.workerFeePerTokenNanoton], ['genuine', '25']);
  assert.is(calls.get(`get_cur_params ${root2.toRawString()}`), 1, 'the root read once for the fee of the matched version');
});

test('a cocoon wallet\'s "w" reply is the member\'s float: owed to the member, not revenue of the epoch', async () => {
  const wallet = chain.walletAddress('cocoon-wallet-1');
  const pool = contracts.distribution.toRawString();
  const stats = (workerId: string, at: number, walletAddress: string | null, ownerAddress: string | null): PoolEvent => {
    const e = sample(workerId, at, 100);
    return { ...e, id: `${e.id}:wallet`, data: { ...e.data, walletAddress, ownerAddress } } as PoolEvent;
  };
  await nats.store.appendMany([
    bound('w1', 1), stats('w1', 1000, wallet.toRawString(), pool),
    bound('w2', 2), stats('w2', 1000, participant(0x77), pool), // another member, another wallet
    stats('w3', 1000, wallet.toRawString(), participant(0x99)), // owned by someone else: its wallet is not the pool's to empty
  ].map((event) => ({ subject: event.type === 'WorkerBound' ? `pool.membership.${event.data.workerId}` : `pool.telemetry.${(event.data as { workerId: string }).workerId}`, event })));
  await project(pg.db);
  const revenueBefore = (await pg.db.selectFrom('epochs').select('revenue_nanoton').where('epoch_id', '=', 1).executeTakeFirstOrThrow()).revenue_nanoton;

  await chain.send('cocoon-wallet-1', [{ to: contracts.distribution, value: 2_500_000_000n, body: withdrawReply(), bounce: true }]);
  // the same text sent non-bounceable is not a cocoon wallet reply: a transfer
  await chain.send('stranger', [{ to: contracts.distribution, value: 300_000_000n, body: withdrawReply(), bounce: false }]);
  // a reply from a wallet no worker of the pool reports: not revenue either, but owed to nobody yet
  await chain.send('impostor', [{ to: contracts.distribution, value: 400_000_000n, body: withdrawReply(), bounce: true }]);
  const options = await indexerOptions();
  await indexAll(options);
  await project(pg.db);

  const floats = await pg.db.selectFrom('member_floats').selectAll().orderBy('lt').execute();
  assert.equal(
    floats.map((f) => [f.wallet_address, f.amount_nanoton, f.status, f.participant, f.workers]),
    [
      [wallet.toRawString(), '2500000000', 'owed', participant(1), ['w1']],
      [chain.walletAddress('impostor').toRawString(), '400000000', 'unattributed', null, []],
    ],
  );
  const epoch = await pg.db.selectFrom('epochs').select('revenue_nanoton').where('epoch_id', '=', 1).executeTakeFirstOrThrow();
  assert.is(BigInt(epoch.revenue_nanoton) - BigInt(revenueBefore), 300_000_000n, 'the float is not revenue; the non-bounceable "w" from a stranger is');
  const rows = await pg.db.selectFrom('revenue').select(['sender', 'kind']).where('sender', '=', wallet.toRawString()).execute();
  assert.equal(rows, [], 'no revenue row for the float');

  // a second member claiming the same wallet makes the next reply disputed, not owed to either
  await nats.store.append('pool.telemetry.w2', stats('w2', 2000, wallet.toRawString(), pool));
  await chain.send('cocoon-wallet-1', [{ to: contracts.distribution, value: 1_000_000_000n, body: withdrawReply(), bounce: true }]);
  await indexAll(options);
  await project(pg.db);
  const last = await pg.db.selectFrom('member_floats').selectAll().orderBy('lt', 'desc').executeTakeFirstOrThrow();
  assert.equal([last.status, last.participant, last.workers], ['disputed', null, ['w1', 'w2']]);
});

test('a root without get_cur_params is refused loudly when the checker opens', async () => {
  try {
    await openProxyAuthenticity({ reader: counting.reader, root: contracts.distribution, store: nats.store });
    assert.unreachable('opened');
  } catch (err) {
    assert.instance(err, CocoonRootError);
    assert.match((err as Error).message, /get_cur_params failed with exit code/);
  }
});

test('replay: the read models rebuilt from the stream alone are the same, without a chain call', async () => {
  const fresh = await createMigratedDatabase();
  try {
    const before = callsTotal();
    await project(fresh.db);
    assert.is(callsTotal(), before);
    for (const [table, order] of [['revenue', 'tx_hash'], ['member_floats', 'tx_hash'], ['epochs', 'epoch_id'], ['float_workers', 'worker_id']] as const) {
      const a = await pg.db.selectFrom(table).selectAll().orderBy(order).execute();
      const b = await fresh.db.selectFrom(table).selectAll().orderBy(order).execute();
      assert.equal(b, a, table);
    }
  } finally {
    await fresh.drop();
  }
});

test.run();
