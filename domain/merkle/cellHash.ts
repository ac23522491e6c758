/**
 * Representation hashes of the ordinary, level-0 cells of the rewards dictionary, computed from
 * their serialisation without building cell objects (tvm.pdf §3.1.4–3.1.5; @ton/core
 * boc/cell/descriptor.js getRepr):
 *   repr = d1 d2 data' (depth(child) as 2 bytes)* (hash(child))*,   hash = sha256(repr)
 * with d1 = number of refs (ordinary, level 0), d2 = floor(bits/8) + ceil(bits/8), and data'
 * the data bits completed by the tag (a 1 bit, then zeros to the byte boundary).
 *
 * The representation is written as big-endian 32-bit words straight into SHA-256's padded
 * message (sha256Words), and hashes are kept as words: no byte buffer is filled, cleared or
 * padded per cell, no digest is split into bytes. A leaf's representation is at most 52 bytes
 * (one block), a fork's 71–72 (two blocks).
 */
import { sha256Words } from './sha256.ts';

/** Appends bits to the message words, most significant first. */
export class WordWriter {
  readonly words = new Int32Array(32);
  /** the pending bits (the low `accBits` bits of `acc`), not yet a whole word */
  private acc = 0;
  private accBits = 0;
  private at = 0;
  /** message bits written */
  length = 0;

  reset(): void {
    this.acc = 0;
    this.accBits = 0;
    this.at = 0;
    this.length = 0;
  }

  /** Writes the `bits` low bits of `value` (0 ≤ bits ≤ 32; value < 2^bits when bits < 32). */
  push(value: number, bits: number): void {
    this.length += bits;
    const free = 32 - this.accBits;
    if (bits < free) {
      this.acc = (this.acc << bits) | value;
      this.accBits += bits;
      return;
    }
    const rest = bits - free;
    // free = 32 only when nothing is pending (acc = 0): a shift by 32 is a shift by 0 in JS
    this.words[this.at++] = (free === 32 ? 0 : this.acc << free) | (value >>> rest);
    this.acc = rest === 0 ? 0 : value & ((1 << rest) - 1);
    this.accBits = rest;
  }

  /** Writes `count` whole 32-bit words of `src` from `from` on (the same as `count` push(·, 32)). */
  pushWords(src: Int32Array, from: number, count: number): void {
    this.length += 32 * count;
    const pending = this.accBits;
    const words = this.words;
    let at = this.at;
    if (pending === 0) {
      for (let i = 0; i < count; i++) words[at++] = src[from + i]!;
    } else {
      const free = 32 - pending;
      const mask = (1 << pending) - 1;
      let acc = this.acc;
      for (let i = 0; i < count; i++) {
        const v = src[from + i]!;
        words[at++] = (acc << free) | (v >>> pending);
        acc = v & mask;
      }
      this.acc = acc;
    }
    this.at = at;
  }

  /** Writes the `4 × count` bytes of `src` from `from` on as `count` big-endian words (the same as `count` push(·, 32)). */
  pushBytes(src: Uint8Array, from: number, count: number): void {
    this.length += 32 * count;
    const pending = this.accBits;
    const words = this.words;
    let at = this.at;
    const free = 32 - pending;
    const mask = (1 << pending) - 1;
    let acc = this.acc;
    for (let i = 0, j = from; i < count; i++, j += 4) {
      const v = (src[j]! << 24) | (src[j + 1]! << 16) | (src[j + 2]! << 8) | src[j + 3]!;
      // free = 32 only when nothing is pending (acc = 0): a shift by 32 is a shift by 0 in JS
      words[at++] = (pending === 0 ? 0 : acc << free) | (v >>> pending);
      acc = v & mask;
    }
    this.acc = acc;
    this.at = at;
  }

  /**
   * Pads the message (FIPS 180-4 §5.1.1: a 1 bit, zeros, the bit length as 64 bits) to whole
   * blocks and returns their number. The message must be byte aligned.
   */
  finish(): number {
    const bits = this.length;
    this.push(0x80, 8);
    if (this.accBits > 0) {
      this.words[this.at++] = this.acc << (32 - this.accBits);
      this.acc = 0;
      this.accBits = 0;
    }
    const blocks = (bits + 8 + 64 + 511) >>> 9;
    const last = blocks * 16 - 1;
    while (this.at < last - 1) this.words[this.at++] = 0;
    this.words[last - 1] = 0;
    this.words[last] = bits;
    return blocks;
  }
}

/**
 * Hashes the cells of the tree into one array of words (8 a hash, big-endian words: see
 * {@link hashWordsToBytes}).
 */
export class ReprHasher {
  private readonly w = new WordWriter();

  /**
   * Starts a leaf cell (no refs) of `dataBits` data bits: returns the writer of those bits. The
   * caller writes exactly `dataBits` bits and then calls finishLeaf.
   */
  beginLeaf(dataBits: number): WordWriter {
    const w = this.w;
    w.reset();
    w.push((dataBits >>> 3) + ((dataBits + 7) >>> 3), 16); // d1 = 0 refs, d2
    return w;
  }

  /** Completes the data of the leaf begun, hashes it and writes its 8 words to `out` at `outAt`. */
  finishLeaf(out: Int32Array, outAt: number): void {
    const w = this.w;
    completionTag(w);
    sha256Words(w.words, w.finish(), out, outAt);
  }

  /**
   * Hashes a fork cell whose data is the label `labelCode` (label.ts zeroLabelCode) and whose two
   * refs have the hashes at `hashes[leftAt..+8)`, `hashes[rightAt..+8)` and the depths
   * `leftDepth`, `rightDepth` (< 2^16); writes its hash to `hashes[outAt..+8)`.
   */
  fork(hashes: Int32Array, outAt: number, labelCode: number, leftAt: number, leftDepth: number, rightAt: number, rightDepth: number): void {
    const w = this.w;
    w.reset();
    const bits = labelCode >>> 10;
    w.push(0x200 | ((bits >>> 3) + ((bits + 7) >>> 3)), 16); // d1 = 2 refs, d2
    w.push(labelCode & 1023, bits);
    completionTag(w);
    w.push(leftDepth, 16);
    w.push(rightDepth, 16);
    w.pushWords(hashes, leftAt, 8);
    w.pushWords(hashes, rightAt, 8);
    sha256Words(w.words, w.finish(), hashes, outAt);
  }
}

/** The completion tag after data that is not byte aligned: a 1 bit, zeros to the boundary. */
function completionTag(w: WordWriter): void {
  const rem = w.length & 7;
  if (rem !== 0) w.push(1 << (7 - rem), 8 - rem);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Turns an array of hash words (big-endian word values, as sha256Words writes them) into the
 * hash bytes, in place: the returned bytes share the words' memory (the words are unusable after).
 */
export function hashWordsToBytes(words: Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) {
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!;
      words[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    }
  }
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}
