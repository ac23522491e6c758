/**
 * RewardDistribution's claimed bitmap (contracts/bitmap.tact) where the pull claim's own walk
 * (claimLeaf), the batch's (treeFill) and the getter's (treeBit) must agree: chunk and tree-depth
 * boundaries of a 100,000-leaf epoch, batches and claims on the same deep nodes, the claim that
 * writes the contract data itself (every field read back), the change boundary between that path
 * and the one that returns to the receiver, a settling claim on a deep node, two open epochs.
 *
 * Geometry (1,023 leaves a node; node n in tree n & 3 at local index m = n >> 2, depth
 * floor(log4(3m + 1))): depth 0 below leaf 4,092, 1 below 20,460, 2 below 85,932, 3 above.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Blockchain, type SandboxContract } from '@ton/sandbox';
import { Address, type Cell, toNano } from '@ton/core';
import {
  claimRewardBody,
  cocoonPayoutBody,
  commitEpochRootBody,
  decodeRewardPayout,
  DISTRIBUTION_EXIT,
  DISTRIBUTION_LIMITS,
  payoutBatchBody,
  type RewardDistribution,
  rewardDistributionFor,
  rootToUint,
} from '../../contracts/distribution.ts';
import { buildRewardsTree, type RewardLeaf, type RewardsTree } from '../../domain/merkle/index.ts';
import { eventsOn, exitCode, outcome, sendBody, sentBy, testAddress, type Wallet } from './sandbox.ts';

const raw = (a: Address) => a.toRawString();

interface Epoch {
  leaves: RewardLeaf[];
  tree: RewardsTree;
  total: bigint;
}

/** `count` leaves to distinct addresses (ids from `firstId`), 0.001 TON + i nanoTON each. */
function epoch(count: number, firstId = 1): Epoch {
  const leaves = Array.from({ length: count }, (_, i) => ({ address: testAddress(firstId + i), amount: 1_000_000n + BigInt(i) }));
  return { leaves, tree: buildRewardsTree(leaves), total: leaves.reduce((s, l) => s + l.amount, 0n) };
}

// built once: pure values
const BIG = epoch(100_000);
const SMALL = epoch(4_500, 200_000); // nodes 0..4: node 4 is local node 1 (depth 1) of tree 0

interface World {
  bc: Blockchain;
  owner: Wallet;
  claimer: Wallet;
  rd: SandboxContract<RewardDistribution>;
}

async function world(): Promise<World> {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000; // a fixed clock: exact fee and change boundaries do not move with the wall clock
  const owner = await bc.treasury('owner');
  const claimer = await bc.treasury('claimer');
  const rd = bc.openContract(await rewardDistributionFor(owner.address, 3n));
  await rd.send(owner.getSender(), { value: toNano('500') }, null);
  return { bc, owner, claimer, rd };
}

async function commit(w: World, e: Epoch, epochId: bigint): Promise<void> {
  const body = commitEpochRootBody({ queryId: 1n, epochId, root: rootToUint(e.tree.root), leafCount: BigInt(e.leaves.length), total: e.total, operatorFee: 0n });
  const r = await sendBody(w.bc, w.owner.address, w.rd.address, toNano('0.1'), body);
  assert.is(exitCode(r, w.rd.address), 0, 'commit');
}

async function claim(w: World, e: Epoch, index: number, epochId = 1n, value?: bigint, proof?: Cell) {
  const body = claimRewardBody({ queryId: 5n, epochId, index: BigInt(index), proof: proof ?? e.tree.proof([index]) });
  return sendBody(w.bc, w.claimer.address, w.rd.address, value ?? (await w.rd.getClaimCost()), body);
}

async function batch(w: World, e: Epoch, from: number, count: number, epochId = 1n) {
  const body = payoutBatchBody({ queryId: 6n, epochId, fromIndex: BigInt(from), count: BigInt(count), proof: e.tree.proofForRange(from, count) });
  return sendBody(w.bc, w.owner.address, w.rd.address, toNano('2'), body);
}

/** Asserts that `index` was paid by `r` exactly as a claim pays: payout, then the event. */
function assertClaimed(w: World, r: Awaited<ReturnType<typeof claim>>, e: Epoch, index: number, epochId = 1n): void {
  assert.ok(outcome(r, w.rd.address).ok, `claim of ${index} succeeds`);
  const [payout] = sentBy(r, w.rd.address);
  const leaf = e.leaves[index]!;
  assert.ok(payout!.to.equals(leaf.address));
  assert.is(payout!.value, leaf.amount);
  assert.is(payout!.bounce, false);
  assert.equal(decodeRewardPayout(payout!.body), { epochId, index: BigInt(index) });
  assert.equal(eventsOn(r, w.rd.address), [
    { $$type: 'RewardClaimed', queryId: 5n, epochId, index: BigInt(index), recipient: raw(leaf.address), amount: leaf.amount },
  ]);
}

// leaves on both sides of every node and depth boundary met in 100,000 leaves
const EDGES = [0, 1022, 1023, 4091, 4092, 5114, 5115, 20459, 20460, 25_000, 85_931, 85_932, 99_999];
const UNTOUCHED = [1, 1021, 1024, 4090, 4093, 5113, 5116, 20458, 20461, 24_999, 25_001, 85_930, 85_933, 99_998];

test('claims at node and depth boundaries of a 100,000-leaf epoch: each bit set once, neighbours untouched', async () => {
  const w = await world();
  await commit(w, BIG, 1n);
  let paid = 0n;
  for (const index of EDGES) {
    assertClaimed(w, await claim(w, BIG, index), BIG, index);
    paid += BIG.leaves[index]!.amount;
  }
  for (const index of EDGES) assert.is(await w.rd.getIsClaimed(1n, BigInt(index)), true, `leaf ${index} claimed`);
  for (const index of UNTOUCHED) assert.is(await w.rd.getIsClaimed(1n, BigInt(index)), false, `leaf ${index} not claimed`);
  for (const index of [0, 4092, 20460, 85_932, 99_999]) {
    assert.is(exitCode(await claim(w, BIG, index), w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed, `second claim of ${index}`);
  }
  const e = (await w.rd.getEpoch(1n))!;
  assert.is(e.paidCount, BigInt(EDGES.length));
  assert.is(e.paidAmount, paid);
  assert.is((await w.rd.getTotals()).paid, paid);
});

test('batches and claims share the deep nodes: each skips what the other paid', async () => {
  const w = await world();
  await commit(w, BIG, 1n);
  // node 19 (depth 1) → node 20 (depth 2)
  let r = await batch(w, BIG, 20_450, 20);
  assert.ok(outcome(r, w.rd.address).ok);
  for (const index of [20_455, 20_460, 20_469]) {
    assert.is(exitCode(await claim(w, BIG, index), w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed, `${index} was pushed`);
  }
  assertClaimed(w, await claim(w, BIG, 20_449), BIG, 20_449);
  assertClaimed(w, await claim(w, BIG, 20_470), BIG, 20_470);
  // node 83 (depth 2) → node 84 (depth 3): claim first, then a batch over it
  assertClaimed(w, await claim(w, BIG, 85_931), BIG, 85_931);
  r = await batch(w, BIG, 85_925, 15);
  assert.ok(outcome(r, w.rd.address).ok);
  const pushed = sentBy(r, w.rd.address).filter((m) => !m.to.equals(w.owner.address)).map((m) => Number(decodeRewardPayout(m.body).index));
  assert.equal(pushed, [85_925, 85_926, 85_927, 85_928, 85_929, 85_930, 85_932, 85_933, 85_934, 85_935, 85_936, 85_937, 85_938, 85_939]);
  assert.is(eventsOn(r, w.rd.address)[0]!.paidCount, 14n);
  for (let i = 20_449; i <= 20_470; i++) assert.is(await w.rd.getIsClaimed(1n, BigInt(i)), true, `${i}`);
  assert.is(await w.rd.getIsClaimed(1n, 20_448n), false);
  assert.is(await w.rd.getIsClaimed(1n, 20_471n), false);
  assert.is(await w.rd.getIsClaimed(1n, 85_940n), false);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 20n + 2n + 1n + 14n);
});

test('a claim that stores the contract data itself leaves every field as the other operations read it', async () => {
  const w = await world();
  await commit(w, BIG, 1n);
  const proxy = await w.bc.treasury('proxy');
  await sendBody(w.bc, proxy.address, w.rd.address, toNano('3'), cocoonPayoutBody({ queryId: 1n }), { bounce: false });
  const before = await w.rd.getTotals();
  const r = await claim(w, BIG, 30_000);
  assertClaimed(w, r, BIG, 30_000);
  assert.is(sentBy(r, w.rd.address).length, 1, 'no change: the claim ended in claimLeaf');
  const amount = BIG.leaves[30_000]!.amount;
  assert.ok((await w.rd.getOwner()).equals(w.owner.address));
  assert.is(await w.rd.getPoolId(), 3n);
  assert.is(await w.rd.getPaused(), false);
  assert.is(await w.rd.getLastEpochId(), 1n);
  const after = await w.rd.getTotals();
  assert.equal({ ...after, paid: 0n, unpaid: 0n, available: 0n }, { ...before, paid: 0n, unpaid: 0n, available: 0n });
  assert.is(after.paid, before.paid + amount);
  assert.is(after.unpaid, before.unpaid - amount);
  // the next operations of every kind still parse the data
  await sendBody(w.bc, proxy.address, w.rd.address, toNano('2'), cocoonPayoutBody({ queryId: 2n }), { bounce: false });
  assert.is((await w.rd.getTotals()).revenue, before.revenue + toNano('2'));
  await commit(w, SMALL, 2n);
  assertClaimed(w, await claim(w, SMALL, 7, 2n), SMALL, 7, 2n);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 1n);
});

test('claim change boundary: claimCost + 0.01 TON is kept, one nanoTON more comes back; both pay the leaf once', async () => {
  const w = await world();
  await commit(w, BIG, 1n);
  const cost = await w.rd.getClaimCost();
  const kept = cost + DISTRIBUTION_LIMITS.claimChangeMin;
  let r = await claim(w, BIG, 50_000, 1n, kept);
  assertClaimed(w, r, BIG, 50_000);
  assert.is(sentBy(r, w.rd.address).length, 1, 'kept');
  r = await claim(w, BIG, 50_001, 1n, kept + 1n);
  assertClaimed(w, r, BIG, 50_001);
  const sent = sentBy(r, w.rd.address);
  assert.is(sent.length, 2, 'payout and change');
  assert.ok(sent[1]!.to.equals(w.claimer.address));
  assert.is(exitCode(await claim(w, BIG, 50_001, 1n, kept + 1n), w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed);
  assert.is(exitCode(await claim(w, BIG, 50_000, 1n, kept + 1n), w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed);
  const e = (await w.rd.getEpoch(1n))!;
  assert.is(e.paidCount, 2n);
  assert.is((await w.rd.getTotals()).paid, BIG.leaves[50_000]!.amount + BIG.leaves[50_001]!.amount);
});

test('the last unpaid leaf, on a depth-1 node, settles its epoch when claimed (with change)', async () => {
  const w = await world();
  await commit(w, SMALL, 1n);
  const last = 4_321; // node 4 = local node 1 of tree 0
  for (let from = 0; from < SMALL.leaves.length; from += 250) {
    const end = Math.min(from + 250, SMALL.leaves.length);
    if (from <= last && last < end) {
      if (last > from) assert.ok(outcome(await batch(w, SMALL, from, last - from), w.rd.address).ok);
      if (end > last + 1) assert.ok(outcome(await batch(w, SMALL, last + 1, end - last - 1), w.rd.address).ok);
    } else {
      assert.ok(outcome(await batch(w, SMALL, from, end - from), w.rd.address).ok);
    }
  }
  assert.is((await w.rd.getEpoch(1n))!.paidCount, BigInt(SMALL.leaves.length - 1));
  assert.is(await w.rd.getIsClaimed(1n, BigInt(last)), false);
  const r = await claim(w, SMALL, last, 1n, toNano('1'));
  assertClaimed(w, r, SMALL, last);
  assert.is(sentBy(r, w.rd.address).length, 2, 'payout and change');
  assert.equal(await w.rd.getEpoch(1n), {
    $$type: 'EpochInfo',
    root: rootToUint(SMALL.tree.root),
    leafCount: BigInt(SMALL.leaves.length),
    total: SMALL.total,
    operatorFee: 0n,
    paidCount: BigInt(SMALL.leaves.length),
    paidAmount: SMALL.total,
    settled: true,
  });
  const totals = await w.rd.getTotals();
  assert.is(totals.openLeaves, 0n);
  assert.is(totals.unpaid, 0n);
  assert.is(await w.rd.getIsClaimed(1n, BigInt(last)), true);
  assert.is(exitCode(await claim(w, SMALL, last), w.rd.address), DISTRIBUTION_EXIT.epochNotOpen);
});

test('claims in two open epochs update each its own record and bitmap', async () => {
  const w = await world();
  await commit(w, BIG, 1n);
  await commit(w, SMALL, 2n);
  assertClaimed(w, await claim(w, BIG, 4_092, 1n), BIG, 4_092, 1n);
  assertClaimed(w, await claim(w, SMALL, 4_092, 2n), SMALL, 4_092, 2n);
  assertClaimed(w, await claim(w, SMALL, 0, 2n), SMALL, 0, 2n);
  assert.is(exitCode(await claim(w, BIG, 4_092, 1n), w.rd.address), DISTRIBUTION_EXIT.alreadyClaimed);
  assertClaimed(w, await claim(w, BIG, 0, 1n), BIG, 0, 1n);
  // a proof of one epoch's tree does not pay a leaf of the other
  assert.is(exitCode(await claim(w, SMALL, 1, 1n), w.rd.address), DISTRIBUTION_EXIT.proofRootMismatch);
  assert.is((await w.rd.getEpoch(1n))!.paidCount, 2n);
  assert.is((await w.rd.getEpoch(2n))!.paidCount, 2n);
  assert.is(await w.rd.getIsClaimed(2n, 1n), false);
  assert.is(await w.rd.getIsClaimed(1n, 1n), false);
});

test.run();
