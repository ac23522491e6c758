/**
 * Benchmark of the chain indexer (producers/chain/indexer.ts, issue 12): transactions indexed per
 * second, against the raw read of the same transactions from the same chain in the same run.
 *
 * Setup: the local chain (chain/localChain.ts) with the pool's contracts, the emulated Cocoon proxy
 * and the stand-in root (emulator/), `MEMBERS` members' forwarders (contracts/forwarder.ts) and
 * `PAYOUTS` Cocoon payouts to them in sends of 255, each forwarded to the distribution contract:
 * one distribution transaction that is MemberRevenueReceived; a real nats-server.
 * Both reads start from the chain reopened from its files (nothing decoded in memory yet):
 * - raw: `getTransactions` of the distribution in pages of 200 (the indexer's page);
 * - indexer: `indexOnce` until caught up, with the real NATS event store, cursor bucket and proxy
 *   checker: read, map to events (the forwarder address recomputed per forward), append, cursor.
 * The indexer must stay far above any pool's payout rate: for scale, the issue's emulated proxy
 * paying every worker every 3 s at 1,000 workers made ~330 revenue transactions a second.
 *
 * Usage: `npm run bench -- chain-indexer` or `node --import tsx bench/chain-indexer.bench.ts [payouts=5000] [members=100]`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address } from '@ton/core';
import pino from 'pino';
import { openLocalChain } from '../chain/localChain.ts';
import { deployPoolContracts } from '../chain/poolContracts.ts';
import { memberForwarderInit } from '../contracts/forwarder.ts';
import { relayedPayouts } from '../emulator/proxy.ts';
import { indexOnce, type ChainIndexerOptions } from '../producers/chain/indexer.ts';
import { openProxyAuthenticity } from '../producers/chain/proxyAuthenticity.ts';
import { openCursorStore } from '../streams/cursors.ts';
import { deadLetterTo } from '../streams/deadLetter.ts';
import { emulatedCocoon } from '../tests/support/cocoonRoot.ts';
import { startTestNats } from '../tests/support/nats.ts';

const PAYOUTS = Number(process.argv[2] ?? 5000);
const MEMBERS = Number(process.argv[3] ?? 100);
const PAGE = 200;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chain-indexer-bench-'));
  const chainDir = join(dir, 'chain');
  const nats = await startTestNats();
  try {
    const chain = await openLocalChain({ dir: chainDir, wallets: ['operator', 'proxy-1'] });
    const contracts = await deployPoolContracts(chain, 'operator');
    const cocoon = await emulatedCocoon(chain, nats.store);
    const forwarders: Address[] = [];
    for (let m = 0; m < MEMBERS; m++) {
      const init = await memberForwarderInit(contracts.distribution, new Address(0, randomBytes(32)));
      forwarders.push((await chain.deploy('operator', { code: init.code!, data: init.data! }, 50_000_000n)).address);
    }
    const fillStarted = performance.now();
    for (let sent = 0; sent < PAYOUTS; sent += 255) {
      const n = Math.min(255, PAYOUTS - sent);
      const messages = Array.from({ length: n }, (_, i) => relayedPayouts(cocoon.proxy, forwarders[(sent + i) % MEMBERS]!, [{ value: 1_000_000_000n, queryId: BigInt(sent + i + 1) }])).flat();
      const result = await chain.send('proxy-1', messages);
      if (result.transactions.some((t) => t.aborted)) throw new Error('a payout transaction aborted');
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    await chain.close();

    // raw: the same transactions read from the same chain, reopened, page by page
    const rawChain = await openLocalChain({ dir: chainDir });
    const rawStarted = performance.now();
    let rawCount = 0;
    let afterLt: bigint | undefined;
    for (;;) {
      const page = await rawChain.getTransactions(contracts.distribution, { afterLt, limit: PAGE });
      if (!page.length) break;
      rawCount += page.length;
      afterLt = page[page.length - 1]!.lt;
    }
    const rawSeconds = (performance.now() - rawStarted) / 1000;
    await rawChain.close();

    const indexChain = await openLocalChain({ dir: chainDir });
    const options: ChainIndexerOptions = {
      chain: indexChain,
      contracts: [{ name: 'distribution', address: contracts.distribution }],
      proxies: await openProxyAuthenticity({ reader: indexChain, root: cocoon.root, store: nats.store }),
      store: nats.store,
      cursors: await openCursorStore(nats.nc),
      deadLetter: deadLetterTo(nats.js),
      logger: pino({ level: 'silent' }),
      signal: new AbortController().signal,
    };
    const indexStarted = performance.now();
    let indexed = 0;
    for (let n; (n = await indexOnce(options.contracts[0]!, options)) > 0;) indexed += n;
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    await indexChain.close();
    const revenue = (await nats.store.readSubject('pool.chain.distribution')).filter((e) => e.type === 'MemberRevenueReceived' && e.data.knownProxy && e.data.verifiedTokens !== null).length;
    if (indexed !== rawCount) throw new Error(`indexed ${indexed} transactions, the raw read saw ${rawCount}`);
    if (revenue !== PAYOUTS) throw new Error(`${revenue} verified member revenue events for ${PAYOUTS} payouts`);

    const rawRate = rawCount / rawSeconds;
    const indexRate = indexed / indexSeconds;
    const row = (name: string, value: string, ratio = '') => console.log(name.padEnd(66) + value.padStart(16) + ratio.padStart(22));
    row('figure', 'value', 'ratio');
    row(`distribution transactions (${PAYOUTS} forwarded payouts of ${MEMBERS} members + deploy)`, String(rawCount));
    row('making them on the local chain (proxy → forwarder → distribution)', `${(PAYOUTS / fillSeconds).toFixed(0)} payouts/s`);
    row(`raw: getTransactions from the reopened chain, pages of ${PAGE}`, `${rawRate.toFixed(0)} tx/s`);
    row('chain indexer: read + map + append to NATS + cursor', `${indexRate.toFixed(0)} tx/s`, `${(indexRate / rawRate).toFixed(3)}x raw read`);
    row('chain indexer vs ~330 revenue tx/s (issue 12: 1k workers / 3 s)', `${indexRate.toFixed(0)} tx/s`, `${(indexRate / 330).toFixed(1)}x that rate`);
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
