/**
 * Member revenue through the forwarders (issue 11), through the real chain indexer and nats on the
 * local chain (@ton/sandbox) with the emulated proxy and the stand-in Cocoon root:
 * - a Cocoon payout to a member's forwarder, forwarded to the distribution contract, is
 *   MemberRevenueReceived for that member, with the proxy's verdict and worker_fee_per_token from
 *   its CocoonProxyChecked (asked before mapping) and verifiedTokens = floor(paid / fee);
 * - an impostor paying a forwarder: the member's revenue, but not proxy revenue and no tokens;
 * - a forged MemberPayout (not from the member's forwarder) is refused by the contract: a
 *   ChainTransactionFailed, never revenue;
 * - a payout that arrived before the forwarder existed, flushed by anyone: a backlog;
 * - the amounts booked are exactly what the contract's revenue counter gained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { loadGetterTupleTotals } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { cocoonPayoutBody, DISTRIBUTION_EXIT } from '../../contracts/distribution.ts';
import { flushBacklogBody, memberForwarderAddress, memberForwarderInit, memberPayoutBody } from '../../contracts/forwarder.ts';
import { indexOnce, type ChainIndexerOptions } from '../../producers/chain/indexer.ts';
import { PROXY_CHECKS_SUBJECT } from '../../producers/chain/proxyAuthenticity.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { emulatedCocoon, indexerOptions, type EmulatedCocoon } from '../support/cocoonRoot.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let chain: LocalChain;
let contracts: PoolContracts;
let cocoon: EmulatedCocoon;
let options: ChainIndexerOptions;
const dir = mkdtempSync(join(tmpdir(), 'pool-member-revenue-'));
const FEE = 16n; // the stand-in root's worker_fee_per_token (tests/support/cocoonRoot.ts)

test.before(async () => {
  nats = await startTestNats();
  chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1', 'member-1', 'member-2', 'member-3', 'impostor', 'stranger'] });
  contracts = await deployPoolContracts(chain, 'operator');
  cocoon = await emulatedCocoon(chain, nats.store);
  options = await indexerOptions(nats, chain, [{ name: 'distribution', address: contracts.distribution }], cocoon);
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function counter(): Promise<bigint> {
  return loadGetterTupleTotals((await chain.runGetMethod(contracts.distribution, 'totals')).stack).revenue;
}

async function indexAll(): Promise<void> {
  while ((await indexOnce(options.contracts[0]!, options)) > 0);
}

async function deployForwarder(member: string): Promise<Address> {
  const init = await memberForwarderInit(contracts.distribution, chain.walletAddress(member));
  return (await chain.deploy(member, { code: init.code!, data: init.data! }, 100_000_000n)).address;
}

async function chainEvents(): Promise<RecordedEvent[]> {
  return nats.store.readSubject('pool.chain.distribution');
}

test('forwarded payouts are each member\'s revenue, with the proxy\'s verdict and fee; an impostor\'s are the member\'s but unverified; a forged forward is refused; a backlog is booked', async () => {
  const [m1, m2, m3] = ['member-1', 'member-2', 'member-3'].map((w) => chain.walletAddress(w)) as [Address, Address, Address];
  const f1 = await deployForwarder('member-1');
  const f2 = await deployForwarder('member-2');
  const f3 = await memberForwarderAddress(contracts.distribution, m3); // not deployed yet
  assert.ok(f1.equals(await memberForwarderAddress(contracts.distribution, m1)), 'the address recomputed from (distribution, member) is the deployed one');
  const counterBefore = await counter();

  await cocoon.pay(f1, [{ value: 3_000_000_000n, queryId: 11n }, { value: 1_000_000_007n, queryId: 12n }]);
  await cocoon.pay(f2, [{ value: 2_000_000_000n, queryId: 21n }]);
  await chain.send('impostor', [{ to: f2, value: 5_000_000_000n, body: cocoonPayoutBody({ queryId: 31n }), bounce: false }]);
  // a stranger claims member-1's revenue directly: the contract recomputes the forwarder and refuses
  await chain.send('stranger', [{ to: contracts.distribution, value: 1_000_000_000n, body: memberPayoutBody({ queryId: 41n, member: m1, proxy: cocoon.proxy, paid: 1_000_000_000n }), bounce: true }]);
  // a payout before member-3's forwarder exists stays on its address; deployed, anyone flushes it
  await cocoon.pay(f3, [{ value: 4_000_000_000n, queryId: 51n }]);
  await deployForwarder('member-3');
  await chain.send('stranger', [{ to: f3, value: 200_000_000n, body: flushBacklogBody({ queryId: 52n }), bounce: true }]);
  await indexAll();

  const events = await chainEvents();
  const member = events.flatMap((e) => (e.type === 'MemberRevenueReceived' ? [e.data] : []));
  const name = (raw: string) => ({ [m1.toRawString()]: 'member-1', [m2.toRawString()]: 'member-2', [m3.toRawString()]: 'member-3' })[raw];
  assert.equal(
    member.map((d) => [name(d.member), d.kind, d.queryId, d.proxy === cocoon.proxy.toRawString() ? 'proxy' : d.proxy === null ? null : 'impostor', d.knownProxy, d.workerFeePerTokenNanoton, d.countedByContract]),
    [
      ['member-1', 'payout', '11', 'proxy', true, '16', true],
      ['member-1', 'payout', '12', 'proxy', true, '16', true],
      ['member-2', 'payout', '21', 'proxy', true, '16', true],
      ['member-2', 'payout', '31', 'impostor', false, null, true],
      ['member-3', 'backlog', '52', null, false, null, true],
    ],
  );
  // paid: the value the forwarder saw, the payout less any storage rent its (empty) account owed
  // (the wall clock decides how much: a few nanoTON here); verifiedTokens from exactly that
  const sentByQuery: Record<string, bigint> = { 11: 3_000_000_000n, 12: 1_000_000_007n, 21: 2_000_000_000n, 31: 5_000_000_000n };
  for (const d of member.filter((m) => m.kind === 'payout')) {
    const paid = BigInt(d.paidNanoton!);
    assert.ok(paid <= sentByQuery[d.queryId]! && paid > sentByQuery[d.queryId]! - 1_000_000n, `payout ${d.queryId}: paid ${paid} of ${sentByQuery[d.queryId]}`);
    assert.is(d.verifiedTokens, d.knownProxy ? String(paid / FEE) : null, `payout ${d.queryId}: floor(paid / fee) for the genuine proxy only`);
  }
  assert.equal([member[4]!.paidNanoton, member[4]!.verifiedTokens], [null, null], 'a backlog carries no proxy claim');
  for (const d of member) {
    assert.is(d.forwarder, { 'member-1': f1, 'member-2': f2, 'member-3': f3 }[name(d.member)!]!.toRawString(), 'the forwarder is the in-message sender');
    if (d.kind === 'payout') assert.ok(BigInt(d.amountNanoton) < BigInt(d.paidNanoton!) && BigInt(d.amountNanoton) > BigInt(d.paidNanoton!) - 20_000_000n, 'amount = paid less the forwarder\'s fees');
  }
  assert.ok(BigInt(member[4]!.amountNanoton) >= 4_000_000_000n - 20_000_000n, 'the backlog carries the early payout');
  assert.is(member.reduce((s, d) => s + BigInt(d.amountNanoton), 0n), (await counter()) - counterBefore, 'booked = what the contract\'s revenue counter gained');
  assert.equal(events.filter((e) => e.type === 'PoolRevenueReceived'), [], 'a forward is member revenue only, never also pool revenue of another kind');

  const failed = events.flatMap((e) => (e.type === 'ChainTransactionFailed' ? [e.data] : []));
  assert.equal(failed.map((f) => [f.sender, f.op, f.queryId, f.exitCode]), [[chain.walletAddress('stranger').toRawString(), '0x50c0e00a', '41', DISTRIBUTION_EXIT.notForwarder]], 'the forged forward: refused, no revenue');

  const checks = (await nats.store.readSubject(PROXY_CHECKS_SUBJECT)).flatMap((e) => (e.type === 'CocoonProxyChecked' ? [e.data] : []));
  assert.equal(
    checks.map((c) => [c.sender, c.verdict, c.workerFeePerTokenNanoton]),
    [[cocoon.proxy.toRawString(), 'genuine', '16'], [chain.walletAddress('impostor').toRawString(), 'refused', null]],
    'the tagged proxies were checked once each, before mapping',
  );
});

test.run();
