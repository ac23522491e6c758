/**
 * What the TON Center chain port (chain/toncenter/) costs in requests, against the devnet
 * endpoint (devnet/server.ts over the local chain), as TON Center's rate limit (1 / 10 / 25 / 100
 * requests per second) makes requests the figure that matters:
 * - reading an account's history of N transactions at once (v3 pages of 100, v2 walk-backs of 100);
 * - an idle poll of one account;
 * - the chain side of an epoch close at 1k leaves: one root commit and five payout batches (≤ 200
 *   leaves each) to the distribution contract, the wallet's transactions, then polling the three
 *   pool contracts and the wallet every `poll` ms until all are read as final, with a 2 s finality
 *   lag (the sends are stand-in transfers: their transaction count, not their content, is what
 *   the reads cost);
 * - the same read with every devnet fault on.
 *
 * Usage: `npm run bench -- toncenter` (or `node --import tsx bench/toncenter.bench.ts [N=300] [poll=1000]`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transaction } from '@ton/core';
import pino from 'pino';
import { openLocalChain } from '../chain/localChain.ts';
import { openTonCenter, type TonCenterChain } from '../chain/toncenter/chain.ts';
import { startDevnet } from '../devnet/server.ts';

const N = Number(process.argv[2] ?? 300);
const POLL_MS = Number(process.argv[3] ?? 1000);
const logger = pino({ level: 'silent' });
const total = (tc: TonCenterChain) => Object.values(tc.requests()).reduce((a, b) => a + b, 0);

const dir = mkdtempSync(join(tmpdir(), 'toncenter-bench-'));
const chain = await openLocalChain({ dir, wallets: ['operator', 'sink', 'distribution', 'operatorContract', 'registry'] });
const devnet = await startDevnet({ chain, blockSeconds: 1, finalityLagSeconds: 2 });
const client = () => openTonCenter({ endpoint: devnet.url, rps: 500, retries: 15, minDelayMs: 10, timeoutMs: 5_000, logger });
const rows: [string, string][] = [];
try {
  // 1. history of N transactions
  const sink = chain.walletAddress('sink');
  for (let i = 0; i < N; i++) await chain.send('operator', [{ to: sink, value: 1000n + BigInt(i) }]);
  chain.setNow(chain.now() + 5);
  const all = await chain.getTransactions(sink, {});
  const clean = client();
  const read = await clean.reader.getTransactions(sink, {});
  if (read.length !== all.length) throw new Error(`read ${read.length} of ${all.length}`);
  rows.push([`history of ${all.length} transactions, one read`, `${total(clean)} requests ${JSON.stringify(clean.requests())}`]);
  const idle = client();
  await idle.reader.getTransactions(sink, { afterLt: all.at(-1)!.lt });
  rows.push(['idle poll of one account', `${total(idle)} request(s)`]);

  devnet.setFaults({ seed: 3, rateLimited: 0.3, timeouts: 0.05, hangMs: 100, lateRows: 0.3, lateSeconds: 3, duplicateRows: 0.5, outOfOrderRows: 0.5, skippedRows: 0.3 });
  const faulty = client();
  const got: Transaction[] = [];
  while (got.length < all.length) got.push(...(await faulty.reader.getTransactions(sink, { afterLt: got.at(-1)?.lt, limit: 200 })));
  const same = got.every((t, i) => t.hash().equals(all[i]!.hash()));
  devnet.setFaults({});
  rows.push([`same history, every fault on (${same ? 'identical' : 'DIFFERENT'})`, `${total(faulty)} requests ${JSON.stringify(faulty.requests())}`]);

  // 2. the chain side of an epoch close at 1k leaves
  chain.setNow(undefined);
  const accounts = ['distribution', 'operatorContract', 'registry', 'operator'].map((n) => chain.walletAddress(n));
  const epoch = client();
  const last = new Map<string, bigint | undefined>();
  for (const a of accounts) last.set(a.toRawString(), (await chain.getTransactions(a, {})).at(-1)?.lt);
  const before = total(epoch);
  const started = Date.now();
  for (let i = 0; i < 6; i++) await chain.send('operator', [{ to: accounts[0]!, value: 1_000_000n }]);
  const want = new Map(await Promise.all(accounts.map(async (a) => [a.toRawString(), (await chain.getTransactions(a, {})).at(-1)?.lt] as const)));
  let polls = 0;
  for (;;) {
    polls++;
    for (const a of accounts) {
      const txs = await epoch.reader.getTransactions(a, { afterLt: last.get(a.toRawString()), limit: 200 });
      if (txs.length) last.set(a.toRawString(), txs.at(-1)!.lt);
    }
    if (accounts.every((a) => last.get(a.toRawString()) === want.get(a.toRawString()))) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  rows.push([
    `epoch close at 1k leaves: 6 sends, 4 accounts polled every ${POLL_MS} ms, 2 s finality lag`,
    `${total(epoch) - before} read requests + 6 sendBoc over ${polls} polls, final after ${((Date.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(epoch.requests())}`,
  ]);
} finally {
  await devnet.close();
  await chain.close();
  rmSync(dir, { recursive: true, force: true });
}
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
