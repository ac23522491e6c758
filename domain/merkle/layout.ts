/**
 * The shape of the rewards dictionary: a TON `HashmapE 32` whose keys are exactly 0..count-1.
 *
 * Such a key set fixes the whole trie, so no key is ever compared. An edge covering the keys
 * 0..c-1 of an m-bit key space (every subtree is one, after dropping the key bits above it) is:
 * - c = 1: a leaf; its label is the m zero bits of key 0;
 * - c ≥ 2: with h = floor(log2(c - 1)), all keys agree on their top m - h - 1 bits (zeros): that
 *   is the label; then a fork on bit h: the left edge covers 0..2^h-1 (a full subtree) and the
 *   right edge covers 0..c-2^h-1, both in an h-bit key space.
 * The root edge covers 0..count-1 in 32 bits. Every label is a run of zeros.
 *
 * Cells are numbered in one array of 2·count − 1 ids: leaf i (key i) has id i; the fork between
 * keys j and j+1 (the last key of its left edge is j) has id count + j.
 */

/** Key length of the rewards dictionary in bits (`HashmapE 32`). */
export const KEY_BITS = 32;

/** For an edge over c ≥ 2 keys: h, the key bits below its fork; its left edge has 2^h keys. */
export function forkHeight(c: number): number {
  return 31 - Math.clz32(c - 1);
}

/** Cell depth of an edge over c ≥ 1 keys: 0 for a leaf, else ceil(log2 c). */
export function edgeDepth(c: number): number {
  return c <= 1 ? 0 : 32 - Math.clz32(c - 1);
}

/** Id of the cell of the edge over keys base..base+c-1 in a dictionary of `count` keys. */
export function edgeId(count: number, c: number, base: number): number {
  return c === 1 ? base : count + base + 2 ** forkHeight(c) - 1;
}
