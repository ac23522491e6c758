/**
 * Benchmark of the chain indexer (producers/chain/indexer.ts, issue 12): transactions indexed per
 * second, against the raw read of the same transactions from the same chain in the same run.
 *
 * Setup: the local chain (chain/localChain.ts) with the pool's contracts, the emulated Cocoon proxy
 * and the stand-in root (emulator/), `PAYOUTS` Cocoon payouts relayed to the distribution contract
 * in sends of 255 (each one distribution transaction that is revenue); a real nats-server.
 * - raw: `getTransactions` of the distribution in pages of 200 (the indexer's page), read after the
 *   indexer ran so that both find the transactions already decoded (LocalChain caches them);
 * - indexer: `indexOnce` until caught up, with the real NATS event store, cursor bucket and proxy
 *   checker: read, map to events, append, cursor per page.
 * The indexer must stay far above any pool's payout rate: for scale, the emulated proxy
 * paying every worker every 3 s at 1,000 workers made ~330 revenue transactions a second.
 *
 * Usage: `npm run bench -- chain-indexer` or `node --import tsx bench/chain-indexer.bench.ts [payouts=5000]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openLocalChain } from '../chain/localChain.ts';
import { deployPoolContracts } from '../chain/poolContracts.ts';
import { indexOnce, type ChainIndexerOptions } from '../producers/chain/indexer.ts';
import { openCursorStore } from '../streams/cursors.ts';
import { deadLetterTo } from '../streams/deadLetter.ts';
import { emulatedCocoon } from '../tests/support/cocoonRoot.ts';
import { startTestNats } from '../tests/support/nats.ts';

const PAYOUTS = Number(process.argv[2] ?? 5000);
const PAGE = 200;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chain-indexer-bench-'));
  const nats = await startTestNats();
  try {
    const chain = await openLocalChain({ dir: join(dir, 'chain'), wallets: ['operator', 'proxy-1'] });
    const contracts = await deployPoolContracts(chain, 'operator');
    const cocoon = await emulatedCocoon(chain, nats.store);
    const fillStarted = performance.now();
    for (let sent = 0; sent < PAYOUTS; sent += 255) {
      const n = Math.min(255, PAYOUTS - sent);
      await cocoon.pay(contracts.distribution, Array.from({ length: n }, (_, i) => ({ value: 1_000_000_000n, queryId: BigInt(sent + i + 1) })));
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;

    const options: ChainIndexerOptions = {
      chain,
      contracts: [{ name: 'distribution', address: contracts.distribution }],
      proxies: cocoon.proxies,
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
    // raw: the same transactions read again from the same chain, page by page (after the indexer,
    // so both reads find them decoded in the local chain's cache: the raw figure is the pure read)
    const rawStarted = performance.now();
    let rawCount = 0;
    let afterLt: bigint | undefined;
    for (;;) {
      const page = await chain.getTransactions(contracts.distribution, { afterLt, limit: PAGE });
      if (!page.length) break;
      rawCount += page.length;
      afterLt = page[page.length - 1]!.lt;
    }
    const rawSeconds = (performance.now() - rawStarted) / 1000;

    const revenue = (await nats.store.readSubject('pool.chain.distribution')).filter((e) => e.type === 'PoolRevenueReceived' && e.data.knownProxy).length;
    await chain.close();
    if (indexed !== rawCount) throw new Error(`indexed ${indexed} transactions, the raw read saw ${rawCount}`);
    if (revenue !== PAYOUTS) throw new Error(`${revenue} proxy revenue events for ${PAYOUTS} payouts`);

    const rawRate = rawCount / rawSeconds;
    const indexRate = indexed / indexSeconds;
    const row = (name: string, value: string, ratio = '') => console.log(name.padEnd(62) + value.padStart(16) + ratio.padStart(26));
    row('figure', 'value', 'ratio');
    row(`distribution transactions (${PAYOUTS} payouts + deploy)`, String(rawCount));
    row('making them on the local chain (sends of 255)', `${(rawCount / fillSeconds).toFixed(0)} tx/s`);
    row(`raw: getTransactions, pages of ${PAGE}`, `${rawRate.toFixed(0)} tx/s`);
    row('chain indexer: read + map + append to NATS + cursor', `${indexRate.toFixed(0)} tx/s`, `${(indexRate / rawRate).toFixed(3)}x raw read`);
    row('chain indexer vs ~330 revenue tx/s (issue 12, 1k workers / 3 s)', `${indexRate.toFixed(0)} tx/s`, `${(indexRate / 330).toFixed(1)}x that rate`);
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
