/**
 * The reference the rewards tree must equal bit for bit: @ton/core 0.63.1's Dictionary over
 * `HashmapE 32` with value `address:MsgAddressInt amount:Coins` (the brief in the Merkle task),
 * and seeded leaf generators for the merkle tests.
 */
import { Address, beginCell, type Cell, Dictionary, type DictionaryValue } from '@ton/core';
import type { RewardLeaf } from '../../domain/merkle/index.ts';
import { prng } from '../support/random.ts';

export const LEAF_VALUE: DictionaryValue<RewardLeaf> = {
  serialize: (v, b) => {
    b.storeAddress(v.address);
    b.storeCoins(v.amount);
  },
  parse: (s) => ({ address: s.loadAddress(), amount: s.loadCoins() }),
};

/** @ton/core's dictionary of `leaves` keyed by position. */
export function coreDictionary(leaves: readonly RewardLeaf[]): Dictionary<number, RewardLeaf> {
  const dict = Dictionary.empty(Dictionary.Keys.Uint(32), LEAF_VALUE);
  leaves.forEach((l, i) => dict.set(i, l));
  return dict;
}

/** @ton/core's dictionary root cell (`storeDictDirect`). */
export function coreRootCell(dict: Dictionary<number, RewardLeaf>): Cell {
  return beginCell().storeDictDirect(dict).endCell();
}

const EDGE_AMOUNTS = [1n, 2n, 255n, 256n, (1n << 53n) - 1n, 1n << 53n, (1n << 64n) + 7n, (1n << 120n) - 1n];

/**
 * `count` seeded leaves: random 256-bit hashes in workchains 0 and -1, amounts mixing the edges
 * of Coins (1, 2^120-1, byte and 2^53 boundaries) with ordinary nanoTON sums.
 */
export function makeLeaves(count: number, seed: number): RewardLeaf[] {
  const rand = prng(seed);
  const leaves: RewardLeaf[] = [];
  for (let i = 0; i < count; i++) {
    const hash = Buffer.alloc(32);
    for (let j = 0; j < 32; j++) hash[j] = Math.floor(rand() * 256);
    const workchain = rand() < 0.3 ? -1 : 0;
    const pick = rand();
    const amount =
      pick < 0.25 ? EDGE_AMOUNTS[Math.floor(rand() * EDGE_AMOUNTS.length)]! : BigInt(1 + Math.floor(rand() * 1e12)) * (pick < 0.5 ? 1_000_000n : 1n);
    leaves.push({ address: new Address(workchain, hash), amount });
  }
  return leaves;
}

/** Seeded random generator re-exported for the merkle tests. */
export { prng };

/** Asserts `fn` throws an instance of `type` whose message matches `message` (when given). */
export function throwsA(fn: () => unknown, type: new (...args: never[]) => Error, message?: RegExp, label?: string): Error {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof type)) throw new Error(`${label ?? 'call'}: expected ${type.name}, got ${String(e)}`);
    if (message && !message.test(e.message)) throw new Error(`${label ?? 'call'}: ${type.name} message "${e.message}" does not match ${message}`);
    return e;
  }
  throw new Error(`${label ?? 'call'}: expected ${type.name}, nothing was thrown`);
}
