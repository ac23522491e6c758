import { Address, beginCell, Dictionary, type DictionaryValue } from '@ton/core';
import { randomBytes } from 'node:crypto';
import { buildRewardsTree, readRewardsProof, type RewardLeaf } from '../../domain/merkle/index.ts';
const V: DictionaryValue<RewardLeaf> = { serialize: (v, b) => { b.storeAddress(v.address); b.storeCoins(v.amount); },
  parse: (s) => ({ address: s.loadAddress(), amount: s.loadCoins() }) };
let bad = 0;
for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 17, 100, 257]) {
  const leaves = Array.from({ length: n }, (_, i) => ({ address: new Address(i % 3 ? 0 : -1, randomBytes(32)), amount: BigInt(i + 1) * 1000n + (i % 5 === 0 ? (1n << 119n) : 0n) }));
  const dict = Dictionary.empty(Dictionary.Keys.Uint(32), V); leaves.forEach((l, i) => dict.set(i, l));
  const root = beginCell().storeDictDirect(dict).endCell();
  const t = buildRewardsTree(leaves);
  const ok = root.hash().equals(t.root) && root.toBoc().equals(t.toCell().toBoc());
  const keys = [0, n - 1, n >> 1];
  const p1 = dict.generateMerkleProof(keys).toBoc();
  const p2 = t.proof(keys).toBoc();
  const got = readRewardsProof(t.proof(keys), t.root);
  console.log(n, ok, p1.equals(p2), [...got.keys()]);
  if (!ok || !p1.equals(p2)) bad++;
}
process.exit(bad ? 1 : 0);
