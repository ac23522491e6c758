/**
 * Bit-level writing and reading of cell data, most significant bit first (the order of TVM
 * cells and of BoC data). Used both for the bytes that get hashed and for the bits of the
 * @ton/core cells a proof is made of, so the two cannot disagree.
 */

/**
 * Appends bits to a byte array from byte `start` on. Bits are OR-ed in, so the bytes from
 * `start` on must be zero when writing begins: a new array, or one cleared by `reset`.
 */
export class BitWriter {
  /** Bits written so far. */
  length = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
  ) {}

  /** Zeroes the array from `start` to its end and starts again at bit 0. */
  reset(): void {
    this.bytes.fill(0, this.start);
    this.length = 0;
  }

  /** Writes `value` (0 ≤ value < 2^bits) as `bits` bits, 0 ≤ bits ≤ 32. */
  writeUint(value: number, bits: number): void {
    let left = bits;
    while (left > 0) {
      const free = 8 - (this.length & 7);
      const take = left < free ? left : free;
      const chunk = (value >>> (left - take)) & ((1 << take) - 1);
      this.bytes[this.start + (this.length >>> 3)]! |= chunk << (free - take);
      this.length += take;
      left -= take;
    }
  }

  /** Writes `count` whole bytes of `src` from `offset`. */
  writeBytes(src: Uint8Array, offset: number, count: number): void {
    const shift = this.length & 7;
    const bytes = this.bytes;
    let at = this.start + (this.length >>> 3);
    for (let i = 0; i < count; i++) {
      const b = src[offset + i]!;
      bytes[at]! |= b >>> shift;
      bytes[++at] = (b << (8 - shift)) & 0xff;
    }
    this.length += 8 * count;
  }

  /**
   * Appends the completion tag of the cell representation (a 1 bit, then zeros to the byte
   * boundary) when the data is not byte aligned, and returns the data length in bytes,
   * ceil(length / 8). The bit length itself is unchanged. TON whitepaper / tvm.pdf §3.1.4.
   */
  padWithCompletionTag(): number {
    const rem = this.length & 7;
    if (rem !== 0) this.bytes[this.start + (this.length >>> 3)]! |= 0x80 >>> rem;
    return (this.length + 7) >>> 3;
  }
}

/** Reads bits from `bytes`, most significant first; throws RangeError past `length` bits. */
export class BitReader {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    readonly length: number,
  ) {}

  /** Bits not read yet. */
  get remaining(): number {
    return this.length - this.pos;
  }

  /** Reads one bit as 0 or 1. */
  readBit(): number {
    if (this.pos >= this.length) throw new RangeError('read past the end of the cell data');
    const bit = (this.bytes[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  /** Reads `bits` bits (0 ≤ bits ≤ 32) as an unsigned number. */
  readUint(bits: number): number {
    let value = 0;
    for (let i = 0; i < bits; i++) value = value * 2 + this.readBit();
    return value;
  }

  /** Reads `count` whole bytes. */
  readBytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.readUint(8);
    return out;
  }
}
