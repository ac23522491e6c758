/**
 * HmLabel, the edge label of a TON Hashmap (block.tlb):
 *   hml_short$0 {m:#} {n:#} len:(Unary ~n) {n <= m} s:(n * Bit) = HmLabel ~n m;
 *   hml_long$10 {m:#} n:(#<= m) s:(n * Bit) = HmLabel ~n m;
 *   hml_same$11 {m:#} v:Bit n:(#<= m) = HmLabel ~n m;
 * where `m` is the number of key bits left at the edge and `#<= m` takes ceil(log2(m + 1)) bits.
 * The writer picks the encoding exactly as @ton/core 0.63.1 does (dict/serializeDict.js,
 * detectLabelType): the shortest one, ties going to short, then long, then same.
 */
import type { BitReader, BitWriter } from './bits.ts';

/** Bits of the `#<= m` length field: ceil(log2(m + 1)), for 0 ≤ m ≤ 32. */
export function labelLengthBits(m: number): number {
  return 32 - Math.clz32(m);
}

/**
 * Writes the label of `n` zero bits at an edge with `m` key bits left (0 ≤ n ≤ m ≤ 32).
 * Every label of the rewards dictionary is a run of zeros (keys are 0..count-1, see layout.ts).
 */
export function writeZeroLabel(w: BitWriter, n: number, m: number): void {
  const lenBits = labelLengthBits(m);
  const short = 2 * n + 2;
  const long = 2 + lenBits + n;
  const same = 3 + lenBits;
  let best = short;
  let kind = 0;
  if (long < best) {
    best = long;
    kind = 1;
  }
  if (same < best) kind = 2;
  if (kind === 0) {
    w.writeUint(0, 1);
    w.writeRepeated(1, n);
    w.writeUint(0, 1);
    w.writeRepeated(0, n);
  } else if (kind === 1) {
    w.writeUint(0b10, 2);
    w.writeUint(n, lenBits);
    w.writeRepeated(0, n);
  } else {
    w.writeUint(0b110, 3);
    w.writeUint(n, lenBits);
  }
}

/** A label read from a cell: its length in bits and its bits as an unsigned number. */
export interface Label {
  length: number;
  bits: number;
}

/**
 * Reads any HmLabel at an edge with `m` key bits left (0 ≤ m ≤ 32).
 * Throws RangeError when the data ends early or the length exceeds `m`.
 */
export function readLabel(r: BitReader, m: number): Label {
  let length: number;
  let bits: number;
  if (r.readBit() === 0) {
    length = 0;
    while (r.readBit() === 1) length++;
    if (length > m) throw new RangeError(`label of ${length} bits where ${m} key bits are left`);
    bits = r.readUint(length);
  } else if (r.readBit() === 0) {
    length = r.readUint(labelLengthBits(m));
    if (length > m) throw new RangeError(`label of ${length} bits where ${m} key bits are left`);
    bits = r.readUint(length);
  } else {
    const bit = r.readBit();
    length = r.readUint(labelLengthBits(m));
    if (length > m) throw new RangeError(`label of ${length} bits where ${m} key bits are left`);
    bits = bit ? 2 ** length - 1 : 0;
  }
  return { length, bits };
}
