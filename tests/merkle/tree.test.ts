/**
 * buildRewardsTree against @ton/core: the dictionary root hash and the whole root cell (BoC)
 * for many leaf counts, edge amounts and both workchains; leaf read-back; input validation; a
 * LeafStore filled from raw address strings (the epoch saga's path) builds the same tree.
 */
import { Address } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree, EMPTY_TREE_ROOT_HEX, LeafStore, type RewardLeaf, RewardsTreeError } from '../../domain/merkle/index.ts';
import { coreDictionary, coreRootCell, makeLeaves, prng, throwsA } from './reference.ts';

const rand = prng(2024);
const SIZES = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 100, 1000,
  ...[4, 5, 6, 7, 8, 9, 10].flatMap((k) => [2 ** k - 1, 2 ** k, 2 ** k + 1]),
  ...Array.from({ length: 6 }, () => 14 + Math.floor(rand() * 3000)),
];

test('root hash and root cell equal @ton/core for many leaf counts', () => {
  for (const n of SIZES) {
    const leaves = makeLeaves(n, n);
    const tree = buildRewardsTree(leaves);
    const reference = coreRootCell(coreDictionary(leaves));
    assert.is(tree.leafCount, n);
    assert.is(tree.rootHex, reference.hash().toString('hex'), `root of ${n} leaves`);
    assert.ok(tree.root.equals(reference.hash()));
    if (n <= 1100) assert.ok(tree.toCell().toBoc().equals(reference.toBoc()), `root cell of ${n} leaves`);
  }
});

test('edge amounts and workchains: 1, 2^120-1, 2^53 and every byte-count boundary, workchain -1 and 0', () => {
  const hash = (b: number) => Buffer.alloc(32, b);
  const leaves: RewardLeaf[] = [
    { address: new Address(-1, hash(0xff)), amount: 1n },
    { address: new Address(0, hash(0)), amount: (1n << 120n) - 1n },
    { address: new Address(0, hash(1)), amount: (1n << 53n) - 1n },
    { address: new Address(-1, hash(2)), amount: 1n << 53n },
    { address: new Address(0, hash(3)), amount: 255n },
    { address: new Address(-1, hash(4)), amount: 256n },
    // every byte-count boundary of Coins up to 2^64 (the leaf store splits safe integers at 2^32)
    ...[8n, 16n, 24n, 32n, 40n, 48n, 56n, 64n].flatMap((b, k) => [
      { address: new Address(0, hash(16 + 2 * k)), amount: (1n << b) - 1n },
      { address: new Address(-1, hash(17 + 2 * k)), amount: 1n << b },
    ]),
    { address: new Address(0, hash(40)), amount: 0x0102030405060708n },
    { address: new Address(0, hash(41)), amount: 0x1f2e3d4c5b6a79n },
  ];
  for (let n = 1; n <= leaves.length; n++) {
    const part = leaves.slice(0, n);
    assert.is(buildRewardsTree(part).rootHex, coreRootCell(coreDictionary(part)).hash().toString('hex'), `${n} edge leaves`);
  }
  const tree = buildRewardsTree(leaves);
  leaves.forEach((l, i) => {
    const back = tree.leaf(i);
    assert.ok(back.address.equals(l.address), `address ${i}`);
    assert.is(back.address.workChain, l.address.workChain);
    assert.is(back.amount, l.amount);
  });
});

test('identical leaves at different keys still match @ton/core', () => {
  const same = { address: new Address(0, Buffer.alloc(32, 9)), amount: 5n };
  for (const n of [2, 5, 16, 33]) {
    const leaves = Array.from({ length: n }, () => same);
    assert.is(buildRewardsTree(leaves).rootHex, coreRootCell(coreDictionary(leaves)).hash().toString('hex'));
  }
});

test('the tree keeps its own copy of the leaves', () => {
  const leaves = makeLeaves(20, 5);
  const tree = buildRewardsTree(leaves);
  const root = tree.rootHex;
  const before = tree.leaf(3);
  leaves[3]!.address.hash.fill(0);
  leaves[4] = { address: new Address(0, Buffer.alloc(32, 1)), amount: 1n };
  assert.is(tree.rootHex, root);
  assert.is(tree.leaf(3).address.hash.toString('hex'), before.address.hash.toString('hex'));
  tree.leaf(3).address.hash.fill(7); // a returned leaf is a copy too
  assert.is(tree.leaf(3).address.hash.toString('hex'), before.address.hash.toString('hex'));
  tree.root.fill(0); // and so is the root
  assert.is(tree.root.toString('hex'), root);
  assert.is(tree.proof([3, 4]).refs[0]!.hash(0).toString('hex'), root);
});

test('empty tree: root is 32 zero bytes, proofs and the dictionary cell are refused', () => {
  // @ton/core has no root cell for an empty dictionary either
  throwsA(() => coreRootCell(coreDictionary([])), Error, /Cannot store empty dictionary directly/);
  const tree = buildRewardsTree([]);
  assert.is(tree.leafCount, 0);
  assert.is(tree.rootHex, EMPTY_TREE_ROOT_HEX);
  assert.ok(tree.root.equals(Buffer.alloc(32)));
  throwsA(() => tree.proof([]), RewardsTreeError, /no leaves/);
  throwsA(() => tree.proofForRange(0, 0), RewardsTreeError, /no leaves/);
  throwsA(() => tree.toCell(), RewardsTreeError, /no leaves/);
  throwsA(() => tree.leaf(0), RewardsTreeError, /not in 0\.\.-1/);
});

test('invalid leaves are refused with the leaf index and the reason', () => {
  const ok = { address: new Address(0, Buffer.alloc(32, 1)), amount: 10n };
  const cases: Array<[unknown, RegExp]> = [
    [{ ...ok, amount: 0n }, /leaf 1: amount must be in 1\.\.2\^120-1/],
    [{ ...ok, amount: -5n }, /leaf 1: amount must be in/],
    [{ ...ok, amount: 1n << 120n }, /leaf 1: amount must be in/],
    [{ ...ok, amount: 10 }, /leaf 1: amount must be a bigint/],
    [{ ...ok, address: new Address(1, Buffer.alloc(32)) }, /leaf 1: address workchain must be 0 or -1, got 1/],
    [{ ...ok, address: { workChain: 0, hash: Buffer.alloc(31) } }, /leaf 1: address must be an internal address/],
    [{ ...ok, address: null }, /leaf 1: address must be an internal address/],
    [null, /leaf 1: not a \{ address, amount \} object/],
  ];
  for (const [bad, message] of cases) {
    throwsA(() => buildRewardsTree([ok, bad as RewardLeaf, ok]), RewardsTreeError, message);
  }
  throwsA(() => buildRewardsTree('x' as unknown as RewardLeaf[]), RewardsTreeError, /must be an array/);
});

test('a LeafStore filled from raw address strings builds the same tree as the RewardLeaf objects', () => {
  for (const n of [1, 2, 3, 17, 1000, 1025]) {
    const leaves = makeLeaves(n, 7 * n);
    const store = new LeafStore(n);
    // both cases of hex, both workchains (makeLeaves mixes them)
    leaves.forEach((l, i) => store.setRaw(i, i % 2 ? l.address.toRawString().toUpperCase() : l.address.toRawString(), l.amount));
    const tree = buildRewardsTree(store);
    assert.is(tree.rootHex, buildRewardsTree(leaves).rootHex, `${n} leaves`);
    assert.ok(tree.leaf(n - 1).address.equals(leaves[n - 1]!.address));
  }
  const hex = 'ab'.repeat(32);
  const bad: Array<[string, RegExp]> = [
    [`1:${hex}`, /leaf 0: address "1:ab.*" is not 0:<64 hex> or -1:<64 hex>/],
    [`0:${hex.slice(2)}`, /is not 0:<64 hex>/],
    [`0:${hex}00`, /is not 0:<64 hex>/],
    [`0:${hex.slice(0, 62)}zz`, /is not 0:<64 hex>/],
    [`0;${hex}`, /is not 0:<64 hex>/],
    [`-2:${hex}`, /is not 0:<64 hex>/],
    ['', /is not 0:<64 hex>/],
  ];
  for (const [raw, message] of bad) throwsA(() => new LeafStore(1).setRaw(0, raw, 1n), RewardsTreeError, message, raw);
  throwsA(() => new LeafStore(1).setRaw(0, `0:${hex}`, 0n), RewardsTreeError, /leaf 0: amount must be in 1\.\.2\^120-1/);
  const partial = new LeafStore(3);
  partial.setRaw(0, `0:${hex}`, 5n);
  partial.setRaw(2, `-1:${hex}`, 5n);
  throwsA(() => buildRewardsTree(partial), RewardsTreeError, /leaf 1: never set/);
});

test('leaf(i) refuses indexes outside the tree', () => {
  const tree = buildRewardsTree(makeLeaves(3, 1));
  for (const bad of [-1, 3, 1.5, NaN]) throwsA(() => tree.leaf(bad), RewardsTreeError, /is not in 0\.\.2/, String(bad));
});

test.run();
