import { Address } from '@ton/core';
import { randomBytes } from 'node:crypto';
import { buildRewardsTree } from '../../domain/merkle/index.ts';
const n = Number(process.argv[2] ?? 1_000_000);
const pool = randomBytes(32 * n);
const leaves = Array.from({ length: n }, (_, i) => ({ address: new Address(0, pool.subarray(i * 32, i * 32 + 32)), amount: 1_000_000_000n + BigInt(i) * 7919n }));
global.gc?.();
console.log('input rss MB', process.memoryUsage().rss >> 20, 'heap', process.memoryUsage().heapUsed >> 20);
for (let r = 0; r < 3; r++) {
let t = performance.now();
const tree = buildRewardsTree(leaves);
console.log('build ms', (performance.now() - t).toFixed(0), tree.rootHex.slice(0, 16));
t = performance.now();
const p = tree.proofForRange(n >> 1, 200);
console.log('proof200 ms', (performance.now() - t).toFixed(1), p.toBoc().length);
t = performance.now();
tree.proof([n - 1]);
console.log('proof1 ms', (performance.now() - t).toFixed(1));
console.log('rss MB', process.memoryUsage().rss >> 20, 'heap', process.memoryUsage().heapUsed >> 20);
}
