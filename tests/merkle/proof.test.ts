/**
 * RewardsTree.proof / proofForRange against @ton/core's Dictionary.generateMerkleProof: the
 * proof BoC bytes must be equal for single leaves, ranges, arbitrary index sets (with
 * duplicates) and the empty set, over many leaf counts.
 */
import { CellType } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree, RewardsTreeError } from '../../domain/merkle/index.ts';
import { coreDictionary, makeLeaves, prng, throwsA } from './reference.ts';

const rand = prng(77);
const randInt = (max: number) => Math.floor(rand() * max);
const SMALL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
const LARGE = [
  15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025,
  ...Array.from({ length: 3 }, () => 14 + randInt(1500)),
];

function setup(n: number) {
  const leaves = makeLeaves(n, 1000 + n);
  return { tree: buildRewardsTree(leaves), dict: coreDictionary(leaves) };
}

function sameProof(n: number, keys: number[], setupOf: ReturnType<typeof setup>): void {
  const expected = setupOf.dict.generateMerkleProof(keys).toBoc();
  const actual = setupOf.tree.proof(keys);
  assert.is(actual.type, CellType.MerkleProof);
  assert.is(actual.toBoc().toString('hex'), expected.toString('hex'), `n=${n} keys=${keys.length > 12 ? `${keys.length} keys from ${keys[0]}` : keys.join(',')}`);
}

test('every subset of the leaves of trees up to 6 leaves, every single leaf up to 13', () => {
  for (const n of SMALL) {
    const s = setup(n);
    if (n <= 6) {
      for (let mask = 0; mask < 2 ** n; mask++) sameProof(n, [...Array(n).keys()].filter((i) => mask & (2 ** i)), s);
    } else {
      for (let i = 0; i < n; i++) sameProof(n, [i], s);
    }
  }
});

test('single leaves, payout ranges and arbitrary sets in larger trees', () => {
  for (const n of LARGE) {
    const s = setup(n);
    for (const i of [0, 1, n >> 1, n - 2, n - 1, randInt(n)]) sameProof(n, [i], s);
    const width = Math.min(n, 200);
    const from = randInt(n - width + 1);
    for (const [start, count] of [[0, width], [n - width, width], [from, width], [from, Math.min(n - from, 1 + randInt(20))]] as const) {
      const keys = Array.from({ length: count }, (_, i) => start + i);
      sameProof(n, keys, s);
      assert.is(s.tree.proofForRange(start, count).toBoc().toString('hex'), s.tree.proof(keys).toBoc().toString('hex'), `range ${start}+${count} of ${n}`);
    }
    const scattered = Array.from({ length: 1 + randInt(25) }, () => randInt(n));
    sameProof(n, [...scattered, scattered[0]!], s); // unsorted, with a duplicate
  }
});

test('the empty set prunes the root; all leaves give the whole dictionary', () => {
  for (const n of [1, 2, 9, 100]) {
    const s = setup(n);
    sameProof(n, [], s);
    assert.is(s.tree.proofForRange(0, 0).toBoc().toString('hex'), s.tree.proof([]).toBoc().toString('hex'));
    const all = s.tree.proofForRange(0, n);
    assert.is(all.refs[0]!.toBoc().toString('hex'), s.tree.toCell().toBoc().toString('hex'));
    assert.is(all.refs[0]!.level(), 0, 'nothing pruned');
  }
});

test('a proof commits to the root: stored hash, hash(0) of its child, level 0', () => {
  const { tree } = setup(300);
  const proof = tree.proofForRange(100, 200);
  assert.ok(proof.refs[0]!.hash(0).equals(tree.root));
  assert.ok(proof.beginParse(true).skip(8).loadBuffer(32).equals(tree.root));
  assert.is(proof.level(), 0);
});

test('bad indexes and ranges are refused', () => {
  const { tree } = setup(10);
  for (const bad of [[10], [-1], [1.5], [NaN], [0, 11]]) throwsA(() => tree.proof(bad), RewardsTreeError, /leaf index .* is not in 0\.\.9/, String(bad));
  throwsA(() => tree.proof('1' as unknown as number[]), RewardsTreeError, /must be an array/);
  for (const [from, count] of [[-1, 2], [9, 2], [0, 11], [0.5, 1], [0, -1], [10, 1]]) {
    throwsA(() => tree.proofForRange(from!, count!), RewardsTreeError, /is not within the 10 leaves/, `${from}+${count}`);
  }
});

test.run();
