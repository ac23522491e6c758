/**
 * SHA-256 (FIPS 180-4) for the short messages of cell representations, written to hash millions
 * of 40–72 byte inputs without allocating: the message is padded in place in the caller's
 * buffer and the digest is written into a caller's array. node:crypto costs ~1 µs per call at
 * these sizes (call overhead, not hashing); this runs one 64-byte block in ~0.4 µs.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const W = new Int32Array(64);
const H = new Int32Array(8);

/** Bytes the buffer must hold to hash a message of `len` bytes in place (message + padding). */
export function paddedLength(len: number): number {
  return (len + 9 + 63) & ~63;
}

function compress(block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  rounds();
}

/** The 64 rounds over the block already in W[0..15] (message schedule expanded here), into H. */
function rounds(): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
  H[5] = (H[5]! + f) | 0;
  H[6] = (H[6]! + g) | 0;
  H[7] = (H[7]! + h) | 0;
}

/**
 * SHA-256 of `buf[0, len)`, written as 32 bytes to `out[outOffset, outOffset + 32)`.
 * Pads in place: `buf` must hold `paddedLength(len)` bytes and its bytes from `len` on are
 * overwritten. `len` < 2^29 (the bit length is written as 32 bits). Throws RangeError when
 * `buf` is too short.
 */
export function sha256Into(buf: Uint8Array, len: number, out: Uint8Array, outOffset: number): void {
  const total = paddedLength(len);
  if (buf.length < total) throw new RangeError(`sha256Into: buffer holds ${buf.length} bytes, needs ${total}`);
  buf[len] = 0x80;
  buf.fill(0, len + 1, total - 4);
  const bits = len * 8;
  buf[total - 4] = bits >>> 24;
  buf[total - 3] = (bits >>> 16) & 0xff;
  buf[total - 2] = (bits >>> 8) & 0xff;
  buf[total - 1] = bits & 0xff;
  H.set(H0);
  for (let at = 0; at < total; at += 64) compress(buf, at);
  for (let i = 0; i < 8; i++) {
    const v = H[i]!;
    const o = outOffset + i * 4;
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
}

/**
 * SHA-256 of a message already padded (FIPS 180-4 §5.1.1) and laid out as big-endian 32-bit
 * words: `blocks` blocks of 16 words from `words[0]` on. The digest's 8 words go to
 * `out[outAt, outAt + 8)` (word i = bytes 4i..4i+3, big-endian). For callers that write a
 * message word by word (cellHash.ts): no byte buffer, no padding pass.
 */
export function sha256Words(words: Int32Array, blocks: number, out: Int32Array, outAt: number): void {
  H.set(H0);
  for (let b = 0; b < blocks; b++) {
    const at = b * 16;
    for (let i = 0; i < 16; i++) W[i] = words[at + i]!;
    rounds();
  }
  for (let i = 0; i < 8; i++) out[outAt + i] = H[i]!;
}
