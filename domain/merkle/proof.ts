/**
 * Proof cells of the rewards dictionary as @ton/core cells, equal bit for bit to what @ton/core
 * 0.63.1 `Dictionary.generateMerkleProof(keys)` returns (dict/generateMerkleProof.js): every edge
 * cell holding a proven key is kept whole, every other child of a kept fork becomes a pruned
 * branch, and the dictionary root goes into a Merkle-proof cell. Only the kept cells and their
 * pruned siblings are built: O(proven keys + path length) cells, hashes come from the tree.
 */
import { BitString, Cell } from '@ton/core';
import { BitWriter } from './bits.ts';
import { RewardsTreeError } from './errors.ts';
import { writeZeroLabel } from './label.ts';
import { edgeDepth, edgeId, forkHeight, KEY_BITS } from './layout.ts';
import type { LeafStore } from './leaf.ts';

/** What a proof is cut from: the leaves and the 32-byte hash of every cell, by cell id (layout.ts). */
export interface TreeData {
  count: number;
  leaves: LeafStore;
  hashes: Uint8Array;
}

const PRUNED_BRANCH = 1; // exotic cell types, tvm.pdf §3.1.2
const MERKLE_PROOF = 3;

/**
 * The dictionary root cell with every edge that holds none of `keys` pruned (level-1 pruned
 * branch: type 1, level mask 1, hash, depth). `keys` must be sorted, unique and < tree.count;
 * with every key it is the full dictionary, with none the pruned root.
 */
export function dictionaryCell(tree: TreeData, keys: Uint32Array): Cell {
  const writer = new BitWriter(new Uint8Array(128), 0);

  const bitsOf = (w: BitWriter): BitString =>
    new BitString(Buffer.from(w.bytes.subarray(0, (w.length + 7) >>> 3)), 0, w.length);

  const edge = (m: number, c: number, base: number, lo: number, hi: number): Cell => {
    if (lo === hi) {
      const id = edgeId(tree.count, c, base);
      const w = writer;
      w.reset();
      w.writeUint(PRUNED_BRANCH, 8);
      w.writeUint(1, 8); // level mask
      w.writeBytes(tree.hashes, id * 32, 32);
      w.writeUint(edgeDepth(c), 16);
      return new Cell({ exotic: true, bits: bitsOf(w) });
    }
    if (c === 1) {
      writer.reset();
      writeZeroLabel(writer, m, m);
      tree.leaves.writeValue(base, writer);
      return new Cell({ bits: bitsOf(writer) });
    }
    const h = forkHeight(c);
    const half = 2 ** h;
    let mid = lo; // first of keys[lo, hi) in the right edge
    for (let top = hi; mid < top; ) {
      const probe = (mid + top) >>> 1;
      if (keys[probe]! < base + half) mid = probe + 1;
      else top = probe;
    }
    const left = edge(h, half, base, lo, mid);
    const right = edge(h, c - half, base + half, mid, hi);
    writer.reset();
    writeZeroLabel(writer, m - h - 1, m);
    return new Cell({ bits: bitsOf(writer), refs: [left, right] });
  };

  return edge(KEY_BITS, tree.count, 0, 0, keys.length);
}

/**
 * Wraps a (pruned) dictionary cell into an exotic Merkle-proof cell: type 3, hash(0) and
 * depth(0) of the cell, one ref (tvm.pdf §3.1.2; @ton/core convertToMerkleProof).
 * Throws RewardsTreeError when the cell's hash is not `root` (the tree is inconsistent).
 */
export function merkleProofCell(dictionary: Cell, root: Uint8Array): Cell {
  const hash = dictionary.hash(0);
  if (!hash.equals(root)) throw new RewardsTreeError(`proof hashes to ${hash.toString('hex')}, not the tree root`);
  const w = new BitWriter(new Uint8Array(35), 0);
  w.writeUint(MERKLE_PROOF, 8);
  w.writeBytes(hash, 0, 32);
  w.writeUint(dictionary.depth(0), 16);
  return new Cell({ exotic: true, bits: new BitString(Buffer.from(w.bytes), 0, w.length), refs: [dictionary] });
}
