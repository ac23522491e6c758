/**
 * The chain indexer reading the real pool contracts through the TON Center client over HTTP
 * (chain/toncenter/ → devnet/server.ts → local chain, @ton/sandbox) into a real JetStream, with
 * every fault of the endpoint switched on (429s, timeouts, late, duplicate, out-of-order and
 * skipped v3 rows): every Cocoon payout is booked as revenue exactly once, none missed, and the
 * indexer never sees a broken chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts } from '../../chain/poolContracts.ts';
import { openTonCenter } from '../../chain/toncenter/chain.ts';
import { cocoonPayoutBody } from '../../contracts/distribution.ts';
import { startDevnet, type Devnet } from '../../devnet/server.ts';
import { chainIndexerMetrics, indexOnce, type ChainIndexerOptions } from '../../producers/chain/indexer.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

let nats: TestNats;
let chain: LocalChain;
let devnet: Devnet;
const dir = mkdtempSync(join(tmpdir(), 'pool-indexer-toncenter-'));

test.before(async () => {
  nats = await startTestNats();
  chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
});
test.after(async () => {
  await devnet?.close();
  await chain.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('every fault on: each Cocoon payout booked once, none missed', async () => {
  const contracts = await deployPoolContracts(chain, 'operator');
  let now = chain.now() + 1;
  chain.setNow(now);
  devnet = await startDevnet({
    chain,
    blockSeconds: 1,
    finalityLagSeconds: 1,
    faults: { seed: 5, rateLimited: 0.25, timeouts: 0.05, hangMs: 100, lateRows: 0.3, lateSeconds: 2, duplicateRows: 0.5, outOfOrderRows: 0.5, skippedRows: 0.3 },
  });
  const tc = openTonCenter({ endpoint: devnet.url, rps: 200, retries: 15, minDelayMs: 10, timeoutMs: 5_000, pageSize: 5, logger: pino({ level: 'silent' }) });
  const metrics = chainIndexerMetrics();
  const options: ChainIndexerOptions = {
    chain: tc.reader,
    contracts: [
      { name: 'distribution', address: contracts.distribution },
      { name: 'registry', address: contracts.registry },
    ],
    knownProxies: [chain.walletAddress('proxy-1')],
    store: nats.store,
    cursors: await openCursorStore(nats.nc),
    deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    ...metrics,
  };
  const payouts = Array.from({ length: 12 }, (_, i) => BigInt(100 + i));
  for (const [i, queryId] of payouts.entries()) {
    if (i % 3 === 0) chain.setNow((now += 1));
    await chain.send('proxy-1', [{ to: contracts.distribution, value: 2_000_000_000n, body: cocoonPayoutBody({ queryId }), bounce: false }]);
  }

  const booked = async () => {
    const ids: string[] = [];
    for await (const b of nats.store.read({ types: ['PoolRevenueReceived'] })) {
      for (const e of b.events) if (e.type === 'PoolRevenueReceived') ids.push(String(e.data.queryId));
    }
    return ids;
  };
  await until('every payout indexed through TON Center', async () => {
    chain.setNow((now += 1)); // blocks close, become final; late rows show up
    for (const c of options.contracts) await indexOnce(c, options);
    return (await booked()).length >= payouts.length;
  });
  for (const c of options.contracts) await indexOnce(c, options); // once more: nothing new
  assert.equal((await booked()).sort(), payouts.map(String), 'each payout once');
  assert.equal((await metrics.continuityBreaks.get()).values, [], 'the reader never gave a broken chain');
  assert.ok(Object.values(tc.requests()).reduce((a, b) => a + b, 0) > 0);
});

test.run();
