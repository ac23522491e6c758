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
 * The label of `n` zero bits at an edge with `m` key bits left (0 ≤ n ≤ m ≤ 32), as
 * `bits × 1024 + value`: the label is the `bits` low bits of `value`, most significant first.
 * Every label of the rewards dictionary is a run of zeros (keys are 0..count-1, see layout.ts),
 * and the shortest encoding of one is at most 9 bits (hml_short wins only for n ≤ 3, where it
 * takes 2n + 2 ≤ 8 bits; otherwise hml_long or hml_same take ≤ 3 + 6 bits).
 */
export function zeroLabelCode(n: number, m: number): number {
  const lenBits = labelLengthBits(m);
  const short = 2 * n + 2;
  const long = 2 + lenBits + n;
  const same = 3 + lenBits;
  // hml_short: 0, n ones, 0, n zeros; hml_long: 10, n, n zeros; hml_same: 11, v = 0, n
  if (short <= long && short <= same) return short * 1024 + (((1 << n) - 1) << (n + 1));
  if (long <= same) return long * 1024 + ((0b10 << lenBits) | n) * 2 ** n;
  return same * 1024 + ((0b110 << lenBits) | n);
}

/** Writes the label of `n` zero bits at an edge with `m` key bits left ({@link zeroLabelCode}). */
export function writeZeroLabel(w: BitWriter, n: number, m: number): void {
  const code = zeroLabelCode(n, m);
  w.writeUint(code & 1023, code >>> 10);
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
