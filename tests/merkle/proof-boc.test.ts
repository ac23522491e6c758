/**
 * RewardsTree.proofBoc (domain/merkle/proofBoc.ts) against @ton/core's
 * `Dictionary.generateMerkleProof([key]).toBoc()`: the bytes must be equal for every leaf of
 * small trees and for sampled leaves of larger ones (@ton/core takes seconds per proof at 1000 leaves), and for a tree with equal leaves (whose equal
 * pruned subtrees @ton/core merges into one cell).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree, RewardsTreeError } from '../../domain/merkle/index.ts';
import { coreDictionary, makeLeaves, prng, throwsA } from './reference.ts';

const rand = prng(91);

function same(n: number, keys: Iterable<number>, leaves = makeLeaves(n, 5000 + n)): void {
  const tree = buildRewardsTree(leaves);
  const dict = coreDictionary(leaves);
  for (const k of keys) assert.is(tree.proofBoc(k).toString('hex'), dict.generateMerkleProof([k]).toBoc().toString('hex'), `n=${n} key=${k}`);
}

test('every leaf of trees up to 33 leaves', () => {
  for (let n = 1; n <= 33; n++) same(n, Array(n).keys());
});

test('sampled leaves, first and last of trees up to 1025 leaves', () => {
  for (const n of [127, 128, 129, 257, 1025]) {
    same(n, [0, n - 1, Math.floor(rand() * n)]);
  }
});

test('equal leaves: equal pruned subtrees are one cell, as in @ton/core', () => {
  const [one] = makeLeaves(1, 3);
  const leaves = Array.from({ length: 16 }, () => one!);
  same(16, Array(16).keys(), leaves);
});

test('an empty tree or an index outside the leaves is refused', () => {
  throwsA(() => buildRewardsTree([]).proofBoc(0), RewardsTreeError, /no leaves/);
  const tree = buildRewardsTree(makeLeaves(3, 1));
  for (const bad of [-1, 3, 1.5, Number.NaN]) throwsA(() => tree.proofBoc(bad), RewardsTreeError, /not in 0\.\.2/);
});

test.run();
