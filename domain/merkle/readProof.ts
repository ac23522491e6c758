/**
 * Reading a rewards Merkle proof: the check a participant, the read API or an auditor runs on a
 * proof before believing the leaves in it. Nothing stored in the cell objects is trusted: the
 * hash of the proven dictionary is recomputed from the cells' bits (node:crypto, independent of
 * the builder's SHA-256), pruned branches contribute the hash and depth they carry.
 */
import { type BitString, type Cell, CellType } from '@ton/core';
import { hash as nodeHash } from 'node:crypto';
import { BitReader } from './bits.ts';
import { RewardsProofError } from './errors.ts';
import { readLabel } from './label.ts';
import { KEY_BITS } from './layout.ts';
import { readLeafValue, type RewardLeaf } from './leaf.ts';

interface HashAndDepth {
  hash: Buffer;
  depth: number;
}

function dataBytes(bits: BitString): Uint8Array {
  const out = new Uint8Array((bits.length + 7) >>> 3);
  for (let i = 0; i < bits.length; i++) if (bits.at(i)) out[i >>> 3]! |= 0x80 >>> (i & 7);
  return out;
}

/** Stored hash and depth of a level-1 pruned branch (type 1, mask 1, hash, depth: 288 bits). */
function prunedBranch(cell: Cell): HashAndDepth {
  const bytes = dataBytes(cell.bits);
  if (cell.bits.length !== 288 || cell.refs.length !== 0 || bytes[0] !== 1 || bytes[1] !== 1) {
    throw new RewardsProofError('malformed', 'a pruned branch must be a level-1 pruned cell (type 1, mask 1, hash, depth)');
  }
  return { hash: Buffer.from(bytes.subarray(2, 34)), depth: (bytes[34]! << 8) | bytes[35]! };
}

/**
 * Level-0 representation hash and depth of a dictionary cell (tvm.pdf §3.1.4–3.1.5), memoised
 * per cell object so a BoC that reuses cells costs its unique cells only. Only ordinary cells and
 * level-1 pruned branches may appear, at most KEY_BITS forks deep.
 */
function levelZeroHash(cell: Cell, height: number, memo: Map<Cell, HashAndDepth>): HashAndDepth {
  const known = memo.get(cell);
  if (known) return known;
  if (height > KEY_BITS) throw new RewardsProofError('malformed', `cells nested deeper than a ${KEY_BITS}-bit dictionary`);
  let result: HashAndDepth;
  if (cell.type === CellType.PrunedBranch) {
    result = prunedBranch(cell);
  } else if (cell.type !== CellType.Ordinary) {
    throw new RewardsProofError('malformed', `exotic cell of type ${cell.type} inside the dictionary`);
  } else {
    const children = cell.refs.map((ref) => levelZeroHash(ref, height + 1, memo));
    const bits = cell.bits.length;
    const data = dataBytes(cell.bits);
    if (bits & 7) data[bits >>> 3]! |= 0x80 >>> (bits & 7); // completion tag
    const repr = Buffer.alloc(2 + data.length + 34 * children.length);
    repr[0] = children.length; // d1: refs, ordinary, level 0
    repr[1] = (bits >>> 3) + data.length; // d2: floor(bits/8) + ceil(bits/8)
    repr.set(data, 2);
    let p = 2 + data.length;
    for (const c of children) p = repr.writeUInt16BE(c.depth, p);
    for (const c of children) p += c.hash.copy(repr, p);
    const depth = children.length === 0 ? 0 : 1 + Math.max(...children.map((c) => c.depth));
    result = { hash: nodeHash('sha256', repr, 'buffer'), depth };
  }
  memo.set(cell, result);
  return result;
}

/** Walks the (hash-verified) dictionary edge `cell` with `m` key bits left under key `prefix`. */
function collectLeaves(cell: Cell, m: number, prefix: number, out: Map<number, RewardLeaf>): void {
  if (cell.type === CellType.PrunedBranch) return;
  const r = new BitReader(dataBytes(cell.bits), cell.bits.length);
  try {
    const label = readLabel(r, m);
    const key = prefix * 2 ** label.length + label.bits;
    const left = m - label.length;
    if (left === 0) {
      const leaf = readLeafValue(r);
      if (r.remaining !== 0 || cell.refs.length !== 0) throw new RangeError('leaf cell has extra bits or refs');
      out.set(key, leaf);
      return;
    }
    if (r.remaining !== 0 || cell.refs.length !== 2) throw new RangeError('fork cell must hold its label and two refs only');
    collectLeaves(cell.refs[0]!, left - 1, key * 2, out);
    collectLeaves(cell.refs[1]!, left - 1, key * 2 + 1, out);
  } catch (e) {
    if (e instanceof RangeError) throw new RewardsProofError('malformed', `not a rewards dictionary: ${e.message}`);
    throw e;
  }
}

/**
 * Verifies `proof`, an exotic Merkle-proof cell (type 3) over a rewards dictionary, against the
 * committed root `expectedRoot` (32 bytes) and returns the leaves it holds whole, by leaf index;
 * pruned leaves are absent from the map. Checks, without trusting any hash stored in the cell
 * objects: the cell is a Merkle proof (280 bits, one ref); its stored hash is `expectedRoot`;
 * the stored hash and depth equal the recomputed level-0 hash and depth of its child; the child
 * is a `HashmapE 32` of `address:MsgAddressInt amount:Coins` (addr_std in workchain 0 or -1,
 * amount > 0) made of ordinary cells and level-1 pruned branches.
 * Throws RewardsProofError with reason 'not-merkle-proof', 'wrong-root', 'hash-mismatch' or
 * 'malformed'.
 */
export function readRewardsProof(proof: Cell, expectedRoot: Buffer): Map<number, RewardLeaf> {
  if (!(expectedRoot instanceof Uint8Array) || expectedRoot.length !== 32) {
    throw new RewardsProofError('wrong-root', 'the expected root must be 32 bytes');
  }
  if (typeof proof !== 'object' || proof === null || proof.type !== CellType.MerkleProof) {
    throw new RewardsProofError('not-merkle-proof', 'the cell is not an exotic Merkle-proof cell (type 3)');
  }
  const head = dataBytes(proof.bits);
  if (proof.bits.length !== 280 || proof.refs.length !== 1 || head[0] !== 3) {
    throw new RewardsProofError('not-merkle-proof', 'a Merkle-proof cell holds type 3, a hash, a depth and one ref');
  }
  const storedHash = Buffer.from(head.subarray(1, 33));
  const storedDepth = (head[33]! << 8) | head[34]!;
  if (!storedHash.equals(expectedRoot)) {
    throw new RewardsProofError('wrong-root', `the proof is for root ${storedHash.toString('hex')}, expected ${Buffer.from(expectedRoot).toString('hex')}`);
  }
  const child = proof.refs[0]!;
  const actual = levelZeroHash(child, 0, new Map());
  if (!actual.hash.equals(storedHash) || actual.depth !== storedDepth) {
    throw new RewardsProofError('hash-mismatch', `the proven cell hashes to ${actual.hash.toString('hex')} (depth ${actual.depth}), the proof claims ${storedHash.toString('hex')} (depth ${storedDepth})`);
  }
  const leaves = new Map<number, RewardLeaf>();
  collectLeaves(child, KEY_BITS, 0, leaves);
  return leaves;
}
