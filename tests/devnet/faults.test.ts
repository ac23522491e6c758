/**
 * Fault injection of the devnet endpoint: each fault does what it says, over HTTP against a real
 * local chain (rates 1 and 0, so every run sees the same), and the seeded decisions of
 * devnet/faults.ts are reproducible for fractional rates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, SendMode, beginCell, external, internal, storeMessage, toNano } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { TonClient, WalletContractV5R1 } from '@ton/ton';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { Faults } from '../../devnet/faults.ts';
import { RATE_LIMIT_BODY, startDevnet, type Devnet } from '../../devnet/server.ts';
import { until } from '../support/until.ts';

const dirs: string[] = [];
test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function setup(options: Partial<Parameters<typeof startDevnet>[0]> = {}): Promise<{ chain: LocalChain; devnet: Devnet; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'devnet-faults-'));
  dirs.push(dir);
  const chain = await openLocalChain({ dir, wallets: ['operator'] });
  const devnet = await startDevnet({ chain, ...options });
  return { chain, devnet, close: async () => (await devnet.close(), await chain.close()) };
}

async function rows(devnet: Devnet, account: Address, query: Record<string, string | number> = {}): Promise<any[]> {
  const qs = new URLSearchParams({ account: account.toRawString(), sort: 'asc', ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
  const res = await fetch(`${devnet.url}/api/v3/transactions?${qs}`);
  assert.is(res.status, 200);
  return (await res.json()).transactions;
}

/** An account with `n` incoming transfers (one transaction each). */
async function accountWith(chain: LocalChain, n: number, fill: number): Promise<Address> {
  const account = new Address(0, Buffer.alloc(32, fill));
  for (let i = 1; i <= n; i++) await chain.mint(account, BigInt(i) * 1_000_000n);
  return account;
}

const putFaults = (devnet: Devnet, faults: unknown) =>
  fetch(`${devnet.url}/devnet/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });

test('rate limited: 429 with TON Center body on v2 and v3, TonClient throws; admin route switches it off', async () => {
  const s = await setup({ faults: { rateLimited: 1 } });
  try {
    const client = new TonClient({ endpoint: `${s.devnet.url}/api/v2/jsonRPC` });
    const operator = s.chain.walletAddress('operator');
    const v2 = await fetch(`${s.devnet.url}/api/v2/getAddressBalance?address=${operator.toString()}`);
    assert.equal([v2.status, await v2.json()], [429, RATE_LIMIT_BODY]);
    const v3 = await fetch(`${s.devnet.url}/api/v3/masterchainInfo`);
    assert.equal([v3.status, await v3.json()], [429, RATE_LIMIT_BODY]);
    assert.match(await client.getBalance(operator).then(String, (e: Error) => e.message), /429/);

    const status = await (await fetch(`${s.devnet.url}/devnet/status`)).json();
    assert.equal(status.faults, { rateLimited: 1 }, 'admin routes are never faulted');
    const bad = await putFaults(s.devnet, { rateLimited: 2, nonsense: true });
    assert.is(bad.status, 400);
    assert.match((await bad.json()).message, /rateLimited must be a number in 0\.\.1; unknown fault 'nonsense'|unknown fault 'nonsense'.*rateLimited/);
    assert.is((await putFaults(s.devnet, {})).status, 200);
    assert.is(await client.getBalance(operator), await s.chain.getBalance(operator));
  } finally {
    await s.close();
  }
});

test('timeouts: the request hangs, then the connection closes without an answer', async () => {
  const s = await setup({ faults: { timeouts: 1, hangMs: 300 } });
  try {
    const started = Date.now();
    const outcome = await fetch(`${s.devnet.url}/api/v3/masterchainInfo`).then((r) => `answered ${r.status}`, (e: Error) => `failed: ${(e.cause as Error)?.message ?? e.message}`);
    assert.match(outcome, /^failed/);
    assert.ok(Date.now() - started >= 250, 'it hung before closing');
    s.devnet.setFaults({});
    assert.is((await fetch(`${s.devnet.url}/api/v3/masterchainInfo`)).status, 200);
  } finally {
    await s.close();
  }
});

test('a lost response: sendBoc fails for the client, yet the message ran on chain', async () => {
  const s = await setup({ faults: { lostSendResponses: 1 } });
  try {
    const client = new TonClient({ endpoint: `${s.devnet.url}/api/v2/jsonRPC` });
    const keys = await mnemonicToPrivateKey(await mnemonicNew());
    const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey });
    await s.chain.mint(wallet.address, toNano('5'));
    const body = wallet.createTransfer({ seqno: 0, secretKey: keys.secretKey, sendMode: SendMode.PAY_GAS_SEPARATELY, messages: [internal({ to: s.chain.walletAddress('operator'), value: toNano('1') })] });
    const boc = beginCell().store(storeMessage(external({ to: wallet.address, init: wallet.init, body }))).endCell().toBoc();

    assert.is(await client.sendFile(boc).then(() => 'answered', () => 'lost'), 'lost');
    s.devnet.setFaults({});
    await until('the wallet to show the landed transfer', async () => (await client.open(wallet).getSeqno()) === 1);
    const resend = await client.sendFile(boc).then(() => 'accepted', (e: Error) => e.message);
    assert.match(resend, /500/, 'resubmitting the landed message is refused, not run twice');
  } finally {
    await s.close();
  }
});

test('late rows: v3 hides them until lateSeconds after their block closed, v2 shows them at once', async () => {
  const s = await setup({ faults: { lateRows: 1, lateSeconds: 5 } });
  try {
    const t0 = Math.floor(Date.now() / 1000) + 100;
    s.chain.setNow(t0);
    const account = await accountWith(s.chain, 2, 11);
    const client = new TonClient({ endpoint: `${s.devnet.url}/api/v2/jsonRPC` });
    assert.is((await client.getTransactions(account, { limit: 10 })).length, 2);
    assert.equal(await rows(s.devnet, account), []);
    s.chain.setNow(t0 + 5);
    assert.equal(await rows(s.devnet, account), [], 'the block closed at t0+1, so not before t0+6');
    s.chain.setNow(t0 + 6);
    assert.is((await rows(s.devnet, account)).length, 2);
  } finally {
    await s.close();
  }
});

test('duplicate rows, out-of-order rows, and a page that skips a transaction (only the first time)', async () => {
  const s = await setup();
  try {
    const account = await accountWith(s.chain, 4, 12);
    const truth = (await rows(s.devnet, account)).map((r) => r.hash);
    assert.is(truth.length, 4);

    s.devnet.setFaults({ duplicateRows: 1 });
    const doubled = (await rows(s.devnet, account)).map((r) => r.hash);
    assert.is(doubled.length, 5);
    assert.equal([...new Set(doubled)], truth, 'one row twice, next to itself');
    assert.is((await rows(s.devnet, account, { limit: 4 })).length, 4, 'never more than limit rows');

    s.devnet.setFaults({ outOfOrderRows: 1 });
    const shuffled = (await rows(s.devnet, account)).map((r) => r.hash);
    assert.equal([...shuffled].sort(), [...truth].sort());
    assert.not.equal(shuffled, truth);
    const swapped = shuffled.findIndex((h, i) => h !== truth[i]);
    assert.equal([shuffled[swapped], shuffled[swapped + 1]], [truth[swapped + 1], truth[swapped]], 'two adjacent rows swapped');

    s.devnet.setFaults({ skippedRows: 1 });
    assert.equal(await rows(s.devnet, account, { limit: 2 }), [], 'the first page leaves out every row it would hold');
    const next = (await rows(s.devnet, account, { limit: 4 })).map((r) => r.hash);
    assert.equal(next, [truth[0], truth[1]], 'rows skipped once come back; the two not seen before are skipped now');
    assert.equal((await rows(s.devnet, account)).map((r) => r.hash), truth);
  } finally {
    await s.close();
  }
});

test('per-key rate limit: requests without a key over 1 per second are answered 429, a key gets its own allowance', async () => {
  const s = await setup({ rateLimit: { withoutKey: 1, withKey: 1000 } });
  try {
    const url = `${s.devnet.url}/api/v3/masterchainInfo`;
    const noKey = await Promise.all(Array.from({ length: 10 }, () => fetch(url).then((r) => r.status)));
    assert.ok(noKey.includes(429), `some of 10 requests without a key are refused (${noKey})`);
    const withKey = await Promise.all(Array.from({ length: 10 }, () => fetch(url, { headers: { 'X-API-Key': 'k1' } }).then((r) => r.status)));
    assert.equal(withKey, Array(10).fill(200));
  } finally {
    await s.close();
  }
});

test('seeded decisions: the same seed decides the same, fractional rates hit some and spare some', () => {
  const setting = { seed: 42, rateLimited: 0.3, duplicateRows: 0.5, skippedRows: 0.5, lateRows: 0.5 };
  const run = () => {
    const f = new Faults(setting);
    const requests = Array.from({ length: 200 }, () => f.nextRequest().fault);
    const late = Array.from({ length: 200 }, (_, i) => f.isLate(`hash-${i}`));
    const page = Array.from({ length: 8 }, (_, i) => ({ hash: `h${i}` }));
    const pages = Array.from({ length: 20 }, () => f.distortPage(page, 8).map((r) => r.hash).join(','));
    return { requests, late, pages };
  };
  const a = run();
  assert.equal(run(), a);
  const limited = a.requests.filter((x) => x === 'rate-limited').length;
  assert.ok(limited > 20 && limited < 120, `about 30% of 200 requests rate limited, got ${limited}`);
  assert.ok(a.late.some(Boolean) && !a.late.every(Boolean));
  assert.ok(new Set(a.pages).size > 1);
  const other = new Faults({ ...setting, seed: 43 });
  assert.not.equal(Array.from({ length: 200 }, () => other.nextRequest().fault), a.requests);
  assert.throws(() => new Faults({ timeouts: -1 }), /timeouts must be a number in 0\.\.1/);
});

test.run();
