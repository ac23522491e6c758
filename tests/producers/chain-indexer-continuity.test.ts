/**
 * The chain indexer's continuity checks, on the real contracts of the local chain (@ton/sandbox)
 * and a real JetStream: a chain reader that leaves out a transaction (a fault injector wrapping
 * the real local chain) makes the indexer stop before the hole, loudly, and retry; once the
 * reader gives it, every revenue transaction is booked exactly once. An old `{lt}` cursor is
 * migrated to `{lt, hash}`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address, Transaction } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChainReader } from '../../chain/client.ts';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { cocoonPayoutBody } from '../../contracts/distribution.ts';
import { chainIndexerMetrics, indexOnce, type ChainIndexerOptions, type IndexedContract } from '../../producers/chain/indexer.ts';
import { openCursorStore, type CursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let chain: LocalChain;
let contracts: PoolContracts;
let cursors: CursorStore;
const dir = mkdtempSync(join(tmpdir(), 'pool-indexer-continuity-'));

/** The local chain as a reader that leaves out the transactions whose lt is in `hidden`. */
class HidingReader implements ChainReader {
  readonly hidden = new Set<bigint>();
  constructor(private readonly inner: LocalChain) {}
  async getTransactions(address: Address, opts: { afterLt?: bigint; limit?: number }): Promise<Transaction[]> {
    return (await this.inner.getTransactions(address, opts)).filter((tx) => !this.hidden.has(tx.lt));
  }
  runGetMethod: ChainReader['runGetMethod'] = (...args) => this.inner.runGetMethod(...args);
  getAccount: ChainReader['getAccount'] = (address) => this.inner.getAccount(address);
  chainTime: ChainReader['chainTime'] = () => this.inner.chainTime();
}

test.before(async () => {
  nats = await startTestNats();
  chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
  contracts = await deployPoolContracts(chain, 'operator');
  cursors = await openCursorStore(nats.nc);
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

function optionsWith(reader: ChainReader): ChainIndexerOptions {
  return {
    chain: reader,
    contracts: [{ name: 'distribution', address: contracts.distribution }],
    knownProxies: [chain.walletAddress('proxy-1')],
    store: nats.store,
    cursors,
    deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    ...chainIndexerMetrics(),
  };
}

async function revenueQueryIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const b of nats.store.read({ types: ['PoolRevenueReceived'] })) {
    for (const e of b.events) if (e.type === 'PoolRevenueReceived') ids.push(String(e.data.queryId));
  }
  return ids;
}

async function pay(queryId: bigint): Promise<void> {
  await chain.send('proxy-1', [{ to: contracts.distribution, value: 1_000_000_000n, body: cocoonPayoutBody({ queryId }), bounce: false }]);
}

async function distributionTx(queryId: bigint): Promise<Transaction> {
  const all = await chain.getTransactions(contracts.distribution, {});
  const tx = all.find((t) => {
    const body = t.inMessage?.body;
    if (body === undefined || body.bits.length < 96) return false;
    const s = body.beginParse();
    return s.loadUint(32) === 0xc59a7cd3 && s.loadUintBig(64) === queryId;
  });
  assert.ok(tx, `the payout ${queryId} ran on the distribution contract`);
  return tx!;
}

test('a reader that skips a transaction: the indexer stops before it, loudly, retries, and never skips', async () => {
  const reader = new HidingReader(chain);
  const options = optionsWith(reader);
  const distribution: IndexedContract = options.contracts[0]!;
  for (const q of [1n, 2n, 3n]) await pay(q);
  reader.hidden.add((await distributionTx(2n)).lt);

  await indexOnce(distribution, options);
  assert.equal(await revenueQueryIds(), ['1'], 'indexed up to the hole, not past it');
  assert.is((await options.continuityBreaks!.get()).values[0]?.value, 1);
  assert.is(await indexOnce(distribution, options), 0, 'still the hole: nothing read');
  assert.is((await options.continuityBreaks!.get()).values[0]?.value, 2, 'and loud again');
  const stuck = await cursors.get<{ lt: string; hash: string }>('chain.distribution');
  assert.is(stuck?.lt, String((await distributionTx(1n)).lt));

  reader.hidden.clear();
  assert.ok((await indexOnce(distribution, options)) >= 2);
  assert.is(await indexOnce(distribution, options), 0);
  assert.equal(await revenueQueryIds(), ['1', '2', '3'], 'each payout booked exactly once');
  const cursor = await cursors.get<{ lt: string; hash: string }>('chain.distribution');
  const tip = await distributionTx(3n);
  assert.equal(cursor, { lt: String(tip.lt), hash: tip.hash().toString('hex') });
});

test('an old {lt} cursor is migrated to {lt, hash} and indexing goes on from it', async () => {
  const options = optionsWith(chain);
  const distribution = options.contracts[0]!;
  const tip = await distributionTx(3n);
  await cursors.put('chain.distribution', { lt: String(tip.lt) });
  await pay(4n);
  assert.is(await indexOnce(distribution, options), 1);
  assert.equal(await revenueQueryIds(), ['1', '2', '3', '4']);
  const fourth = await distributionTx(4n);
  assert.equal(await cursors.get('chain.distribution'), { lt: String(fourth.lt), hash: fourth.hash().toString('hex') });
  assert.is((await options.continuityBreaks!.get()).values.length, 0, 'no break on a migrated cursor');

  // a cursor whose hash is not the chain's: the next transaction does not link to it
  await cursors.put('chain.distribution', { lt: String(fourth.lt), hash: 'ab'.repeat(32) });
  await pay(5n);
  assert.is(await indexOnce(distribution, options), 0);
  assert.is((await options.continuityBreaks!.get()).values[0]?.value, 1);
  assert.equal(await revenueQueryIds(), ['1', '2', '3', '4']);
});

test.run();
