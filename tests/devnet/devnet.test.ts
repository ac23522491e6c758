/**
 * The devnet endpoint (devnet/server.ts) over a real local chain (@ton/sandbox), spoken to by the
 * real @ton/ton TonClient (only its endpoint differs from TON Center's) and by plain HTTP for API v3:
 * balances, get-methods, a signed wallet v5r1 transfer that lands, walking history back, v3 paging
 * by start_lt, synthetic blocks and finality, restarts, and TON Center's error shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, Cell, SendMode, beginCell, external, internal, storeMessage, toNano, type Transaction } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey, type KeyPair } from '@ton/crypto';
import { TonClient, WalletContractV5R1 } from '@ton/ton';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { normalizedMessageHash } from '../../chain/messageHash.ts';
import { blockOfTime } from '../../devnet/blocks.ts';
import { startDevnet, type Devnet } from '../../devnet/server.ts';
import { until } from '../support/until.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'devnet-test-'));
  dirs.push(dir);
  return dir;
}
test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  chain: LocalChain;
  devnet: Devnet;
  client: TonClient;
  close(): Promise<void>;
}

async function setup(opts: { dir?: string; finalityLagSeconds?: number } = {}): Promise<Setup> {
  const chain = await openLocalChain({ dir: opts.dir ?? freshDir(), wallets: ['operator'] });
  const devnet = await startDevnet({ chain, finalityLagSeconds: opts.finalityLagSeconds });
  const client = new TonClient({ endpoint: `${devnet.url}/api/v2/jsonRPC`, timeout: 30_000 });
  return {
    chain,
    devnet,
    client,
    close: async () => {
      await devnet.close();
      await chain.close();
    },
  };
}

/** A funded, not yet deployed wallet v5r1 (the @ton/ton contract). */
async function fundedWallet(chain: LocalChain, nanoton = toNano('10')): Promise<{ wallet: WalletContractV5R1; keys: KeyPair }> {
  const keys = await mnemonicToPrivateKey(await mnemonicNew());
  const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey });
  await chain.mint(wallet.address, nanoton);
  return { wallet, keys };
}

/** The signed external message of a v5r1 transfer, as the BoC a wallet app would send. */
function signedTransfer(wallet: WalletContractV5R1, keys: KeyPair, seqno: number, to: Address, value: bigint): Buffer {
  const body = wallet.createTransfer({ seqno, secretKey: keys.secretKey, sendMode: SendMode.PAY_GAS_SEPARATELY, messages: [internal({ to, value })] });
  const message = external({ to: wallet.address, init: seqno === 0 ? wallet.init : undefined, body });
  return beginCell().store(storeMessage(message)).endCell().toBoc();
}

async function v3(devnet: Devnet, query: Record<string, string | number>): Promise<{ status: number; body: any }> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${devnet.url}/api/v3/transactions?${qs}`);
  return { status: res.status, body: await res.json() };
}

async function jsonRpc(devnet: Devnet, method: string, params: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${devnet.url}/api/v2/jsonRPC`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: '7', jsonrpc: '2.0', method, params }),
  });
  return { status: res.status, body: await res.json() };
}

const hashB64 = (tx: Transaction) => tx.hash().toString('base64');

test('TonClient: balance, state, get-methods on a deployed wallet, a signed v5r1 transfer that lands', async () => {
  const s = await setup();
  try {
    const operator = s.chain.walletAddress('operator');
    assert.is(await s.client.getBalance(operator), await s.chain.getBalance(operator));
    const { wallet, keys } = await fundedWallet(s.chain);
    const state = await s.client.getContractState(wallet.address);
    assert.is(state.state, 'uninitialized');
    assert.is(state.balance, toNano('10'));
    assert.is(state.code, null);

    const before = await s.chain.getBalance(operator);
    await s.client.sendFile(signedTransfer(wallet, keys, 0, operator, toNano('1')));
    const opened = s.client.open(wallet);
    await until('the transfer to land', async () => (await opened.getSeqno()) === 1);
    assert.ok(await s.client.isContractDeployed(wallet.address));
    assert.is(await s.chain.getBalance(operator), before + toNano('1') - (await s.chain.getTransactions(operator, {})).at(-1)!.totalFees.coins);

    const deployed = await s.client.getContractState(wallet.address);
    assert.is(deployed.state, 'active');
    assert.equal(Cell.fromBoc(deployed.code!)[0]!.hash(), wallet.init.code.hash(), 'code is the v5r1 code');
    const last = (await s.chain.getTransactions(wallet.address, {})).at(-1)!;
    assert.equal(deployed.lastTransaction, { lt: last.lt.toString(), hash: hashB64(last) });

    const pk = await s.client.runMethod(wallet.address, 'get_public_key');
    assert.is(pk.stack.readBigNumber(), BigInt(`0x${keys.publicKey.toString('hex')}`));
    const ext = await s.client.runMethod(wallet.address, 'get_extensions');
    assert.is(ext.stack.readCellOpt(), null, 'TVM null comes back as TonClient reads a null');
    const failed = await s.client.runMethodWithError(wallet.address, 'no_such_method');
    assert.is.not(failed.exit_code, 0);
    const onUninit = await s.client.runMethodWithError(new Address(0, Buffer.alloc(32, 7)), 'seqno');
    assert.is(onUninit.exit_code, -13, 'tonlib: a get-method on an account without code');
  } finally {
    await s.close();
  }
});

test('TonClient getTransactions walks history back from the newest, by lt/hash, to to_lt', async () => {
  const s = await setup();
  try {
    const sink = new Address(0, Buffer.alloc(32, 9));
    for (let i = 1; i <= 5; i++) await s.chain.mint(sink, BigInt(i) * 1_000_000n);
    const history = await s.chain.getTransactions(sink, {});
    assert.is(history.length, 5);
    const newestFirst = history.map(hashB64).reverse();

    const first = await s.client.getTransactions(sink, { limit: 2 });
    assert.equal(first.map(hashB64), newestFirst.slice(0, 2));
    const tail = first.at(-1)!;
    const next = await s.client.getTransactions(sink, { limit: 2, lt: tail.lt.toString(), hash: hashB64(tail) });
    assert.equal(next.map(hashB64), newestFirst.slice(2, 4), 'starts after the given transaction (not inclusive)');
    const inclusive = await s.client.getTransactions(sink, { limit: 2, lt: tail.lt.toString(), hash: hashB64(tail), inclusive: true });
    assert.equal(inclusive.map(hashB64), newestFirst.slice(1, 3));
    const toLt = await s.client.getTransactions(sink, { limit: 10, to_lt: history[1]!.lt.toString() });
    assert.equal(toLt.map(hashB64), newestFirst.slice(0, 3), 'to_lt is exclusive');
    const all = await s.client.getTransactions(sink, { limit: 100, archival: true });
    assert.equal(all.map(hashB64), newestFirst);

    const wrongHash = await jsonRpc(s.devnet, 'getTransactions', { address: sink.toString(), lt: tail.lt.toString(), hash: '00'.repeat(32), limit: 1 });
    assert.is(wrongHash.status, 500);
    assert.is(wrongHash.body.ok, false);
    const tooMany = await jsonRpc(s.devnet, 'getTransactions', { address: sink.toString(), limit: 101 });
    assert.is(tooMany.status, 422);
  } finally {
    await s.close();
  }
});

test('v3 transactions: rows in TON Center shape, paged by start_lt ascending, desc by end_lt, offset', async () => {
  const s = await setup();
  try {
    const sink = new Address(0, Buffer.alloc(32, 5));
    for (let i = 1; i <= 7; i++) await s.chain.mint(sink, BigInt(i) * 1_000_000n);
    const history = await s.chain.getTransactions(sink, {});

    const seen: any[] = [];
    let startLt = 0n;
    for (let pages = 0; pages < 10; pages++) {
      const { status, body } = await v3(s.devnet, { account: sink.toRawString(), start_lt: startLt.toString(), sort: 'asc', limit: 3 });
      assert.is(status, 200);
      if (body.transactions.length === 0) break;
      seen.push(...body.transactions);
      startLt = BigInt(body.transactions.at(-1).lt) + 1n;
    }
    assert.equal(seen.map((r) => r.hash), history.map(hashB64));
    for (let i = 0; i < seen.length; i++) {
      const row = seen[i];
      const tx = history[i]!;
      assert.is(row.account, `0:${sink.hash.toString('hex').toUpperCase()}`);
      assert.is(row.lt, tx.lt.toString());
      assert.is(row.now, tx.now);
      assert.is(row.mc_block_seqno, blockOfTime(tx.now, 1));
      assert.is(row.prev_trans_lt, tx.prevTransactionLt.toString());
      assert.is(row.prev_trans_hash, i === 0 ? Buffer.alloc(32).toString('base64') : seen[i - 1].hash, 'rows link to their predecessor');
      assert.is(row.in_msg.value, (BigInt(i + 1) * 1_000_000n).toString());
      assert.is(row.in_msg.destination, row.account);
      assert.is(row.description.type, 'ord');
      assert.type(row.description.aborted, 'boolean');
      assert.ok(['finalized', 'confirmed'].includes(row.finality));
    }
    const { body: book } = await v3(s.devnet, { account: sink.toString(), limit: 1 });
    assert.equal(book.address_book[seen[0].account].user_friendly, sink.toString({ bounceable: true, urlSafe: true }));

    const desc = await v3(s.devnet, { account: sink.toString(), end_lt: history[4]!.lt.toString(), limit: 2, offset: 1 });
    assert.equal(desc.body.transactions.map((r: any) => r.hash), [hashB64(history[3]!), hashB64(history[2]!)], 'default sort desc; end_lt inclusive; offset');
    const between = await v3(s.devnet, { account: sink.toString(), start_lt: history[2]!.lt.toString(), end_lt: history[3]!.lt.toString(), sort: 'asc' });
    assert.equal(between.body.transactions.map((r: any) => r.hash), [hashB64(history[2]!), hashB64(history[3]!)]);

    assert.is((await v3(s.devnet, { account: sink.toString(), limit: 1001 })).status, 422);
    assert.is((await v3(s.devnet, { account: sink.toString(), sort: 'sideways' })).status, 422);
    const noAccount = await v3(s.devnet, {});
    assert.is(noAccount.status, 422);
    assert.type(noAccount.body.error, 'string');
  } finally {
    await s.close();
  }
});

test('finality: rows above the final block are "confirmed", final after the lag; v2 and v3 report latest and final blocks', async () => {
  const s = await setup({ finalityLagSeconds: 2 });
  try {
    const t0 = Math.floor(Date.now() / 1000) + 100;
    s.chain.setNow(t0);
    const sink = new Address(0, Buffer.alloc(32, 3));
    await s.chain.mint(sink, 1_000_000n);
    const seqno = blockOfTime(t0, 1);

    const finalSeqno = async () => (await (await fetch(`${s.devnet.url}/api/v3/masterchainInfo`)).json()).last.seqno as number;
    const row = async () => (await v3(s.devnet, { account: sink.toString() })).body.transactions[0];
    const v2Latest = async () => (await s.client.getMasterchainInfo()).latestSeqno;
    const consensus = async () => (await jsonRpc(s.devnet, 'getConsensusBlock', {})).body.result.consensus_block as number;

    assert.is(await v2Latest(), seqno, 'v2 latest: the block being produced');
    assert.is((await row()).mc_block_seqno, seqno);
    assert.is((await row()).finality, 'confirmed');
    assert.ok((await finalSeqno()) < seqno);
    assert.is(await consensus(), await finalSeqno(), 'v2 consensus block = v3 last indexed final block');

    s.chain.setNow(t0 + 2);
    assert.is(await finalSeqno(), seqno - 1, 'the block closed at t0+1 and is not final before t0+3');
    assert.is((await row()).finality, 'confirmed');
    s.chain.setNow(t0 + 3);
    assert.is(await finalSeqno(), seqno);
    assert.is(await consensus(), seqno);
    assert.is((await row()).finality, 'finalized');
    assert.is(await v2Latest(), seqno + 3);
  } finally {
    await s.close();
  }
});

test('restart on the same directory: same history, same masterchain block for every transaction', async () => {
  const dir = freshDir();
  const first = await setup({ dir });
  const sink = new Address(0, Buffer.alloc(32, 4));
  await first.chain.mint(sink, 5_000_000n);
  const before = (await v3(first.devnet, { account: sink.toString(), sort: 'asc' })).body.transactions;
  await first.close();
  const second = await setup({ dir });
  try {
    const after = (await v3(second.devnet, { account: sink.toString(), sort: 'asc' })).body.transactions;
    assert.equal(
      after.map((r: any) => [r.hash, r.lt, r.mc_block_seqno]),
      before.map((r: any) => [r.hash, r.lt, r.mc_block_seqno]),
    );
    assert.is(await second.client.getBalance(sink), await second.chain.getBalance(sink));
  } finally {
    await second.close();
  }
});

test('v2 errors in TON Center shape: refused message, bad BoC, bad address, unknown method; GET routes', async () => {
  const s = await setup();
  try {
    const operator = s.chain.walletAddress('operator');
    const { wallet, keys } = await fundedWallet(s.chain);
    const boc = signedTransfer(wallet, keys, 0, operator, toNano('1'));
    const sent = await jsonRpc(s.devnet, 'sendBocReturnHash', { boc: boc.toString('base64') });
    assert.is(sent.status, 200);
    assert.equal(sent.body.id, '7');
    assert.is(sent.body.result['@type'], 'raw.extMessageInfo');
    assert.is(sent.body.result.hash, Cell.fromBoc(boc)[0]!.hash().toString('base64'));
    assert.is(sent.body.result.hash_norm, normalizedMessageHash(Cell.fromBoc(boc)[0]!).toString('base64'));
    const [walletRow] = (await v3(s.devnet, { account: wallet.address.toString(), sort: 'desc', limit: 1 })).body.transactions;
    assert.is(walletRow.in_msg.hash_norm, sent.body.result.hash_norm, 'v3 in_msg.hash_norm finds the wallet transaction');
    assert.is(walletRow.in_msg.source, null);

    const replay = await jsonRpc(s.devnet, 'sendBoc', { boc: boc.toString('base64') });
    assert.is(replay.status, 500, 'the wallet refuses a replayed seqno');
    assert.equal([replay.body.ok, replay.body.code], [false, 500]);
    assert.match(replay.body.error, /External message was not accepted/);
    assert.is(await s.client.sendFile(boc).then(() => 'sent', () => 'refused'), 'refused', 'TonClient sees the refusal');

    const garbage = await jsonRpc(s.devnet, 'sendBoc', { boc: 'bm90IGEgYm9j' });
    assert.is(garbage.status, 500);
    assert.match(garbage.body.error, /not a valid bag of cells/);
    const badAddress = await jsonRpc(s.devnet, 'getAddressBalance', { address: 'nope' });
    assert.equal([badAddress.status, badAddress.body.error], [416, 'Incorrect address']);
    const unknown = await jsonRpc(s.devnet, 'noSuchMethod', {});
    assert.equal([unknown.status, unknown.body.error], [422, 'Unknown method']);

    const get = await (await fetch(`${s.devnet.url}/api/v2/getAddressBalance?address=${operator.toString()}`)).json();
    assert.equal(get, { ok: true, result: (await s.chain.getBalance(operator)).toString() });
    const state = await (await fetch(`${s.devnet.url}/api/v2/getAddressState?address=${new Address(0, Buffer.alloc(32, 1)).toRawString()}`)).json();
    assert.equal(state, { ok: true, result: 'uninitialized' });
  } finally {
    await s.close();
  }
});

test.run();
