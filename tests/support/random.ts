/** A small seeded PRNG (mulberry32) so property tests are reproducible: the seed is printed on failure. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bigint in [0, max). */
export function randomBigInt(rand: () => number, max: bigint): bigint {
  const digits = max.toString().length + 2;
  let s = '';
  for (let i = 0; i < digits; i++) s += Math.floor(rand() * 10);
  return BigInt(s) % max;
}
