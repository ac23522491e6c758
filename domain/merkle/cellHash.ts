/**
 * Representation hashes of the ordinary, level-0 cells of the rewards dictionary, computed from
 * their serialisation without building cell objects (tvm.pdf §3.1.4–3.1.5; @ton/core
 * boc/cell/descriptor.js getRepr):
 *   repr = d1 d2 data' (depth(child) as 2 bytes)* (hash(child))*,   hash = sha256(repr)
 * with d1 = number of refs (ordinary, level 0), d2 = floor(bits/8) + ceil(bits/8), and data'
 * the data bits completed by the tag (see BitWriter.padWithCompletionTag).
 */
import { BitWriter } from './bits.ts';
import { paddedLength, sha256Into } from './sha256.ts';

const MAX_REPR = 2 + 128 + 2 * (2 + 32); // data ≤ 1023 bits, two refs

/** Hashes one cell at a time through a reused buffer: begin, write the data bits, finish. */
export class ReprHasher {
  private readonly buf = new Uint8Array(paddedLength(MAX_REPR));
  private readonly data = new BitWriter(this.buf, 2);

  /** Starts a new cell: returns the cleared writer of its data bits (≤ 1023). */
  begin(): BitWriter {
    this.data.reset();
    return this.data;
  }

  /** Hashes the cell begun as a cell without refs; writes 32 bytes to `out` at `outOffset`. */
  finishLeaf(out: Uint8Array, outOffset: number): void {
    const size = this.descriptors(0);
    sha256Into(this.buf, size, out, outOffset);
  }

  /**
   * Hashes the cell begun as a cell with two refs, whose hashes are read from `hashes` at
   * `leftOffset` and `rightOffset` and whose depths are `leftDepth`, `rightDepth` (< 2^16);
   * writes its hash to `hashes` at `outOffset`.
   */
  finishFork(hashes: Uint8Array, outOffset: number, leftOffset: number, leftDepth: number, rightOffset: number, rightDepth: number): void {
    const buf = this.buf;
    let p = this.descriptors(2);
    buf[p++] = leftDepth >>> 8;
    buf[p++] = leftDepth & 0xff;
    buf[p++] = rightDepth >>> 8;
    buf[p++] = rightDepth & 0xff;
    for (let i = 0; i < 32; i++) buf[p + i] = hashes[leftOffset + i]!;
    p += 32;
    for (let i = 0; i < 32; i++) buf[p + i] = hashes[rightOffset + i]!;
    p += 32;
    sha256Into(buf, p, hashes, outOffset);
  }

  /** Writes d1, d2 and the completion tag; returns the repr length so far (2 + data bytes). */
  private descriptors(refs: number): number {
    const bits = this.data.length;
    const dataBytes = this.data.padWithCompletionTag();
    this.buf[0] = refs;
    this.buf[1] = (bits >>> 3) + dataBytes;
    return 2 + dataBytes;
  }
}
