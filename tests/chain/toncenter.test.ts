/**
 * The TON Center chain port (chain/toncenter/) against the devnet endpoint (devnet/server.ts: TON
 * Center v2/v3 over the real local chain, @ton/sandbox) over HTTP: paging and finality, every
 * fault the endpoint injects (429s, timeouts, late, duplicate, out-of-order and skipped v3 rows)
 * with 0 missed and 0 double-counted transactions, signed sends (accepted, refused, response
 * lost after landing), account reads, and the rate limit respected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, beginCell, external, internal, SendMode, storeMessage, toNano, type Cell, type Transaction } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { WalletContractV5R1 } from '@ton/ton';
import pino from 'pino';
import { Registry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChainUnavailableError, SendRejectedError } from '../../chain/client.ts';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { normalizedMessageHash } from '../../chain/messageHash.ts';
import { openTonCenter, type TonCenterChain, type TonCenterOptions } from '../../chain/toncenter/chain.ts';
import { blockOfTime } from '../../devnet/blocks.ts';
import type { DevnetFaults } from '../../devnet/faults.ts';
import { startDevnet, type Devnet } from '../../devnet/server.ts';
import { until } from '../support/until.ts';

const dir = mkdtempSync(join(tmpdir(), 'toncenter-'));
let chain: LocalChain;
let devnet: Devnet;
let account: Address;
/** chain time, moved by hand so that finality is decided by the test, not by the clock */
let now: number;

const silent = pino({ level: 'silent' });
function client(opts: Partial<TonCenterOptions> = {}): TonCenterChain {
  return openTonCenter({ endpoint: devnet.url, rps: 200, timeoutMs: 5_000, retries: 12, minDelayMs: 10, pageSize: 4, logger: silent, ...opts });
}

/** Moves chain time on by `seconds` (so the blocks before become final). */
function advance(seconds: number): void {
  now += seconds;
  chain.setNow(now);
}

/** `count` transfers a → account, three per synthetic block. */
async function transfers(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) advance(1);
    await chain.send('a', [{ to: account, value: 1_000_000n + BigInt(i) }]);
  }
}

/** Everything `reader` gives for `account`, read on in pieces of `limit` until `expected` are in. */
async function readAll(tc: TonCenterChain, expected: number, limit = 5): Promise<Transaction[]> {
  const got: Transaction[] = [];
  await until(`${expected} transactions through TON Center`, async () => {
    const more = await tc.reader.getTransactions(account, { afterLt: got.at(-1)?.lt, limit });
    got.push(...more);
    if (!more.length) advance(1); // rows indexed late show up as chain time goes on
    return got.length >= expected;
  }, 120_000, 20);
  return got;
}

/** The failure codes `tc` retried after (pool_toncenter_retries_total's labels). */
async function retriedCodes(tc: TonCenterChain): Promise<string[]> {
  return (await metric(tc, 'pool_toncenter_retries_total')).map((v) => String(v.labels.code));
}

async function metric(tc: TonCenterChain, name: string) {
  const registry = new Registry();
  for (const m of tc.metrics) registry.registerMetric(m);
  return (await registry.getSingleMetric(name)!.get()).values;
}

const ids = (txs: Transaction[]) => txs.map((t) => `${t.lt}:${t.hash().toString('hex')}`);

test.before(async () => {
  chain = await openLocalChain({ dir, wallets: ['a', 'b'] });
  account = chain.walletAddress('b');
  now = chain.now() + 1;
  chain.setNow(now);
  devnet = await startDevnet({ chain, blockSeconds: 1, finalityLagSeconds: 0 });
});
test.after(async () => {
  await devnet.close();
  await chain.close();
  rmSync(dir, { recursive: true, force: true });
});

test('paging and finality: only transactions of final blocks, each once, in order; then the rest', async () => {
  advance(2);
  const before = await chain.getTransactions(account, {});
  await transfers(9);
  const tc = client();
  // the block of the last three transactions is still open: not final
  const lastBlock = blockOfTime(now, 1);
  const first = await tc.reader.getTransactions(account, {});
  const all = await chain.getTransactions(account, {});
  assert.ok(first.length >= before.length && first.length < all.length, `${first.length} of ${all.length} read before finality`);
  for (const tx of first) assert.ok(blockOfTime(tx.now, 1) < lastBlock, 'nothing from the open block');
  assert.equal(ids(first), ids(all.slice(0, first.length)));
  advance(1);
  // the reader asks for the final block again at most once a second
  const rest: Transaction[] = [];
  await until('the rest, once final', async () => {
    rest.push(...(await tc.reader.getTransactions(account, { afterLt: (rest.at(-1) ?? first.at(-1)!).lt })));
    return first.length + rest.length >= all.length;
  });
  assert.equal(ids([...first, ...rest]), ids(all));
  assert.equal(await tc.reader.getTransactions(account, { afterLt: all.at(-1)!.lt }), []);

  // the same history in small pieces: each piece goes on from the last one returned
  assert.equal(ids(await readAll(client(), all.length, 3)), ids(all));

  // what a clean read costs: one v3 page, one v2 walk-back, one masterchainInfo (100 rows a page)
  const once = client({ pageSize: 100 });
  assert.is((await once.reader.getTransactions(account, {})).length, all.length);
  assert.equal(once.requests(), { 'v3.transactions': 1, 'v3.masterchainInfo': 1, 'v2.getTransactions': 1 });
});

const FAULTS: [string, DevnetFaults][] = [
  ['429s', { rateLimited: 0.4 }],
  ['timeouts', { timeouts: 0.15, hangMs: 100 }],
  ['late rows', { lateRows: 0.4, lateSeconds: 3 }],
  ['duplicate rows', { duplicateRows: 1 }],
  ['out-of-order rows', { outOfOrderRows: 1 }],
  ['pages that skip a transaction', { skippedRows: 0.4 }],
  ['all of them', { rateLimited: 0.3, timeouts: 0.1, hangMs: 100, lateRows: 0.3, lateSeconds: 3, duplicateRows: 0.5, outOfOrderRows: 0.5, skippedRows: 0.3 }],
];

for (const [name, faults] of FAULTS) {
  test(`faults, ${name}: 0 missed, 0 double-counted`, async () => {
    await transfers(7);
    advance(1); // every block final; late rows not shown yet
    const all = await chain.getTransactions(account, {});
    devnet.setFaults({ seed: 11, ...faults });
    try {
      const tc = client();
      const got = await readAll(tc, all.length);
      assert.equal(ids(got), ids(all), 'every transaction once, in order');
      assert.equal(await tc.reader.getTransactions(account, { afterLt: got.at(-1)!.lt }), []);
      if (faults.rateLimited) assert.ok((await retriedCodes(tc)).includes('rate-limited'), '429s were met and retried');
      if (faults.timeouts) assert.ok((await retriedCodes(tc)).length > 0, 'timeouts were met and retried');
      if (faults.skippedRows) {
        const [refills] = await metric(tc, 'pool_toncenter_gap_refills_total');
        assert.ok((refills?.value ?? 0) > 0, 'transactions missing from v3 pages were refilled from v2');
      }
    } finally {
      devnet.setFaults({});
    }
  });
}

/** A funded, undeployed wallet v5r1 and a signed transfer from it (the external-in Message cell). */
async function signedTransfer(seqno = 0): Promise<{ wallet: WalletContractV5R1; message: Cell }> {
  const keys = await mnemonicToPrivateKey(await mnemonicNew());
  const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey });
  await chain.mint(wallet.address, toNano('5'));
  const body = wallet.createTransfer({ seqno, secretKey: keys.secretKey, sendMode: SendMode.PAY_GAS_SEPARATELY, messages: [internal({ to: account, value: toNano('1') })] });
  const message = beginCell().store(storeMessage(external({ to: wallet.address, init: wallet.init, body }))).endCell();
  return { wallet, message };
}

/** The wallet's transaction carrying the external message with `hash` (normalized), once final. */
async function landed(tc: TonCenterChain, wallet: Address, hash: Buffer): Promise<Transaction> {
  return until('the wallet transaction of the message', async () => {
    advance(1);
    const txs = await tc.reader.getTransactions(wallet, {});
    return txs.find((t) => t.inMessage?.info.type === 'external-in' && normalizedMessageHash(t.inMessage).equals(hash));
  });
}

test('sends: accepted (found by its normalized hash), refused when replayed, lost response after landing', async () => {
  const tc = client();
  const { wallet, message } = await signedTransfer();
  const { normalizedHash } = await tc.sender.sendMessage(message);
  assert.ok(normalizedHash.equals(normalizedMessageHash(message)));
  await landed(tc, wallet.address, normalizedHash);
  try {
    await tc.sender.sendMessage(message);
    assert.unreachable('a replayed message is refused');
  } catch (err) {
    assert.instance(err, SendRejectedError);
  }

  const lost = await signedTransfer();
  devnet.setFaults({ lostSendResponses: 1 });
  try {
    await tc.sender.sendMessage(lost.message);
    assert.unreachable('the response was lost');
  } catch (err) {
    assert.instance(err, ChainUnavailableError);
  } finally {
    devnet.setFaults({});
  }
  assert.is(tc.requests()['v2.sendBoc'], 3, 'a send whose outcome is unknown is not repeated');
  await landed(tc, lost.wallet.address, normalizedMessageHash(lost.message));
});

test('accounts, get-methods and chain time', async () => {
  const tc = client();
  const info = await tc.reader.getAccount(account);
  const local = await chain.getAccount(account);
  assert.equal([info.state, info.balance, info.codeHash?.toString('hex'), info.lastTransaction?.lt], [local.state, local.balance, local.codeHash?.toString('hex'), local.lastTransaction?.lt]);
  const nobody = await tc.reader.getAccount(new Address(0, Buffer.alloc(32, 7)));
  assert.equal([nobody.state, nobody.balance, nobody.codeHash, nobody.lastTransaction], ['none', 0n, null, null]);
  const t1 = await tc.reader.chainTime();
  advance(3);
  const t2 = await tc.reader.chainTime();
  assert.ok(t2 > t1 && t2 <= now, `final block time moves on with the chain (${t1} → ${t2}, chain ${now})`);
  assert.throws(() => openTonCenter({ endpoint: devnet.url, apiKeyEnv: 'NO_SUCH_TONCENTER_KEY', logger: silent, env: {} }), /NO_SUCH_TONCENTER_KEY/);
});

test('rate limit: paced under the key\'s limit no request is refused; unpaced, 429s are retried', async () => {
  const limited = await startDevnet({ chain, blockSeconds: 1, rateLimit: { withoutKey: 1, withKey: 3 } });
  try {
    // 2 per second is over the keyless limit: no 429 shows that the key is sent
    const paced = openTonCenter({ endpoint: limited.url, apiKeyEnv: 'TEST_TONCENTER_KEY', env: { TEST_TONCENTER_KEY: 'k1' }, rps: 2, retries: 12, minDelayMs: 50, logger: silent });
    const started = Date.now();
    for (let i = 0; i < 7; i++) await paced.reader.chainTime();
    assert.ok(Date.now() - started >= 2_900, '7 requests at 2 per second take 3 s at least');
    assert.equal(await retriedCodes(paced), [], 'no 429 met');

    const unpaced = openTonCenter({ endpoint: limited.url, rps: 1_000, retries: 20, minDelayMs: 50, logger: silent });
    await Promise.all(Array.from({ length: 8 }, () => unpaced.reader.chainTime()));
    assert.ok((await retriedCodes(unpaced)).includes('rate-limited'), 'the limit was met and retried');
  } finally {
    await limited.close();
  }
});

test.run();
