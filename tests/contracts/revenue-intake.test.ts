/**
 * RewardDistribution revenue intake on @ton/sandbox, down to the nanoTON: small Cocoon payouts
 * (issue 7: a payout below the intake's gas failed with exit −14 and was never accounted), what
 * the TVM does with a value too small to run the intake at all, and the indexer's booking of
 * every revenue message from the transaction itself (producers/chain/contractEvents.ts).
 *
 * TVM facts the tests rely on (basechain config of the sandbox: flat 100 gas for 40,000 nanoTON,
 * then 400 nanoTON a gas unit): an internal message buys `gas_limit = 100 + (value − 40,000) / 400`
 * gas units (no gas credit); below 40,000 nanoTON the compute phase is skipped ("no gas") and the
 * value is credited to the contract; between 40,000 and the intake's cost the VM runs out of gas
 * (exit −14), the gas bought is charged and the rest of the value (< 400 nanoTON) stays.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Blockchain, type SandboxContract, type SendMessageResult } from '@ton/sandbox';
import { type Address, beginCell, type Cell, toNano, type Transaction } from '@ton/core';
import { cocoonPayoutBody, DISTRIBUTION_OPS, type RewardDistribution, rewardDistributionFor } from '../../contracts/distribution.ts';
import { contractTransactionEvents } from '../../producers/chain/contractEvents.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { outcome, sendBody, txOn, type Wallet } from './sandbox.ts';

interface World {
  bc: Blockchain;
  owner: Wallet;
  proxy: Wallet;
  rd: SandboxContract<RewardDistribution>;
}

async function world(): Promise<World> {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000; // a fixed clock: storage fees do not drift between transactions
  const owner = await bc.treasury('owner');
  const proxy = await bc.treasury('proxy');
  const rd = bc.openContract(await rewardDistributionFor(owner.address, 7n));
  await rd.send(owner.getSender(), { value: toNano('10') }, null);
  return { bc, owner, proxy, rd };
}

async function balanceOf(w: World): Promise<bigint> {
  return (await w.bc.getContract(w.rd.address)).balance;
}

/** What one message did to the contract: the transaction, the balance change, the counter change, the indexer's events. */
interface Intake {
  tx: Transaction;
  ok: boolean;
  exitCode: number;
  balanceDelta: bigint;
  counterDelta: bigint;
  events: PoolEvent[];
}

async function deliver(w: World, value: bigint, body: Cell, options: { from?: Address; bounce?: boolean } = {}): Promise<Intake> {
  const balance = await balanceOf(w);
  const counter = (await w.rd.getTotals()).revenue;
  const r: SendMessageResult = await sendBody(w.bc, options.from ?? w.proxy.address, w.rd.address, value, body, { bounce: options.bounce ?? false });
  const tx = txOn(r, w.rd.address);
  const o = outcome(r, w.rd.address);
  return {
    tx,
    ok: o.ok,
    exitCode: o.exitCode,
    balanceDelta: (await balanceOf(w)) - balance,
    counterDelta: (await w.rd.getTotals()).revenue - counter,
    events: contractTransactionEvents(tx, { contract: w.rd.address, genuineProxy: (a) => a.equals(w.proxy.address), revenueIntake: true }),
  };
}

const payout = (queryId = 5n) => cocoonPayoutBody({ queryId });

/** The PoolRevenueReceived events of an intake. */
function revenueOf(i: Intake) {
  return i.events.flatMap((e) => (e.type === 'PoolRevenueReceived' ? [e.data] : []));
}

// ---------------------------------------------------------------- the intake runs

test('Cocoon payouts at and below the old intake cost (1.7 mTON) succeed and are counted exactly', async () => {
  const w = await world();
  const cost = await w.rd.getRevenueIntakeCost();
  assert.ok(cost < 1_100_000n, `intake cost ${cost} nanoTON is below 1.1 mTON`);
  for (const value of [1_700_400n, 1_700_000n, 1_200_000n, cost]) {
    const i = await deliver(w, value, payout(value));
    assert.ok(i.ok, `payout of ${value}: exit ${i.exitCode}`);
    assert.is(i.counterDelta, value, `payout of ${value} counted by the contract`);
    assert.is(i.balanceDelta, value - i.tx.totalFees.coins, 'the contract keeps the value less the fees of its transaction');
    assert.equal(revenueOf(i).map((d) => [d.kind, d.amountNanoton, d.queryId, d.knownProxy, d.countedByContract]), [['cocoon_payout', String(value), String(value), true, true]]);
    assert.equal(i.events.map((e) => e.type), ['PoolRevenueReceived']);
    assert.is(i.tx.outMessagesCount, 0, 'the intake sends nothing (no event: the in-message is the record)');
  }
});

test('the intake cost is exact: cost − 1 nanoTON buys one gas unit less and fails with −14', async () => {
  const w = await world();
  const cost = await w.rd.getRevenueIntakeCost();
  const i = await deliver(w, cost - 1n, payout());
  assert.is(i.ok, false);
  assert.is(i.exitCode, -14);
  assert.is(i.counterDelta, 0n);
});

test('plain transfers (empty body, text comment, short body) are revenue too, counted by the contract', async () => {
  const w = await world();
  const bodies: [string, Cell][] = [
    ['empty', beginCell().endCell()],
    ['comment', beginCell().storeUint(0, 32).storeStringTail('tip').endCell()],
    ['op 0 alone', beginCell().storeUint(0, 32).endCell()],
    ['8 bits', beginCell().storeUint(7, 8).endCell()],
  ];
  for (const [what, body] of bodies) {
    const i = await deliver(w, toNano('0.01'), body, { bounce: true });
    assert.ok(i.ok, `${what}: exit ${i.exitCode}`);
    assert.is(i.counterDelta, toNano('0.01'), what);
    assert.equal(revenueOf(i).map((d) => [d.kind, d.amountNanoton, d.queryId, d.countedByContract]), [['transfer', '10000000', null, true]], what);
  }
  // a payout op without its query_id still counts (the contract reads only the op)
  const short = await deliver(w, toNano('0.01'), beginCell().storeUint(DISTRIBUTION_OPS.cocoonPayout, 32).endCell());
  assert.ok(short.ok);
  assert.is(short.counterDelta, toNano('0.01'));
  assert.equal(revenueOf(short).map((d) => [d.kind, d.queryId]), [['cocoon_payout', null]]);
});

// ---------------------------------------------------------------- the intake cannot run

test('below the intake cost the TVM cannot run the intake: the value is booked from the transaction', async () => {
  const w = await world();
  const cost = await w.rd.getRevenueIntakeCost();
  // −14 between 40,000 nanoTON (100 gas) and the cost; compute skipped ("no gas") below 40,000
  const cases = [[cost - 1n, -14], [1_000_000n, -14], [500_000n, -14], [40_400n, -14], [40_000n, -14], [39_999n, -1], [1n, -1]] as const;
  for (const [value, exitCode] of cases) {
    const i = await deliver(w, value, payout(9n));
    assert.is(i.ok, false, `payout of ${value}`);
    assert.is(i.exitCode, exitCode, `payout of ${value}`);
    assert.is(i.counterDelta, 0n, 'the contract did not count it');
    assert.is(i.balanceDelta, value - i.tx.totalFees.coins, 'what the gas did not take stayed on the contract');
    assert.ok(i.balanceDelta >= 0n && i.balanceDelta < 400n || value < 40_000n, `kept ${i.balanceDelta} of ${value}`);
    assert.equal(i.events.map((e) => e.type), ['ChainTransactionFailed', 'PoolRevenueReceived']);
    assert.equal(revenueOf(i).map((d) => [d.kind, d.amountNanoton, d.queryId, d.knownProxy, d.countedByContract]), [['cocoon_payout', String(value), '9', true, false]]);
    const hash = i.tx.hash().toString('hex');
    assert.equal(i.events.map((e) => e.id), [hash, `${hash}:1`], 'deterministic ids, the failure keeps the transaction hash');
  }
});

test('a bounceable transfer too small to run: kept (the bounce cannot be paid) and booked; one that bounces back is not revenue', async () => {
  const w = await world();
  const small = await deliver(w, 300_000n, beginCell().endCell(), { from: w.owner.address, bounce: true });
  assert.is(small.exitCode, -14);
  assert.is(small.tx.outMessagesCount, 0, 'no bounce: nothing left to pay its forward fee');
  assert.equal(revenueOf(small).map((d) => [d.kind, d.amountNanoton, d.countedByContract]), [['transfer', '300000', false]]);

  // an unknown op, bounceable: refused (130) and sent back, so not revenue
  const back = await deliver(w, toNano('1'), beginCell().storeUint(0x12345678, 32).storeUint(0, 64).endCell(), { from: w.owner.address, bounce: true });
  assert.is(back.exitCode, 130);
  assert.is(back.tx.outMessagesCount, 1, 'bounced');
  assert.equal(back.events.map((e) => e.type), ['ChainTransactionFailed']);
  // a payout delivered as a bounced message is ignored by the contract and is not revenue
  const bounced = await sendBody(w.bc, w.proxy.address, w.rd.address, toNano('1'), beginCell().storeUint(0xffffffff, 32).storeUint(DISTRIBUTION_OPS.cocoonPayout, 32).endCell(), { bounce: false, bounced: true });
  assert.equal(contractTransactionEvents(txOn(bounced, w.rd.address), { contract: w.rd.address, genuineProxy: () => false, revenueIntake: true }), []);
});

test('the registry and the operator book no revenue: only the distribution contract takes revenue', async () => {
  const w = await world();
  const i = await deliver(w, 1n, payout());
  const events = contractTransactionEvents(i.tx, { contract: w.rd.address, genuineProxy: () => false, revenueIntake: false });
  assert.equal(events.map((e) => e.type), ['ChainTransactionFailed']);
});

// ---------------------------------------------------------------- reconciliation

test('reconciliation to the nanoTON: booked revenue = Σ values, counter = Σ counted, balance = before + Σ values − Σ fees', async () => {
  const w = await world();
  const cost = await w.rd.getRevenueIntakeCost();
  const balance = await balanceOf(w);
  const counter = (await w.rd.getTotals()).revenue;
  const values = [toNano('3'), 1n, cost, cost - 1n, 39_999n, 40_000n, 1_000_000n, 123_456_789n, 500_000n, toNano('0.2')];
  let booked = 0n;
  let counted = 0n;
  let fees = 0n;
  for (const [k, value] of values.entries()) {
    const i = await deliver(w, value, payout(BigInt(k)));
    for (const d of revenueOf(i)) {
      booked += BigInt(d.amountNanoton);
      if (d.countedByContract) counted += BigInt(d.amountNanoton);
    }
    fees += i.tx.totalFees.coins;
  }
  const sent = values.reduce((s, v) => s + v, 0n);
  assert.is(booked, sent, 'every nanoTON paid to the contract is booked once');
  assert.is((await w.rd.getTotals()).revenue - counter, counted, 'the contract counted exactly the intakes that ran');
  assert.is(counted, values.filter((v) => v >= cost).reduce((s, v) => s + v, 0n), 'the intakes that ran are those of at least the intake cost');
  assert.is((await balanceOf(w)) - balance, sent - fees, 'the balance moved by the booked values less the fees of those transactions');
});

test.run();
