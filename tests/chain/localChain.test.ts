/**
 * The local chain (chain/localChain.ts) on the real sandbox TVM: transfers, history and cursor,
 * get-methods, deploys, errors, reopening from disk, and a torn log tail.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Address, Cell, ExternalAddress, SendMode, beginCell, external, internal, storeMessage, storeMessageRelaxed, toNano, type Transaction } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { WalletContractV4, WalletContractV5R1 } from '@ton/ton';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AccountNotActiveError, InvalidMessageError, SendRejectedError, UnknownWalletError } from '../../chain/client.ts';
import { ChainTimeError, DeployError, openLocalChain } from '../../chain/localChain.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chain-test-'));
  dirs.push(dir);
  return dir;
}

/** What a transaction did to its account's balance: credit − fees − Σ(out value + forward fee). */
function balanceDelta(tx: Transaction): bigint {
  let delta = -tx.totalFees.coins;
  const info = tx.inMessage?.info;
  if (info?.type === 'internal') delta += info.value.coins;
  for (const m of tx.outMessages.values()) {
    if (m.info.type === 'internal') delta -= m.info.value.coins + m.info.forwardFee;
  }
  return delta;
}

const hashes = (txs: Transaction[]) => txs.map((t) => t.hash().toString('hex'));

/**
 * Code of a tiny contract, hand-assembled: on any message it sends one external-out message
 * (an "event") whose body is 0xdeadbeef. `PUSHREF <msg>` (0x88), `PUSHINT 0` (0x70), `SENDRAWMSG` (0xFB00).
 */
function eventEmitterCode(): Cell {
  const event = beginCell()
    .store(
      storeMessageRelaxed({
        info: { type: 'external-out', dest: new ExternalAddress(1n, 8), createdAt: 0, createdLt: 0n },
        body: beginCell().storeUint(0xdeadbeef, 32).endCell(),
      }),
    )
    .endCell();
  return beginCell().storeUint(0x88, 8).storeRef(event).storeUint(0x70, 8).storeUint(0xfb00, 16).endCell();
}

test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('wallets send to each other and to an uninitialised address (non-bounceable)', async () => {
  const chain = await openLocalChain({ dir: freshDir(), wallets: ['operator', 'proxy-1'] });
  const operator = chain.walletAddress('operator');
  const proxy = chain.walletAddress('proxy-1');
  const sink = new Address(0, randomBytes(32));
  chain.setNow(1_900_000_000);
  assert.is(chain.now(), 1_900_000_000);
  assert.is(await chain.getAccountState(sink), 'none');
  assert.is(await chain.getAccountState(operator), 'active');
  const operatorBefore = await chain.getBalance(operator);
  const proxyBefore = await chain.getBalance(proxy);

  const result = await chain.send('operator', [
    { to: proxy, value: toNano('1') },
    { to: sink, value: toNano('0.5'), bounce: false },
  ]);

  assert.is(result.transactions.length, 3);
  const [own, toProxy, toSink] = result.transactions;
  assert.ok(own!.address.equals(operator));
  assert.equal([own!.computeSuccess, own!.exitCode, own!.actionResultCode, own!.aborted], [true, 0, 0, false]);
  assert.ok(toProxy!.address.equals(proxy));
  assert.ok(toProxy!.computeSuccess);
  assert.ok(toSink!.address.equals(sink));
  assert.equal([toSink!.computeSuccess, toSink!.exitCode], [false, null], 'no code on the sink: compute skipped');
  assert.ok(own!.lt < toProxy!.lt && toProxy!.lt < toSink!.lt);

  assert.is(await chain.getAccountState(sink), 'uninit');
  const [sinkTx] = await chain.getTransactions(sink, {});
  assert.ok(sinkTx);
  assert.equal(sinkTx.hash(), toSink!.hash);
  assert.is(sinkTx.lt, toSink!.lt);
  assert.is(sinkTx.now, 1_900_000_000);
  const info = sinkTx.inMessage!.info;
  assert.is(info.type, 'internal');
  if (info.type === 'internal') {
    assert.is(info.value.coins, toNano('0.5'));
    assert.is(info.bounce, false);
    assert.ok(info.src.equals(operator));
  }
  assert.is(await chain.getBalance(sink), toNano('0.5') - sinkTx.totalFees.coins);

  const [operatorTx] = await chain.getTransactions(operator, { afterLt: own!.lt - 1n });
  const [proxyTx] = await chain.getTransactions(proxy, { afterLt: toProxy!.lt - 1n });
  assert.is(operatorTx!.outMessages.size, 2);
  assert.is(await chain.getBalance(operator), operatorBefore + balanceDelta(operatorTx!));
  assert.ok(operatorBefore - (await chain.getBalance(operator)) > toNano('1.5'), 'fees paid on top');
  assert.is(await chain.getBalance(proxy), proxyBefore + balanceDelta(proxyTx!));
  await chain.close();
});

test('getTransactions: oldest first, afterLt cursor, limit', async () => {
  const chain = await openLocalChain({ dir: freshDir(), wallets: ['operator', 'proxy-1'] });
  const proxy = chain.walletAddress('proxy-1');
  const values = [1n, 2n, 3n, 4n, 5n].map((n) => n * 1_000_000n);
  for (const value of values) await chain.send('operator', [{ to: proxy, value }]);

  const all = await chain.getTransactions(proxy, {});
  const transfers = all.slice(-values.length);
  assert.equal(
    transfers.map((t) => (t.inMessage!.info.type === 'internal' ? t.inMessage!.info.value.coins : -1n)),
    values,
  );
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.lt < all[i]!.lt, 'lt increases');

  const afterSecond = await chain.getTransactions(proxy, { afterLt: transfers[1]!.lt });
  assert.equal(hashes(afterSecond), hashes(transfers.slice(2)));
  const twoAfterFirst = await chain.getTransactions(proxy, { afterLt: transfers[0]!.lt, limit: 2 });
  assert.equal(hashes(twoAfterFirst), hashes(transfers.slice(1, 3)));
  assert.equal(await chain.getTransactions(proxy, { afterLt: transfers[4]!.lt }), []);
  assert.equal(await chain.getTransactions(new Address(0, randomBytes(32)), {}), []);
  try {
    await chain.getTransactions(proxy, { limit: 0 });
    assert.unreachable('limit 0 accepted');
  } catch (error) {
    assert.instance(error, RangeError);
  }
  await chain.close();
});

test('concurrent sends are serialised: every one lands, lts are distinct', async () => {
  const chain = await openLocalChain({ dir: freshDir(), wallets: ['operator', 'proxy-1'] });
  const proxy = chain.walletAddress('proxy-1');
  const before = (await chain.getTransactions(proxy, {})).length;
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => chain.send('operator', [{ to: proxy, value: BigInt(i + 1) }])),
  );
  const lts = results.flatMap((r) => r.transactions.map((t) => t.lt));
  assert.is(new Set(lts).size, 20);
  assert.is((await chain.getTransactions(proxy, {})).length, before + 10);
  await chain.close();
});

test('bad input gets typed errors', async () => {
  const chain = await openLocalChain({ dir: freshDir(), wallets: ['operator'] });
  const operator = chain.walletAddress('operator');
  const expectError = async (fn: () => unknown, type: new (...args: never[]) => Error) => {
    try {
      await fn();
      assert.unreachable(`no ${type.name}`);
    } catch (error) {
      assert.instance(error, type);
    }
  };
  await expectError(() => chain.walletAddress('nobody'), UnknownWalletError);
  await expectError(() => chain.send('nobody', [{ to: operator, value: 1n }]), UnknownWalletError);
  await expectError(() => chain.send('operator', []), InvalidMessageError);
  await expectError(() => chain.send('operator', [{ to: operator, value: -1n }]), InvalidMessageError);
  await expectError(() => chain.runGetMethod(new Address(0, randomBytes(32)), 'seqno'), AccountNotActiveError);
  await chain.send('operator', [{ to: new Address(0, randomBytes(32)), value: 1n, bounce: false }]);
  await expectError(() => chain.setNow(chain.now() - 10), ChainTimeError);
  await chain.close();
  await expectError(() => chain.send('operator', [{ to: operator, value: 1n }]), Error);
});

test('deploys contracts, runs get-methods, records external-out events', async () => {
  const chain = await openLocalChain({ dir: freshDir(), wallets: ['operator'] });
  const publicKey = randomBytes(32);
  const wallet = WalletContractV4.create({ workchain: 0, publicKey });
  const { address, result } = await chain.deploy('operator', wallet.init, toNano('0.1'));
  assert.ok(address.equals(wallet.address));
  assert.ok(result?.transactions.some((t) => t.address.equals(address) && t.computeSuccess));
  assert.is(await chain.getAccountState(address), 'active');

  const seqno = await chain.runGetMethod(address, 'seqno');
  assert.is(seqno.exitCode, 0);
  assert.is(seqno.stack.readNumber(), 0);
  const key = await chain.runGetMethod(address, 'get_public_key');
  assert.is(key.stack.readBigNumber(), BigInt('0x' + publicKey.toString('hex')));
  assert.is((await chain.runGetMethod(address, 'no_such_method')).exitCode, 11);

  const again = await chain.deploy('operator', wallet.init, toNano('0.1'));
  assert.is(again.result, undefined, 'an active contract is not deployed twice');

  const failing = { code: beginCell().storeUint(0xf22a, 16).endCell(), data: beginCell().endCell() }; // THROW 42
  try {
    await chain.deploy('operator', failing, toNano('0.1'));
    assert.unreachable('failing deploy accepted');
  } catch (error) {
    assert.instance(error, DeployError);
    const tx = (error as DeployError).result.transactions.find((t) => t.address.equals((error as DeployError).address));
    assert.is(tx?.exitCode, 42);
  }

  const emitter = await chain.deploy('operator', { code: eventEmitterCode(), data: beginCell().endCell() }, toNano('0.1'));
  const [tx] = await chain.getTransactions(emitter.address, {});
  const outs = [...tx!.outMessages.values()];
  assert.equal(outs.map((m) => m.info.type), ['external-out']);
  const event = outs[0]!;
  assert.ok(event.info.type === 'external-out' && event.info.src.equals(emitter.address), 'the event comes from the contract');
  assert.is(event.body.beginParse().loadUint(32), 0xdeadbeef);
  await chain.close();
});

test('close and reopen: same balances and history, new sends continue (lt up, no duplicates)', async () => {
  const dir = freshDir();
  const sink = new Address(0, randomBytes(32));
  const wallet = WalletContractV4.create({ workchain: 0, publicKey: randomBytes(32) });
  const first = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
  const operator = first.walletAddress('operator');
  const proxy = first.walletAddress('proxy-1');
  await first.send('operator', [{ to: proxy, value: toNano('2') }]);
  await first.send('proxy-1', [{ to: sink, value: toNano('0.3'), bounce: false }]);
  await first.deploy('operator', wallet.init, toNano('0.1'));
  const accounts = [operator, proxy, sink, wallet.address];
  const balances = await Promise.all(accounts.map((a) => first.getBalance(a)));
  const histories = await Promise.all(accounts.map(async (a) => hashes(await first.getTransactions(a, {}))));
  const lastLt = (await first.getTransactions(operator, {})).at(-1)!.lt;
  const now = first.now();
  await first.close();

  const second = await openLocalChain({ dir, wallets: ['proxy-2'] });
  assert.ok(second.walletAddress('operator').equals(operator), 'wallets created earlier are kept');
  assert.ok(second.walletAddress('proxy-1').equals(proxy));
  assert.equal(await Promise.all(accounts.map((a) => second.getBalance(a))), balances);
  assert.equal(await Promise.all(accounts.map(async (a) => hashes(await second.getTransactions(a, {})))), histories);
  assert.ok(second.now() >= now);
  assert.is((await second.runGetMethod(wallet.address, 'seqno')).stack.readNumber(), 0);
  assert.is(await second.getBalance(second.walletAddress('proxy-2')), 1_000_000n * 1_000_000_000n, 'new wallet minted');

  const sent = await second.send('operator', [{ to: sink, value: 7n, bounce: false }]);
  assert.ok(sent.transactions[0]!.lt > lastLt, 'lt continues');
  const sinkHistory = await second.getTransactions(sink, {});
  assert.equal(hashes(sinkHistory), [...histories[2]!, sent.transactions[1]!.hash.toString('hex')]);
  assert.is(await second.getBalance(sink), balances[2]! + balanceDelta(sinkHistory.at(-1)!));
  await second.close();

  const third = await openLocalChain({ dir });
  assert.is(await third.getBalance(proxy), balances[1]);
  assert.is(await third.getBalance(third.walletAddress('proxy-2')), 1_000_000n * 1_000_000_000n, 'mint persisted');
  assert.equal(hashes(await third.getTransactions(sink, {})), hashes(sinkHistory));
  await third.close();
});

test('a group a crash left without its commit line (and a torn line) is cut off on open; committed groups are kept', async () => {
  const dir = freshDir();
  const first = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
  const proxy = first.walletAddress('proxy-1');
  await first.send('operator', [{ to: proxy, value: 5n }]);
  const history = hashes(await first.getTransactions(proxy, {}));
  const balance = await first.getBalance(proxy);
  await first.close();

  const log = join(dir, 'transactions.log');
  const committed = readFileSync(log);
  const lastRecord = committed.toString().trimEnd().split('\n').filter((l) => !l.startsWith('{"commit":')).at(-1)!;
  const orphan = { ...JSON.parse(lastRecord), lt: '999999999999', account: proxy.toRawString() };
  appendFileSync(log, JSON.stringify(orphan) + '\n{"commit":{"wallets":["oper'); // a whole record, then a torn commit

  const second = await openLocalChain({ dir });
  assert.is(readFileSync(log).toString(), committed.toString(), 'log cut back to its last whole commit');
  assert.equal(hashes(await second.getTransactions(proxy, {})), history);
  assert.is(await second.getBalance(proxy), balance);
  const sent = await second.send('operator', [{ to: proxy, value: 6n }]);
  await second.close();

  const third = await openLocalChain({ dir });
  assert.equal(hashes(await third.getTransactions(proxy, {})), [...history, sent.transactions[1]!.hash.toString('hex')]);
  assert.is(await third.getBalance(proxy), await third.getBalance(proxy));
  await third.close();
});

test('persistence is incremental: a send appends what it changed; the snapshot is rewritten only when the tail outgrows it', async () => {
  const dir = freshDir();
  const chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
  const sinks = () => Array.from({ length: 200 }, () => ({ to: new Address(0, randomBytes(32)), value: toNano('0.01'), bounce: false }));
  const logSize = () => readFileSync(join(dir, 'transactions.log')).length;
  const snapshot = () => { try { return readFileSync(join(dir, 'chain.json')); } catch { return undefined; } };
  const sent: Address[] = [];
  let snapshots = 0;
  let last = snapshot();
  for (let i = 0; i < 6; i++) {
    const batch = sinks();
    sent.push(...batch.map((b) => b.to));
    const before = logSize();
    await chain.send('operator', batch);
    assert.ok(logSize() > before, 'the send was appended');
    const now = snapshot();
    if (now && (!last || !now.equals(last))) snapshots++;
    last = now;
  }
  assert.ok(snapshots >= 1 && snapshots < 6, `snapshot rewritten ${snapshots} times in 6 sends`);
  const balances = await Promise.all(sent.map((a) => chain.getBalance(a)));
  const operator = await chain.getBalance(chain.walletAddress('operator'));
  await chain.close();

  const reopened = await openLocalChain({ dir });
  assert.equal(await Promise.all(sent.map((a) => reopened.getBalance(a))), balances);
  assert.is(await reopened.getBalance(reopened.walletAddress('operator')), operator);
  await reopened.close();
});

test('sendEach: several wallets\' sends run in order and persist as one group; a batch with an invalid send is refused before any of it runs', async () => {
  const dir = freshDir();
  const chain = await openLocalChain({ dir, wallets: ['a', 'b', 'c'] });
  const sink = new Address(0, randomBytes(32));
  const commitLines = () => readFileSync(join(dir, 'transactions.log'), 'utf8').split('\n').filter((l) => l.startsWith('{"commit"')).length;
  const before = commitLines();
  const results = await chain.sendEach(['a', 'b', 'c'].map((from, i) => ({ from, messages: [{ to: sink, value: toNano(String(i + 1)), bounce: false }] })));
  assert.is(results.length, 3);
  assert.ok(results.every((r) => r.transactions.length === 2 && !r.transactions[0]!.aborted), 'each: the wallet\'s transaction and the sink\'s');
  assert.equal(results.map((r) => r.transactions[0]!.address.toRawString()), ['a', 'b', 'c'].map((w) => chain.walletAddress(w).toRawString()));
  assert.is(commitLines(), before + 1, 'three sends, one durable group');
  const received = (await chain.getTransactions(sink, {})).map((t) => (t.inMessage?.info.type === 'internal' ? t.inMessage.info.value.coins : 0n));
  assert.equal(received.length, 3);
  assert.ok(received[0]! < received[1]! && received[1]! < received[2]!, 'in the order given');
  const error = await chain.sendEach([{ from: 'a', messages: [{ to: sink, value: 1n }] }, { from: 'b', messages: [] }]).then(() => null, (e: unknown) => e);
  assert.instance(error, InvalidMessageError);
  assert.is((await chain.getTransactions(sink, {})).length, 3);
  const unknown = await chain.sendEach([{ from: 'nobody', messages: [{ to: sink, value: 1n }] }]).then(() => null, (e: unknown) => e);
  assert.instance(unknown, UnknownWalletError);
  await chain.close();
  const reopened = await openLocalChain({ dir });
  assert.is((await reopened.getTransactions(sink, {})).length, 3, 'durable');
  await reopened.close();
});

test('a directory written before incremental persistence (format 1) opens, keeps its state, and goes on in format 2', async () => {
  const dir = freshDir();
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'chain-format1'), dir, { recursive: true });
  const chain = await openLocalChain({ dir });
  const proxy = chain.walletAddress('proxy-1');
  // the fixture: wallets operator and proxy-1, one send of 5 nanoTON to proxy-1 (its deploy and that transfer)
  assert.is(await chain.getBalance(proxy), 1_000_000_000_000_004n);
  assert.is((await chain.getTransactions(proxy, {})).length, 2);
  assert.is(JSON.parse(readFileSync(join(dir, 'chain.json'), 'utf8')).format, 2);
  await chain.send('operator', [{ to: proxy, value: 7n }]);
  await chain.close();
  const reopened = await openLocalChain({ dir });
  assert.is((await reopened.getTransactions(proxy, {})).length, 3);
  await reopened.close();
});

test('signed external messages: a funded wallet deploys itself and sends; a replay is refused; account info and chain time', async () => {
  const dir = freshDir();
  const chain = await openLocalChain({ dir, wallets: ['alice'] });
  const key = await mnemonicToPrivateKey(await mnemonicNew());
  const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
  assert.equal((await chain.getAccount(wallet.address)).state, 'none');
  await chain.mint(wallet.address, toNano('5'));
  const funded = await chain.getAccount(wallet.address);
  assert.equal([funded.state, funded.balance, funded.codeHash], ['uninit', toNano('5'), null]);

  const alice = chain.walletAddress('alice');
  const before = await chain.getBalance(alice);
  const body = wallet.createTransfer({ seqno: 0, secretKey: key.secretKey, sendMode: SendMode.PAY_GAS_SEPARATELY, messages: [internal({ to: alice, value: toNano('1'), bounce: false })] });
  const message = beginCell().store(storeMessage(external({ to: wallet.address, init: wallet.init, body }))).endCell();
  const { normalizedHash } = await chain.sendMessage(message);

  const active = await chain.getAccount(wallet.address);
  assert.equal(active.state, 'active');
  assert.equal(active.codeHash!.toString('hex'), wallet.init.code.hash().toString('hex'));
  const [fundingTx, walletTx] = await chain.getTransactions(wallet.address, {});
  assert.equal(active.lastTransaction, { lt: walletTx!.lt, hash: walletTx!.hash() });
  assert.ok(fundingTx!.lt < walletTx!.lt);
  // TEP-467: the in-message without src, import fee and init, its body as a reference
  const inMessage = walletTx!.inMessage!;
  assert.equal(inMessage.info.type, 'external-in');
  const normalized = beginCell().store(storeMessage({ info: { type: 'external-in', src: null, dest: wallet.address, importFee: 0n }, init: null, body: inMessage.body }, { forceRef: true })).endCell();
  assert.equal(normalizedHash.toString('hex'), normalized.hash().toString('hex'));
  const received = (await chain.getTransactions(alice, {})).at(-1)!.inMessage!.info;
  assert.ok(received.type === 'internal' && received.src.equals(wallet.address) && received.value.coins === toNano('1'));
  assert.ok((await chain.getBalance(alice)) > before);

  // the same message again: the wallet's seqno moved on, it does not accept it and nothing runs
  const count = (await chain.getTransactions(wallet.address, {})).length;
  try {
    await chain.sendMessage(message);
    assert.unreachable('a replayed external message was accepted');
  } catch (err) {
    assert.instance(err, SendRejectedError);
  }
  assert.equal((await chain.getTransactions(wallet.address, {})).length, count);
  // an internal message is not something to submit
  try {
    await chain.sendMessage(beginCell().store(storeMessage(internal({ to: alice, value: 1n }) as never)).endCell());
    assert.unreachable('an internal message was submitted');
  } catch (err) {
    assert.instance(err, InvalidMessageError);
  }
  assert.ok((await chain.chainTime()) >= walletTx!.now);
  await chain.close();
});

test.run();
