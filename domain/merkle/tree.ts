/**
 * The rewards Merkle tree of an epoch: the TON dictionary `HashmapE 32` (leaf index →
 * `address:MsgAddressInt amount:Coins`) whose root cell hash the distribution contract stores,
 * and the Merkle proofs that payouts and claims carry (DESIGN.md "Merkle tree and payouts").
 *
 * Equal bit for bit to @ton/core 0.63.1:
 *   const dict = Dictionary.empty(Dictionary.Keys.Uint(32), value); leaves.forEach((l, i) => dict.set(i, l));
 *   root = beginCell().storeDictDirect(dict).endCell().hash();   proof(keys) = dict.generateMerkleProof(keys)
 * with value = { storeAddress(address); storeCoins(amount) }, but built without cell objects: one
 * SHA-256 per cell over its hand-made representation (cellHash.ts), in a trie fixed by the leaf
 * count (layout.ts), hashes kept in one flat array (64 bytes a leaf) so a proof only builds the
 * cells it contains.
 */
import type { Cell } from '@ton/core';
import { hashWordsToBytes, ReprHasher } from './cellHash.ts';
import { RewardsTreeError } from './errors.ts';
import { zeroLabelCode } from './label.ts';
import { edgeId, KEY_BITS } from './layout.ts';
import { LeafStore, type RewardLeaf } from './leaf.ts';
import { dictionaryCell, merkleProofCell, type TreeData } from './proof.ts';
import { singleProofBoc } from './proofBoc.ts';

/**
 * `rootHex` of a tree without leaves: 32 zero bytes. An empty HashmapE has no root cell to hash;
 * nothing can be proven or paid from it.
 */
export const EMPTY_TREE_ROOT_HEX = '00'.repeat(32);

/** A built rewards tree. Immutable; make one with buildRewardsTree. */
export class RewardsTree {
  /** Number of leaves; their keys are 0..leafCount-1. */
  readonly leafCount: number;
  /** `root` as 64 lowercase hex digits; EMPTY_TREE_ROOT_HEX for 0 leaves. */
  readonly rootHex: string;
  private readonly rootBytes: Buffer;
  private readonly data: TreeData;

  /** @internal use buildRewardsTree */
  constructor(data: TreeData) {
    this.data = data;
    this.leafCount = data.count;
    const rootId = data.count === 0 ? -1 : edgeId(data.count, data.count, 0);
    this.rootBytes = rootId < 0 ? Buffer.alloc(32) : Buffer.from(data.hashes.subarray(rootId * 32, rootId * 32 + 32));
    this.rootHex = this.rootBytes.toString('hex');
  }

  /**
   * Representation hash of the dictionary root cell (32 bytes, a fresh copy): the value the
   * distribution contract stores. 32 zero bytes for 0 leaves.
   */
  get root(): Buffer {
    return Buffer.from(this.rootBytes);
  }

  /** Leaf `index` (a copy). Throws RewardsTreeError unless 0 ≤ index < leafCount. */
  leaf(index: number): RewardLeaf {
    this.checkIndex(index);
    return this.data.leaves.get(index);
  }

  /**
   * Exotic Merkle-proof cell (type 3) over the dictionary in which the leaves at `indexes` are
   * whole and everything else is pruned; equal bit for bit to @ton/core
   * `dict.generateMerkleProof(indexes)` (also for duplicates and for [], which prunes the root).
   * Throws RewardsTreeError for an empty tree or an index that is not an integer in 0..leafCount-1.
   */
  proof(indexes: readonly number[]): Cell {
    this.checkNotEmpty();
    if (!Array.isArray(indexes)) throw new RewardsTreeError('indexes must be an array of leaf indexes');
    for (const i of indexes) this.checkIndex(i);
    const sorted = Uint32Array.from(indexes).sort();
    let unique = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[unique++] = sorted[i]!;
    return this.proofOf(sorted.subarray(0, unique));
  }

  /**
   * The BoC of `proof([index])`, byte for byte what `this.proof([index]).toBoc()` gives (@ton/core
   * defaults: no index, CRC32-C), written straight from the tree's hashes (proofBoc.ts): tens of
   * microseconds, no cell objects. The read API serves it per request.
   * Throws RewardsTreeError for an empty tree or an index that is not an integer in 0..leafCount-1.
   */
  proofBoc(index: number): Buffer {
    this.checkNotEmpty();
    this.checkIndex(index);
    return singleProofBoc(this.data, index, this.rootBytes) ?? this.proof([index]).toBoc();
  }

  /**
   * `proof` of the consecutive leaves from..from+count-1 (a payout batch, ≤ ~200 leaves).
   * Throws RewardsTreeError for an empty tree or unless from, count are integers with
   * 0 ≤ from, 0 ≤ count and from + count ≤ leafCount.
   */
  proofForRange(from: number, count: number): Cell {
    this.checkNotEmpty();
    if (!Number.isInteger(from) || !Number.isInteger(count) || from < 0 || count < 0 || from + count > this.leafCount) {
      throw new RewardsTreeError(`range from=${from} count=${count} is not within the ${this.leafCount} leaves`);
    }
    const keys = new Uint32Array(count);
    for (let i = 0; i < count; i++) keys[i] = from + i;
    return this.proofOf(keys);
  }

  /**
   * The whole dictionary root cell (what `storeDictDirect` builds). Builds 2·leafCount − 1
   * cells: meant for small trees and tests. Throws RewardsTreeError for an empty tree.
   */
  toCell(): Cell {
    this.checkNotEmpty();
    const all = new Uint32Array(this.leafCount);
    for (let i = 0; i < all.length; i++) all[i] = i;
    return dictionaryCell(this.data, all);
  }

  private proofOf(keys: Uint32Array): Cell {
    return merkleProofCell(dictionaryCell(this.data, keys), this.rootBytes);
  }

  private checkNotEmpty(): void {
    if (this.leafCount === 0) throw new RewardsTreeError('the tree has no leaves: there is no dictionary to prove');
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.leafCount) {
      throw new RewardsTreeError(`leaf index ${String(index)} is not in 0..${this.leafCount - 1}`);
    }
  }
}

/**
 * Builds the rewards tree of `leaves`; leaf i gets key i (fewer than 2^32 leaves, so every index
 * fits the 32-bit key). An array of RewardLeaf is validated leaf by leaf and copied; a LeafStore
 * filled by the caller (LeafStore.setRaw) is taken over as it is: the caller must not change it
 * afterwards.
 * Cost: 2·n − 1 SHA-256 of ≤ 72 bytes, ~113 bytes of memory a leaf.
 * Throws RewardsTreeError for a non-array, an address that is not a 256-bit internal address in
 * workchain 0 or -1, an amount that is not a bigint in 1..2^120-1 nanoTON, or a LeafStore leaf
 * never set.
 */
export function buildRewardsTree(leaves: readonly RewardLeaf[] | LeafStore): RewardsTree {
  let store: LeafStore;
  if (leaves instanceof LeafStore) {
    store = leaves;
    const unset = store.firstUnset();
    if (unset >= 0) throw new RewardsTreeError(`leaf ${unset}: never set in the LeafStore`);
  } else {
    if (!Array.isArray(leaves)) throw new RewardsTreeError('leaves must be an array');
    store = new LeafStore(leaves.length);
    for (let i = 0; i < leaves.length; i++) store.set(i, leaves[i]!);
  }
  const count = store.count;
  const words = new Int32Array(Math.max(0, 2 * count - 1) * 8); // 8 hash words a cell, by cell id
  const hasher = new ReprHasher();

  // the edge over keys base..base+c-1 with m key bits left (layout.ts); children before parents.
  // Returns the edge's cell id. layout.ts's forkHeight, edgeDepth and edgeId are written out here
  // with 1 << h (exact: c ≤ count < 2^31) instead of 2 ** h: the powers were a fifth of the build.
  const hashEdge = (m: number, c: number, base: number): number => {
    if (c === 1) {
      const label = ZERO_LABELS[m * 33 + m]!;
      const w = hasher.beginLeaf((label >>> 10) + store.valueBits(base));
      w.push(label & 1023, label >>> 10);
      store.pushValue(base, w);
      hasher.finishLeaf(words, base * 8);
      return base;
    }
    const h = 31 - Math.clz32(c - 1); // forkHeight
    const half = 1 << h;
    const left = hashEdge(h, half, base);
    const right = hashEdge(h, c - half, base + half);
    const id = count + base + half - 1;
    hasher.fork(words, id * 8, ZERO_LABELS[m * 33 + m - h - 1]!, left * 8, h, right * 8, c - half === 1 ? 0 : 32 - Math.clz32(c - half - 1)); // edgeDepth
    return id;
  };
  if (count > 0) hashEdge(KEY_BITS, count, 0);
  const hashes = hashWordsToBytes(words);
  return new RewardsTree({ count, leaves: store, hashes });
}

/** zeroLabelCode(n, m) for every 0 ≤ n ≤ m ≤ 32, at index m × 33 + n. */
const ZERO_LABELS = (() => {
  const codes = new Int32Array(33 * 33);
  for (let m = 0; m <= KEY_BITS; m++) for (let n = 0; n <= m; n++) codes[m * 33 + n] = zeroLabelCode(n, m);
  return codes;
})();
