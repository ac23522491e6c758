/**
 * Seeded pseudo-random numbers for the emulator (deterministic per seed; not for cryptography).
 * Generator: a 32-bit Weyl sequence (step 0x6d2b79f5) passed through an xorshift-multiply
 * finaliser — small, fast, and good enough to pick token counts and faults.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** `n` random bytes as UPPERCASE hex (td::Bits256::to_hex style when n = 32). */
  hex(n: number): string;
}

/** A generator for `seed` and a named stream, so independent consumers never shift each other's draws. */
export function createPrng(seed: number, stream: string): Prng {
  let state = (seed ^ hashString(stream)) >>> 0;
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  return {
    next: () => next32() / 4294967296,
    int: (min, max) => min + Math.floor((next32() / 4294967296) * (max - min + 1)),
    hex: (n) => {
      let out = '';
      for (let i = 0; i < n; i++) out += (next32() & 0xff).toString(16).padStart(2, '0');
      return out.toUpperCase();
    },
  };
}

/** FNV-1a 32-bit of the stream name. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
