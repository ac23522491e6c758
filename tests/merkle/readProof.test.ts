/**
 * readRewardsProof: accepts the proofs of RewardsTree and of @ton/core, returns exactly the
 * proven leaves, and rejects proofs for another root, forged proofs (stored hash left alone,
 * lying cached hashes, or recomputed), non-proof cells, Merkle updates and malformed dictionaries.
 */
import { Address, beginCell, Cell, CellType, Dictionary } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree, readRewardsProof, type RewardLeaf, RewardsProofError, type RewardsProofReason } from '../../domain/merkle/index.ts';
import { coreDictionary, makeLeaves, prng, throwsA } from './reference.ts';

const rand = prng(99);

function rejects(proof: Cell, root: Buffer, reason: RewardsProofReason, label: string): void {
  const e = throwsA(() => readRewardsProof(proof, root), RewardsProofError, undefined, label) as RewardsProofError;
  assert.is(e.reason, reason, `${label}: ${e.message}`);
}

function assertLeaves(got: Map<number, RewardLeaf>, leaves: readonly RewardLeaf[], keys: number[], label: string): void {
  const unique = [...new Set(keys)].sort((a, b) => a - b);
  assert.equal([...got.keys()], unique, label);
  for (const k of unique) {
    assert.ok(got.get(k)!.address.equals(leaves[k]!.address), `${label}: address of ${k}`);
    assert.is(got.get(k)!.amount, leaves[k]!.amount, `${label}: amount of ${k}`);
  }
}

/** A proof-shaped object that @ton/core itself would refuse to construct (no hash checks). */
function unchecked(template: Cell, changes: Partial<Cell>): Cell {
  return Object.assign(Object.create(Object.getPrototypeOf(template) as object) as Cell, template, changes);
}

test('good proofs give back exactly the proven leaves; pruned leaves are absent', () => {
  for (const n of [1, 2, 3, 7, 100, 1000]) {
    const leaves = makeLeaves(n, n);
    const tree = buildRewardsTree(leaves);
    const sets = [[0], [n - 1], [n >> 1], Array.from({ length: Math.min(n, 200) }, (_, i) => i), Array.from({ length: 5 }, () => Math.floor(rand() * n))];
    for (const keys of sets) {
      const label = `n=${n} keys=${keys.slice(0, 6).join(',')}`;
      assertLeaves(readRewardsProof(tree.proof(keys), tree.root), leaves, keys, label);
      const viaBoc = Cell.fromBoc(tree.proof(keys).toBoc())[0]!;
      assertLeaves(readRewardsProof(viaBoc, tree.root), leaves, keys, `${label} via BoC`);
    }
    const core = coreDictionary(leaves).generateMerkleProof([0, n - 1]);
    assertLeaves(readRewardsProof(core, tree.root), leaves, [0, n - 1], `n=${n} @ton/core proof`);
  }
});

test('a pruned leaf is not readable: only the proven leaf comes out, the empty proof gives none', () => {
  const leaves = makeLeaves(10, 4);
  const tree = buildRewardsTree(leaves);
  const got = readRewardsProof(tree.proof([3]), tree.root);
  assert.equal([...got.keys()], [3]);
  for (const pruned of [0, 2, 4, 9]) assert.is(got.get(pruned), undefined);
  assert.is(readRewardsProof(tree.proof([]), tree.root).size, 0);
});

test('repeated subtrees (identical leaves) are read per key', () => {
  const same = { address: new Address(-1, Buffer.alloc(32, 3)), amount: 42n };
  const leaves = Array.from({ length: 16 }, () => same);
  const tree = buildRewardsTree(leaves);
  const proof = Cell.fromBoc(tree.proofForRange(0, 16).toBoc())[0]!;
  assertLeaves(readRewardsProof(proof, tree.root), leaves, [...Array(16).keys()], 'identical leaves');
});

test('a proof for another root is refused', () => {
  const tree = buildRewardsTree(makeLeaves(50, 1));
  const other = buildRewardsTree(makeLeaves(50, 2));
  rejects(other.proof([5]), tree.root, 'wrong-root', 'other tree');
  rejects(tree.proof([5]), other.root, 'wrong-root', 'other root');
  rejects(tree.proof([5]), Buffer.alloc(31), 'wrong-root', 'root of 31 bytes');
});

test('forged proofs are refused: amount changed with the stored hash left alone, lying cached hashes, or recomputed', () => {
  const leaves = makeLeaves(40, 8);
  const tree = buildRewardsTree(leaves);
  const forgedLeaves = leaves.map((l, i) => (i === 17 ? { ...l, amount: l.amount + 1_000_000_000n } : l));
  const forgedTree = buildRewardsTree(forgedLeaves);
  const good = tree.proof([17]);
  const forgedDict = forgedTree.proof([17]).refs[0]!;

  // @ton/core refuses to build a Merkle proof whose stored hash is not its child's hash ...
  throwsA(() => new Cell({ exotic: true, bits: good.bits, refs: [forgedDict] }), Error, /ref hash must be exactly/);
  // ... so a forger hands over an object shaped like one
  rejects(unchecked(good, { refs: [forgedDict] }), tree.root, 'hash-mismatch', 'stored hash left alone');
  // the child even claims the right hash: it is recomputed, not believed
  const lying = unchecked(forgedDict, { hash: () => tree.root, depth: () => good.refs[0]!.depth(0) });
  rejects(unchecked(good, { refs: [lying] }), tree.root, 'hash-mismatch', 'child with lying cached hash');
  // a forged pruned sibling changes the hash too
  const prunedSibling = good.refs[0]!.refs[0]!.type === CellType.PrunedBranch ? 0 : 1;
  const root0 = good.refs[0]!;
  const fakePruned = beginCell().storeUint(1, 8).storeUint(1, 8).storeBuffer(Buffer.alloc(32, 1)).storeUint(3, 16).endCell({ exotic: true });
  const siblings = [...root0.refs];
  siblings[prunedSibling] = fakePruned;
  rejects(unchecked(good, { refs: [unchecked(root0, { refs: siblings })] }), tree.root, 'hash-mismatch', 'forged pruned sibling');
  // recomputing the stored hash makes it a proof of another root
  rejects(forgedTree.proof([17]), tree.root, 'wrong-root', 'stored hash recomputed');
  // the untouched proof still reads
  assert.is(readRewardsProof(good, tree.root).get(17)!.amount, leaves[17]!.amount);
});

test('cells that are not Merkle proofs are refused: ordinary cell, pruned branch, Merkle update', () => {
  const leaves = makeLeaves(12, 3);
  const tree = buildRewardsTree(leaves);
  rejects(tree.toCell(), tree.root, 'not-merkle-proof', 'ordinary dictionary cell');
  rejects(tree.proof([]).refs[0]!, tree.root, 'not-merkle-proof', 'pruned branch');
  const update = coreDictionary(leaves).generateMerkleUpdate(4, { ...leaves[4]!, amount: 1n });
  assert.is(update.type, CellType.MerkleUpdate);
  rejects(update, tree.root, 'not-merkle-proof', 'Merkle update');
  rejects(null as unknown as Cell, tree.root, 'not-merkle-proof', 'null');
});

test('valid Merkle proofs of other structures are refused as malformed', () => {
  // another value type under the same key type
  const ints = Dictionary.empty(Dictionary.Keys.Uint(32), Dictionary.Values.BigUint(64));
  for (let i = 0; i < 5; i++) ints.set(i, BigInt(i + 1));
  const intsProof = ints.generateMerkleProof([2]);
  rejects(intsProof, intsProof.refs[0]!.hash(0), 'malformed', 'uint64 values');

  // the same leaves under 16-bit keys
  const narrow = Dictionary.empty(Dictionary.Keys.Uint(16), Dictionary.Values.Cell());
  narrow.set(1, beginCell().storeUint(1, 8).endCell());
  narrow.set(2, beginCell().storeUint(2, 8).endCell());
  const narrowProof = narrow.generateMerkleProof([1]);
  rejects(narrowProof, narrowProof.refs[0]!.hash(0), 'malformed', '16-bit keys');

  // a chain of cells deeper than any 32-bit dictionary
  let chain = beginCell().storeUint(0, 2).endCell();
  for (let i = 0; i < 40; i++) chain = beginCell().storeUint(0, 2).storeRef(chain).endCell();
  const chainProof = beginCell().storeUint(3, 8).storeBuffer(chain.hash(0)).storeUint(chain.depth(0), 16).storeRef(chain).endCell({ exotic: true });
  rejects(chainProof, chain.hash(0), 'malformed', 'deep chain');

  // an exotic library cell where a subtree should be
  const root = buildRewardsTree(makeLeaves(4, 6)).toCell();
  const library = beginCell().storeUint(2, 8).storeBuffer(Buffer.alloc(32, 5)).endCell({ exotic: true });
  const patched = beginCell().storeBits(root.bits).storeRef(library).storeRef(root.refs[1]!).endCell();
  const patchedProof = beginCell().storeUint(3, 8).storeBuffer(patched.hash(0)).storeUint(patched.depth(0), 16).storeRef(patched).endCell({ exotic: true });
  rejects(patchedProof, patched.hash(0), 'malformed', 'library cell inside');
});

test.run();
