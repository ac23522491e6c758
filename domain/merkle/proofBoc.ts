/**
 * The BoC of a single-leaf Merkle proof, written straight from the tree's hashes: no @ton/core
 * cell objects, no hashing. Equal byte for byte to @ton/core 0.63.1
 * `dict.generateMerkleProof([key]).toBoc()` (boc/cell/serialization.js `serializeBoc` with its
 * defaults: no index, CRC32-C, no cache bits; one root). What that needs:
 * - cell order (utils/topologicalSort.js): each cell before its refs, a cell's first ref's subtree
 *   before its second's (pre-order), cells with equal hashes merged — the only cells that could be
 *   equal here are pruned branches of equal subtrees, and then this returns null;
 * - a cell: d1 = refs + 8·exotic + 32·level mask, d2 = ceil(bits/8) + floor(bits/8), the data
 *   with its completion tag, each ref as a `size`-byte index (tvm.pdf §3.1.4, §5.3.12);
 * - level masks: pruned branch 1; a fork on the path 1 (it has a pruned child); the leaf 0; the
 *   Merkle-proof cell 0 (its child's mask shifted down).
 */
import { crc32c } from '@ton/core';
import { BitWriter } from './bits.ts';
import { writeZeroLabel } from './label.ts';
import { edgeDepth, edgeId, forkHeight, KEY_BITS } from './layout.ts';
import type { TreeData } from './proof.ts';

interface BocCell {
  d1: number;
  d2: number;
  data: Uint8Array;
  refs: number[];
}

const PRUNED_BRANCH = 1;
const MERKLE_PROOF = 3;

/**
 * BoC bytes of the Merkle proof of leaf `key` (0 ≤ key < tree.count, tree.count ≥ 1, unchecked)
 * whose root cell hash is `root` (32 bytes); null when two of its pruned branches would be equal
 * cells (equal subtrees: duplicate leaves), which this writer does not merge.
 */
export function singleProofBoc(tree: TreeData, key: number, root: Uint8Array): Buffer | null {
  const scratch = new Uint8Array(128);
  const w = new BitWriter(scratch, 0);
  const cells: BocCell[] = [];
  const pruned = new Set<string>();
  let distinct = true;

  const take = (d1: number, refs: number[]): number => {
    const bits = w.length;
    const bytes = w.padWithCompletionTag();
    cells.push({ d1, d2: Math.ceil(bits / 8) + Math.floor(bits / 8), data: scratch.slice(0, bytes), refs });
    return cells.length - 1;
  };

  // the edge over keys base..base+c-1 with m key bits left; returns its cell's index
  const edge = (m: number, c: number, base: number): number => {
    if (key < base || key >= base + c) {
      const id = edgeId(tree.count, c, base);
      const identity = Buffer.from(tree.hashes.buffer, tree.hashes.byteOffset + id * 32, 32).toString('latin1') + c;
      if (pruned.has(identity)) distinct = false;
      pruned.add(identity);
      w.reset();
      w.writeUint(PRUNED_BRANCH, 8);
      w.writeUint(1, 8); // level mask
      w.writeBytes(tree.hashes, id * 32, 32);
      w.writeUint(edgeDepth(c), 16);
      return take(8 + 32, []);
    }
    if (c === 1) {
      w.reset();
      writeZeroLabel(w, m, m);
      tree.leaves.writeValue(base, w);
      return take(0, []);
    }
    const h = forkHeight(c);
    const half = 2 ** h;
    w.reset();
    writeZeroLabel(w, m - h - 1, m);
    const refs: number[] = [];
    const at = take(32, refs);
    refs.push(edge(h, half, base), edge(h, c - half, base + half));
    return at;
  };

  w.reset();
  w.writeUint(MERKLE_PROOF, 8);
  w.writeBytes(root, 0, 32);
  w.writeUint(edgeDepth(tree.count), 16);
  const refs: number[] = [];
  take(8, refs);
  refs.push(edge(KEY_BITS, tree.count, 0));
  if (!distinct) return null;

  const size = Math.max(1, Math.ceil(bitLength(cells.length) / 8));
  let total = 0;
  for (const c of cells) total += 2 + c.data.length + c.refs.length * size;
  const offset = Math.max(1, Math.ceil(bitLength(total) / 8));
  const out = Buffer.alloc(4 + 1 + 1 + 3 * size + offset + size + total + 4);
  let p = out.writeUInt32BE(0xb5ee9c72, 0);
  out[p++] = 0x40 | size; // no index, CRC32-C, no cache bits, flags 0, size bytes
  out[p++] = offset;
  p = out.writeUIntBE(cells.length, p, size);
  p = out.writeUIntBE(1, p, size); // roots
  p = out.writeUIntBE(0, p, size); // absent
  p = out.writeUIntBE(total, p, offset);
  p = out.writeUIntBE(0, p, size); // root index
  for (const c of cells) {
    out[p++] = c.d1 + c.refs.length;
    out[p++] = c.d2;
    out.set(c.data, p);
    p += c.data.length;
    for (const r of c.refs) p = out.writeUIntBE(r, p, size);
  }
  crc32c(out.subarray(0, p)).copy(out, p);
  return out;
}

/** Bits needed for `n` as an unsigned number (@ton/core bitsForNumber(n, 'uint')): 0 for 0. */
function bitLength(n: number): number {
  return n === 0 ? 0 : 32 - Math.clz32(n);
}
