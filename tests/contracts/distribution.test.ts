/**
 * RewardDistribution on @ton/sandbox: revenue intake, epoch commits, proof-verified push batches,
 * pull claims, the shared claimed bitmap, operator fee, pause, and every refusal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Blockchain, type SandboxContract } from '@ton/sandbox';
import { Address, beginCell, type Cell, toNano } from '@ton/core';
import {
  claimRewardBody,
  cocoonPayoutBody,
  commitEpochRootBody,
  decodeRewardPayout,
  DISTRIBUTION_EXIT,
  pauseBody,
  payoutBatchBody,
  resumeBody,
  revenueIntake,
  type RewardDistribution,
  rewardDistributionFor,
  topUpBody,
  withdrawOperatorFeeBody,
} from '../../contracts/distribution.ts';
import { buildTestTree, eventsOn, exitCode, makeLeaves, outcome, plain, sendBody, sentBy, testAddress, txOn, type TestTree, type Wallet } from './sandbox.ts';

const raw = (a: Address) => a.toRawString();

const FUNDING = toNano('1000');

interface World {
  bc: Blockchain;
  owner: Wallet;
  stranger: Wallet;
  rd: SandboxContract<RewardDistribution>;
}

async function world(funding = FUNDING): Promise<World> {
  const bc = await Blockchain.create();
  // a fixed clock: no storage fee accrues between a getter and the next transaction, so exact
  // boundaries (e.g. `available`) hold whatever the wall clock does
  bc.now = 1_800_000_000;
  const owner = await bc.treasury('owner');
  const stranger = await bc.treasury('stranger');
  const rd = bc.openContract(await rewardDistributionFor(owner.address, 7n));
  await rd.send(owner.getSender(), { value: funding }, null); // deploy; an empty body is revenue
  return { bc, owner, stranger, rd };
}

// trees are pure values: build once (leaves cross bitmap node 0/1 at index 1023)
const TREE = buildTestTree(makeLeaves(1500));
const OTHER_TREE = buildTestTree(makeLeaves(1500, 100_000));

async function commit(w: World, tree: TestTree, epochId = 1n, operatorFee = 0n, total = tree.total) {
  const body = commitEpochRootBody({ queryId: 11n, epochId, root: tree.root, leafCount: BigInt(tree.leaves.length), total, operatorFee });
  return sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), body);
}

function batchBody(tree: TestTree, from: number, count: number, epochId = 1n, proof?: Cell): Cell {
  const indexes = Array.from({ length: count }, (_, i) => from + i);
  return payoutBatchBody({ queryId: 21n, epochId, fromIndex: BigInt(from), count: BigInt(count), proof: proof ?? tree.proof(indexes) });
}

async function batch(w: World, tree: TestTree, from: number, count: number, epochId = 1n, proof?: Cell, value = toNano('2')) {
  return sendBody(w.bc, w.owner.address, w.rd.address, value, batchBody(tree, from, count, epochId, proof));
}

async function claim(w: World, tree: TestTree, index: number, from = w.stranger.address, value = toNano('0.05'), epochId = 1n, proof?: Cell) {
  const body = claimRewardBody({ queryId: 31n, epochId, index: BigInt(index), proof: proof ?? tree.proof([index]) });
  return sendBody(w.bc, from, w.rd.address, value, body);
}

// ---------------------------------------------------------------- revenue

test('Cocoon payouts and plain transfers count as revenue, with no event (the in-message is the record)', async () => {
  const w = await world();
  const before = (await w.rd.getTotals()).revenue;
  const proxy = await w.bc.treasury('proxy');
  let r = await sendBody(w.bc, proxy.address, w.rd.address, toNano('3'), cocoonPayoutBody({ queryId: 77n }), { bounce: false });
  assert.is(exitCode(r, w.rd.address), 0);
  assert.equal(eventsOn(r, w.rd.address), []);
  assert.equal(plain(revenueIntake(txOn(r, w.rd.address))!), { kind: 'cocoon_payout', sender: raw(proxy.address), amount: toNano('3'), queryId: 77n, countedByContract: true });

  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('2'), beginCell().endCell());
  assert.equal(plain(revenueIntake(txOn(r, w.rd.address))!), { kind: 'transfer', sender: raw(w.stranger.address), amount: toNano('2'), queryId: null, countedByContract: true });
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('1'), beginCell().storeUint(0, 32).storeStringTail('tip').endCell());
  assert.is(exitCode(r, w.rd.address), 0);
  assert.is(revenueIntake(txOn(r, w.rd.address))!.kind, 'transfer');

  assert.is((await w.rd.getTotals()).revenue, before + toNano('6'));
});

test('TopUp is owner-only and not revenue; unknown ops and bounced messages are not revenue', async () => {
  const w = await world();
  const before = await w.rd.getTotals();
  let r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('5'), topUpBody({ queryId: 1n }));
  assert.equal(eventsOn(r, w.rd.address)[0], { $$type: 'ToppedUp', queryId: 1n, amount: toNano('5') });
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('5'), topUpBody({ queryId: 2n }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notOwner);
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('5'), beginCell().storeUint(0x12345678, 32).storeUint(0, 64).endCell());
  assert.is(exitCode(r, w.rd.address), 130);
  // a bounced message (here as the validator would deliver one) is accepted silently
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('4'), beginCell().storeUint(0xffffffff, 32).storeUint(0x50c0e0f1, 32).endCell(), { bounce: false, bounced: true });
  assert.is(exitCode(r, w.rd.address), 0);
  assert.equal(eventsOn(r, w.rd.address), []);
  const after = await w.rd.getTotals();
  assert.is(after.revenue, before.revenue);
  assert.is(after.toppedUp, before.toppedUp + toNano('5'));
});

// ---------------------------------------------------------------- commits

test('commit: owner only, sequential ids from 1, records root, total and operator fee, returns the change', async () => {
  const w = await world();
  let r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('0.1'), commitEpochRootBody({ queryId: 1n, epochId: 1n, root: TREE.root, leafCount: 1500n, total: TREE.total, operatorFee: 0n }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notOwner);
  r = await commit(w, TREE, 2n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochSequence);

  r = await commit(w, TREE, 1n, toNano('1'));
  assert.is(exitCode(r, w.rd.address), 0);
  assert.equal(eventsOn(r, w.rd.address), [
    { $$type: 'EpochRootCommitted', queryId: 11n, epochId: 1n, root: TREE.root, leafCount: 1500n, total: TREE.total, operatorFee: toNano('1') },
  ]);
  const change = sentBy(r, w.rd.address);
  assert.is(change.length, 1);
  assert.ok(change[0]!.to.equals(w.owner.address));
  assert.ok(change[0]!.value > toNano('0.09'), 'most of the attached value comes back');
  assert.equal(await w.rd.getEpoch(1n), { $$type: 'EpochInfo', root: TREE.root, leafCount: 1500n, total: TREE.total, operatorFee: toNano('1'), paidCount: 0n, paidAmount: 0n, settled: false });
  assert.is(await w.rd.getLastEpochId(), 1n);
  const totals = await w.rd.getTotals();
  assert.is(totals.committed, TREE.total);
  assert.is(totals.unpaid, TREE.total);
  assert.is(totals.operatorFeeWithdrawable, toNano('1'));

  r = await commit(w, TREE, 1n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochSequence, 'an epoch id is used once');
  assert.is(await w.rd.getEpoch(9n), null);
});

test('commit refuses a total (plus fee) above balance - reserve - unpaid - withdrawable fee', async () => {
  const w = await world(toNano('10'));
  const { available } = await w.rd.getTotals();
  let r = await commit(w, TREE, 1n, 0n, available + 1n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.insufficientFunds);
  r = await commit(w, TREE, 1n, toNano('1'), available - toNano('1') + 1n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.insufficientFunds, 'the operator fee is reserved too');
  r = await commit(w, TREE, 1n, toNano('1'), available - toNano('1'));
  assert.is(exitCode(r, w.rd.address), 0);
  r = await commit(w, TREE, 2n, 0n, toNano('0.001'));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.insufficientFunds, 'epoch 1 holds everything');
});

test('an epoch with no leaves and total 0 is valid and settled at once; no leaves with a total is refused', async () => {
  const w = await world();
  const body = (epochId: bigint, total: bigint) => commitEpochRootBody({ queryId: 1n, epochId, root: 0n, leafCount: 0n, total, operatorFee: 0n });
  let r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), body(1n, 5n));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochShape);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), body(1n, 0n));
  assert.is(exitCode(r, w.rd.address), 0);
  assert.equal(await w.rd.getEpoch(1n), { $$type: 'EpochInfo', root: 0n, leafCount: 0n, total: 0n, operatorFee: 0n, paidCount: 0n, paidAmount: 0n, settled: true });
  assert.is(exitCode(await commit(w, TREE, 2n), w.rd.address), 0);
});

// ---------------------------------------------------------------- push batches

test('batch pays each leaf non-bounceable with its amount and (epoch, index), to uninitialised wallets too', async () => {
  const w = await world();
  await commit(w, TREE);
  const from = 900; // crosses bitmap node 0 → 1 at leaf 1023
  const r = await batch(w, TREE, from, 200);
  assert.ok(outcome(r, w.rd.address).ok, 'batch succeeds');
  const sent = sentBy(r, w.rd.address);
  assert.is(sent.length, 201, '200 payouts and the change');
  for (let i = 0; i < 200; i++) {
    const m = sent[i]!;
    const leaf = TREE.leaves[from + i]!;
    assert.ok(m.to.equals(leaf.address));
    assert.is(m.value, leaf.amount);
    assert.is(m.bounce, false);
    assert.equal(decodeRewardPayout(m.body), { epochId: 1n, index: BigInt(from + i) });
  }
  assert.ok(sent[200]!.to.equals(w.owner.address));
  assert.equal(eventsOn(r, w.rd.address), [
    { $$type: 'RewardBatchPaid', queryId: 21n, epochId: 1n, fromIndex: BigInt(from), count: 200n, paidCount: 200n, paidAmount: TREE.leaves.slice(from, from + 200).reduce((s, l) => s + l.amount, 0n) },
  ]);
  // recipients had no account: the value arrived anyway and the account stays uninitialised
  const account = await w.bc.getContract(TREE.leaves[from]!.address);
  assert.is(account.accountState?.type, 'uninit');
  assert.is(account.balance, TREE.leaves[from]!.amount);

  assert.is(await w.rd.getIsClaimed(1n, BigInt(from)), true);
  assert.is(await w.rd.getIsClaimed(1n, 1022n), true);
  assert.is(await w.rd.getIsClaimed(1n, 1023n), true);
  assert.is(await w.rd.getIsClaimed(1n, BigInt(from + 200)), false);
  assert.is(await w.rd.getIsClaimed(1n, BigInt(from - 1)), false);
  const epoch = (await w.rd.getEpoch(1n))!;
  assert.is(epoch.paidCount, 200n);
  assert.is((await w.rd.getTotals()).paid, epoch.paidAmount);
});

test('a replayed batch is refused with nothing sent; an overlapping batch pays only the new leaves', async () => {
  const w = await world();
  await commit(w, TREE);
  await batch(w, TREE, 0, 100);
  let r = await batch(w, TREE, 0, 100);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.nothingToPay);
  const back = sentBy(r, w.rd.address);
  assert.is(back.length, 1, 'no payout, only the bounce');
  assert.ok(back[0]!.to.equals(w.owner.address));
  r = await batch(w, TREE, 50, 100);
  assert.ok(outcome(r, w.rd.address).ok);
  const paid = sentBy(r, w.rd.address).filter((m) => !m.to.equals(w.owner.address));
  assert.equal(paid.map((m) => Number(decodeRewardPayout(m.body).index)), Array.from({ length: 50 }, (_, i) => 100 + i));
  assert.is(eventsOn(r, w.rd.address)[0]!.paidCount, 50n);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 150n);
});

test('batch refusals: stranger, sizes, range, value for gas, paused, unknown epoch', async () => {
  const w = await world();
  await commit(w, TREE);
  let r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('2'), batchBody(TREE, 0, 10));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notOwner);
  r = await batch(w, TREE, 0, 0, 1n, TREE.proof([0]));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.batchSize);
  r = await batch(w, TREE, 0, 251);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.batchSize, 'more than 250 payouts would pass the 255-action limit');
  r = await batch(w, TREE, 1450, 60, 1n, TREE.proof(Array.from({ length: 50 }, (_, i) => 1450 + i)));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.indexRange);
  r = await batch(w, TREE, 0, 200, 1n, undefined, toNano('0.05'));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.valueTooLow, 'the gas of 200 payouts is not covered');
  r = await batch(w, TREE, 0, 10, 2n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochNotOpen);
  await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), pauseBody({ queryId: 1n }));
  r = await batch(w, TREE, 0, 10);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.paused);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 0n);
});

test('forged, foreign, other-epoch and pruned proofs are refused', async () => {
  const w = await world();
  await commit(w, TREE, 1n);
  await commit(w, OTHER_TREE, 2n);
  // an ordinary cell laid out like a Merkle proof is not exotic
  const fake = beginCell().storeUint(3, 8).storeUint(TREE.root, 256).storeUint(0, 16).storeRef(beginCell().endCell()).endCell();
  let r = await batch(w, TREE, 0, 10, 1n, fake);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notMerkleProof);
  // a genuine proof of a tree whose amount was changed
  const tampered = buildTestTree(TREE.leaves.map((l, i) => (i === 3 ? { ...l, amount: l.amount * 1000n } : l)));
  r = await batch(w, TREE, 0, 10, 1n, tampered.proof(Array.from({ length: 10 }, (_, i) => i)));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.proofRootMismatch);
  // epoch 2's proof against epoch 1 and the reverse
  r = await batch(w, TREE, 0, 10, 1n, OTHER_TREE.proof(Array.from({ length: 10 }, (_, i) => i)));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.proofRootMismatch);
  r = await claim(w, TREE, 5, w.stranger.address, toNano('0.05'), 2n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.proofRootMismatch);
  // a proof of other leaves: the path to leaf 500 is pruned, the TVM refuses to load it
  r = await claim(w, TREE, 500, w.stranger.address, toNano('0.05'), 1n, TREE.proof([7]));
  assert.not.equal(exitCode(r, w.rd.address), 0);
  r = await batch(w, TREE, 0, 10, 1n, TREE.proof([0, 1, 2]));
  assert.not.equal(exitCode(r, w.rd.address), 0);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 0n);
  assert.is((await w.rd.getEpoch(2n))!.paidCount, 0n);
});

test('leaves summing above the committed total are never paid beyond it', async () => {
  const w = await world();
  const tree = buildTestTree(makeLeaves(20));
  await commit(w, tree, 1n, 0n, tree.total - 1n);
  let r = await batch(w, tree, 0, 20);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochOverpaid);
  r = await batch(w, tree, 0, 19);
  assert.ok(outcome(r, w.rd.address).ok);
  r = await claim(w, tree, 19);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochOverpaid);
});

// ---------------------------------------------------------------- pull claims

test('claim pays the leaf address (not the sender) once; push then pull and pull then push never pay twice', async () => {
  const w = await world();
  await commit(w, TREE);
  const cost = await w.rd.getClaimCost();
  let r = await claim(w, TREE, 1100, w.stranger.address, cost);
  assert.ok(outcome(r, w.rd.address).ok);
  const sent = sentBy(r, w.rd.address);
  assert.is(sent.length, 1, 'exact value: no change message');
  assert.ok(sent[0]!.to.equals(TREE.leaves[1100]!.address));
  assert.is(sent[0]!.value, TREE.leaves[1100]!.amount);
  assert.is(sent[0]!.bounce, false);
  assert.equal(decodeRewardPayout(sent[0]!.body), { epochId: 1n, index: 1100n });
  assert.equal(eventsOn(r, w.rd.address), [
    { $$type: 'RewardClaimed', queryId: 31n, epochId: 1n, index: 1100n, recipient: raw(TREE.leaves[1100]!.address), amount: TREE.leaves[1100]!.amount },
  ]);

  r = await claim(w, TREE, 1100);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed, 'pull then pull');
  // pull then push: the batch skips the claimed leaf
  r = await batch(w, TREE, 1090, 20);
  const indexes = sentBy(r, w.rd.address).filter((m) => !m.to.equals(w.owner.address)).map((m) => Number(decodeRewardPayout(m.body).index));
  assert.is(indexes.length, 19);
  assert.not.ok(indexes.includes(1100));
  // push then pull
  r = await claim(w, TREE, 1095);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 20n);
});

test('claim change: kept up to 0.01 TON above the cost, returned above that; too little value refused', async () => {
  const w = await world();
  await commit(w, TREE);
  const cost = await w.rd.getClaimCost();
  let r = await claim(w, TREE, 3, w.stranger.address, cost - 1n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.valueTooLow);
  r = await claim(w, TREE, 3, w.stranger.address, cost + toNano('0.5'));
  const sent = sentBy(r, w.rd.address);
  assert.is(sent.length, 2);
  assert.ok(sent[1]!.to.equals(w.stranger.address));
  assert.ok(sent[1]!.value > toNano('0.49'));
  // the unpaid rewards stay covered: nothing but the leaf left the pool's funds
  const totals = await w.rd.getTotals();
  assert.is(totals.paid, TREE.leaves[3]!.amount);
  assert.ok(totals.available >= FUNDING - TREE.total - toNano('0.1') - toNano('0.05'));
});

test('claim refusals: index beyond the leaves, unknown epoch, paused', async () => {
  const w = await world();
  await commit(w, TREE);
  let r = await claim(w, TREE, 1500, w.stranger.address, toNano('0.05'), 1n, TREE.proof([1499]));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.indexRange);
  r = await claim(w, TREE, 1, w.stranger.address, toNano('0.05'), 3n);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.epochNotOpen);
  await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), pauseBody({ queryId: 1n }));
  r = await claim(w, TREE, 1);
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.paused);
  await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), resumeBody({ queryId: 2n }));
  r = await claim(w, TREE, 1);
  assert.is(exitCode(r, w.rd.address), 0);
});

test('an epoch settles when its last leaf is paid, releasing what its leaves did not use', async () => {
  const w = await world();
  const tree = buildTestTree(makeLeaves(30));
  await commit(w, tree, 1n, 0n, tree.total + 500n);
  await batch(w, tree, 0, 29);
  assert.is((await w.rd.getTotals()).openLeaves, 30n);
  const r = await claim(w, tree, 29);
  assert.ok(outcome(r, w.rd.address).ok);
  assert.equal(await w.rd.getEpoch(1n), { $$type: 'EpochInfo', root: tree.root, leafCount: 30n, total: tree.total + 500n, operatorFee: 0n, paidCount: 30n, paidAmount: tree.total, settled: true });
  const totals = await w.rd.getTotals();
  assert.is(totals.released, 500n);
  assert.is(totals.unpaid, 0n);
  assert.is(totals.openLeaves, 0n);
  assert.is(await w.rd.getIsClaimed(1n, 0n), true);
  assert.is(await w.rd.getIsClaimed(1n, 30n), false);
  assert.is(exitCode(await claim(w, tree, 3), w.rd.address), DISTRIBUTION_EXIT.epochNotOpen);
  assert.is(exitCode(await batch(w, tree, 0, 5), w.rd.address), DISTRIBUTION_EXIT.epochNotOpen);
});

test('payments to a recipient address that is a contract arrive without bounce', async () => {
  const w = await world();
  const wallet = await w.bc.treasury('participant');
  const tree = buildTestTree([{ address: wallet.address, amount: toNano('3') }, ...makeLeaves(3)]);
  await commit(w, tree);
  const before = await wallet.getBalance();
  const r = await claim(w, tree, 0);
  assert.ok(outcome(r, w.rd.address).ok);
  assert.ok(outcome(r, wallet.address).ok, 'the wallet accepted it');
  assert.is(sentBy(r, wallet.address).length, 0, 'nothing bounced');
  assert.ok((await wallet.getBalance()) > before + toNano('3') - toNano('0.001'), 'minus the wallet\'s own gas');
});

// ---------------------------------------------------------------- operator fee, pause

test('operator fee: owner withdraws up to what was recorded; refusals', async () => {
  const w = await world();
  await commit(w, TREE, 1n, toNano('2'));
  const to = testAddress(999_999);
  let r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('0.1'), withdrawOperatorFeeBody({ queryId: 4n, amount: toNano('1'), to }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notOwner);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), withdrawOperatorFeeBody({ queryId: 4n, amount: toNano('2') + 1n, to }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.feeExceedsWithdrawable);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), withdrawOperatorFeeBody({ queryId: 4n, amount: toNano('1.5'), to }));
  assert.ok(outcome(r, w.rd.address).ok);
  assert.equal(eventsOn(r, w.rd.address), [{ $$type: 'OperatorFeeWithdrawn', queryId: 4n, amount: toNano('1.5'), to: raw(to) }]);
  const paid = sentBy(r, w.rd.address)[0]!;
  assert.ok(paid.to.equals(to));
  assert.is(paid.value, toNano('1.5'));
  assert.is((await w.rd.getTotals()).operatorFeeWithdrawable, toNano('0.5'));
  await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), pauseBody({ queryId: 5n }));
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), withdrawOperatorFeeBody({ queryId: 6n, amount: 1n, to }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.paused);
});

test('pause/resume: owner only, not twice; commits refused while paused, revenue still counted', async () => {
  const w = await world();
  let r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('0.1'), pauseBody({ queryId: 1n }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notOwner);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), resumeBody({ queryId: 1n }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notPaused);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), pauseBody({ queryId: 2n }));
  assert.equal(eventsOn(r, w.rd.address), [{ $$type: 'Paused', queryId: 2n }]);
  assert.is(await w.rd.getPaused(), true);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), pauseBody({ queryId: 3n }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.alreadyPaused);
  assert.is(exitCode(await commit(w, TREE), w.rd.address), DISTRIBUTION_EXIT.paused);
  const revenue = (await w.rd.getTotals()).revenue;
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('1'), cocoonPayoutBody({ queryId: 9n }), { bounce: false });
  assert.is(exitCode(r, w.rd.address), 0);
  assert.is((await w.rd.getTotals()).revenue, revenue + toNano('1'));
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('0.1'), resumeBody({ queryId: 4n }));
  assert.is(exitCode(r, w.rd.address), DISTRIBUTION_EXIT.notOwner);
  r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), resumeBody({ queryId: 4n }));
  assert.equal(eventsOn(r, w.rd.address), [{ $$type: 'Resumed', queryId: 4n }]);
  assert.is(exitCode(await commit(w, TREE), w.rd.address), 0);
});

test('getters: owner, pool id, claim cost', async () => {
  const w = await world();
  assert.ok((await w.rd.getOwner()).equals(w.owner.address));
  assert.is(await w.rd.getPoolId(), 7n);
  assert.ok((await w.rd.getClaimCost()) > 0n);
  assert.ok(Address.isAddress(w.rd.address));
});

test.run();
