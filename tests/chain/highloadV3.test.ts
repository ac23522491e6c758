/**
 * The highload wallet v3 wrapper (chain/wallet/) and the TEP-467 normalized hash
 * (chain/messageHash.ts), against the official contract code running on the real TVM of
 * @ton/sandbox (Blockchain directly): deploy by the first external message, 1- and 200-message
 * sends, every refusal the contract makes, get-methods, and the normalized hash of what lands.
 */
import { Address, beginCell, Cell, ExternalAddress, loadMessage, storeMessage, toNano, TupleReader, type Message, type Transaction, type TupleItem } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { Blockchain, EmulationError, GetMethodError, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidMessageError, type ChainReader, type OutgoingMessage } from '../../chain/client.ts';
import { normalizedMessageHash } from '../../chain/messageHash.ts';
import {
  getHighloadLastCleanTime,
  getHighloadPublicKey,
  getHighloadSubwalletId,
  getHighloadTimeout,
  HIGHLOAD_V3_DEFAULT_SUBWALLET_ID,
  highloadV3Address,
  HighloadV3ArgumentError,
  highloadV3StateInit,
  HighloadQueryId,
  INTERNAL_TRANSFER_VALUE,
  isHighloadProcessed,
  OP_INTERNAL_TRANSFER,
  signTransfer,
  type SignTransferArgs,
} from '../../chain/wallet/highloadV3.ts';
import { HIGHLOAD_V3_CODE_HASH_HEX, highloadV3Code } from '../../chain/wallet/highloadV3Code.ts';

const isArg = (e: unknown) => e instanceof HighloadV3ArgumentError;
const isInvalid = (e: unknown) => e instanceof InvalidMessageError;
const isType = (e: unknown) => e instanceof TypeError;

const NOW = 1_800_000_000;
const TIMEOUT = 3600;
const key = keyPairFromSeed(Buffer.alloc(32, 7));
const otherKey = keyPairFromSeed(Buffer.alloc(32, 8));
const config = { publicKey: key.publicKey, subwalletId: HIGHLOAD_V3_DEFAULT_SUBWALLET_ID, timeout: TIMEOUT };
const wallet = highloadV3Address(config);

/** A ChainReader over the sandbox for get-methods only (the TVM runs them; the rest is not needed here). */
function sandboxReader(bc: Blockchain): ChainReader {
  const unused = () => Promise.reject(new Error('not used by these tests'));
  return {
    getTransactions: unused,
    getAccount: unused,
    chainTime: unused,
    async runGetMethod(address: Address, name: string, args: TupleItem[] = []) {
      try {
        const r = await bc.runGetMethod(address, name, args);
        return { exitCode: r.exitCode, stack: r.stackReader };
      } catch (e) {
        if (e instanceof GetMethodError) return { exitCode: e.exitCode, stack: new TupleReader([]) };
        throw e;
      }
    },
  };
}

interface World {
  bc: Blockchain;
  funder: SandboxContract<TreasuryContract>;
}

/** A sandbox at NOW with the wallet's (uninit) address funded with 1000 TON. */
async function world(): Promise<World> {
  const bc = await Blockchain.create();
  bc.now = NOW;
  const funder = await bc.treasury('funder', { balance: toNano('1000000') });
  await funder.send({ to: wallet, value: toNano('1000'), bounce: false });
  return { bc, funder };
}

function args(over: Partial<SignTransferArgs> & Pick<SignTransferArgs, 'queryId' | 'messages'>): SignTransferArgs {
  return { secretKey: key.secretKey, walletAddress: wallet, subwalletId: config.subwalletId, timeout: TIMEOUT, createdAt: NOW, ...over };
}

/** Deploys the wallet with a first external carrying init and one message; returns that send's transactions. */
async function deploy(w: World, to: Address) {
  const signed = signTransfer(args({ queryId: HighloadQueryId.first(), messages: [{ to, value: toNano('1'), bounce: false }], init: highloadV3StateInit(config) }));
  return { signed, result: await w.bc.sendMessage(signed.message) };
}

const dest = (i: number) => new Address(0, Buffer.alloc(32, 0).fill(i & 0xff, 0, 1).fill((i >> 8) & 0xff, 1, 2).fill(0x5a, 2));

function isTo(tx: Transaction, address: Address): boolean {
  const d = tx.inMessage?.info.dest;
  return d instanceof Address && d.equals(address);
}

/** The refusal the sandbox reports for an external message the wallet did not accept. */
async function refused(w: World, message: Cell): Promise<number | undefined> {
  try {
    await w.bc.sendMessage(message);
  } catch (e) {
    assert.instance(e, EmulationError);
    return (e as EmulationError).exitCode;
  }
  assert.unreachable('the external message was accepted');
}

test('the code constant has the cited code hash', () => {
  assert.is(highloadV3Code.hash().toString('hex'), '11acad7955844090f283bf238bc1449871f783e7cc0979408d3f4859483e8525');
  assert.is(HIGHLOAD_V3_CODE_HASH_HEX, '11acad7955844090f283bf238bc1449871f783e7cc0979408d3f4859483e8525');
});

test('query_id: shift and bit_number, bigint and sequence, next() and bounds', () => {
  const q = HighloadQueryId.of(3, 1022);
  assert.is(q.toBigInt(), (3n << 10n) | 1022n);
  assert.ok(HighloadQueryId.fromBigInt(q.toBigInt()).equals(q));
  assert.is(q.toSequence(), 3 * 1023 + 1022);
  assert.ok(HighloadQueryId.fromSequence(q.toSequence()).equals(q));
  assert.is(q.next().toString(), '4:0');
  assert.is(HighloadQueryId.first().next().toString(), '0:1');
  assert.is(HighloadQueryId.first().toBigInt(), 0n);
  let seq = HighloadQueryId.first();
  for (let i = 0; i < 2500; i++) seq = seq.next();
  assert.is(seq.toSequence(), 2500);
  const last = HighloadQueryId.of(8191, 1021);
  assert.not.ok(last.hasNext());
  assert.ok(HighloadQueryId.of(8191, 1020).hasNext());
  assert.throws(() => last.next(), isArg);
  for (const [s, b] of [[-1, 0], [8192, 0], [0, 1023], [0, -1], [0.5, 0]] as const) assert.throws(() => HighloadQueryId.of(s, b), isArg);
  assert.throws(() => HighloadQueryId.fromBigInt(1023n), isArg, 'bit_number 1023 is not an id');
  assert.throws(() => HighloadQueryId.fromBigInt(1n << 23n), isArg);
  assert.throws(() => HighloadQueryId.fromSequence(8192 * 1023), isArg);
});

test('signTransfer refuses what the wallet could never send', () => {
  const to = dest(1);
  const queryId = HighloadQueryId.first();
  assert.throws(() => signTransfer(args({ queryId, messages: [] })), isInvalid);
  assert.throws(() => signTransfer(args({ queryId, messages: Array.from({ length: 255 }, () => ({ to, value: 1n })) })), isInvalid);
  assert.throws(() => signTransfer(args({ queryId, messages: [{ to, value: -1n }] })), isInvalid);
  assert.throws(() => signTransfer(args({ queryId, messages: [{ to, value: 1n }], publicKey: otherKey.publicKey })), isArg);
  assert.throws(() => signTransfer(args({ queryId, messages: [{ to, value: 1n }], secretKey: key.secretKey.subarray(0, 32) })), isArg);
  assert.throws(() => signTransfer(args({ queryId, messages: [{ to, value: 1n }], timeout: 0 })), isArg);
  assert.throws(() => signTransfer(args({ queryId, messages: [{ to, value: 1n }], createdAt: -1 })), isArg);
  assert.throws(() => signTransfer(args({ queryId, messages: [{ to, value: 1n }], init: highloadV3StateInit({ ...config, subwalletId: 1 }) })), isArg);
  const ok = signTransfer(args({ queryId, messages: [{ to, value: 1n }], publicKey: key.publicKey }));
  assert.is(ok.expiresAt, NOW + TIMEOUT);
  assert.is(ok.createdAt, NOW);
});

test('normalized hash: same for repacked variants (src, import_fee, init, inline body), differs by body; external-in only', () => {
  const body = beginCell().storeUint(0xabcdef, 24).endCell();
  const base: Message = { info: { type: 'external-in', dest: wallet, importFee: 0n }, init: null, body };
  const h = normalizedMessageHash(base);
  assert.is(h.length, 32);
  const variants: Message[] = [
    { ...base, info: { type: 'external-in', dest: wallet, src: new ExternalAddress(77n, 16), importFee: 0n } },
    { ...base, info: { type: 'external-in', dest: wallet, importFee: 123_456n } },
    { ...base, init: highloadV3StateInit(config) },
  ];
  for (const v of variants) assert.equal(normalizedMessageHash(v), h);
  const inline = beginCell().store(storeMessage(base)).endCell();
  const asRef = beginCell().store(storeMessage(base, { forceRef: true })).endCell();
  assert.is.not(inline.hash().toString('hex'), asRef.hash().toString('hex'), 'two encodings of one message');
  assert.equal(normalizedMessageHash(inline), h);
  assert.equal(normalizedMessageHash(asRef), h);
  assert.equal(asRef.hash(), h, 'the normal form is src none, fee 0, no init, body by reference');
  assert.not.equal(normalizedMessageHash({ ...base, body: beginCell().storeUint(0xabcdee, 24).endCell() }), h);
  assert.not.equal(normalizedMessageHash({ ...base, info: { type: 'external-in', dest: dest(9), importFee: 0n } }), h);
  const int: Message = { info: { type: 'internal', src: wallet, dest: wallet, value: { coins: 1n }, bounce: true, bounced: false, ihrDisabled: true, ihrFee: 0n, forwardFee: 0n, createdAt: 0, createdLt: 0n }, init: null, body };
  assert.throws(() => normalizedMessageHash(int), isType);
});

test('deploy by the first external with init on a funded uninit address; get-methods', async () => {
  const w = await world();
  assert.is((await w.bc.getContract(wallet)).accountState?.type, 'uninit');
  const to = dest(1);
  const { signed, result } = await deploy(w, to);
  const own = result.transactions.filter((t) => isTo(t, wallet));
  assert.is(own.length, 2, 'the external transaction and the internal_transfer');
  const [ext, int] = own;
  assert.is(ext!.inMessage!.info.type, 'external-in');
  assert.equal(normalizedMessageHash(ext!.inMessage!), signed.normalizedHash);
  const self = ext!.outMessages.get(0)!;
  assert.is(self.info.type, 'internal');
  if (self.info.type === 'internal') {
    assert.ok(self.info.dest.equals(wallet));
    assert.is(self.info.value.coins, INTERNAL_TRANSFER_VALUE);
  }
  assert.is(self.body.beginParse().loadUint(32), OP_INTERNAL_TRANSFER);
  assert.is(int!.inMessage!.info.type, 'internal');
  assert.equal(int!.inMessage!.body.hash(), self.body.hash());
  assert.is(int!.outMessagesCount, 1);

  const account = await w.bc.getContract(wallet);
  assert.is(account.accountState?.type, 'active');
  if (account.accountState?.type === 'active') assert.equal(account.accountState.state.code?.hash(), highloadV3Code.hash());
  const got = result.transactions.find((t) => isTo(t, to));
  assert.ok(got, 'the message reached its destination');
  if (got!.inMessage!.info.type === 'internal') {
    assert.is(got!.inMessage!.info.value.coins, toNano('1'));
    assert.ok(got!.inMessage!.info.src.equals(wallet));
    assert.is(got!.inMessage!.info.bounce, false);
  }

  const reader = sandboxReader(w.bc);
  assert.equal(await getHighloadPublicKey(reader, wallet), key.publicKey);
  assert.is(await getHighloadSubwalletId(reader, wallet), HIGHLOAD_V3_DEFAULT_SUBWALLET_ID);
  assert.is(await getHighloadTimeout(reader, wallet), TIMEOUT);
  assert.is(await getHighloadLastCleanTime(reader, wallet), NOW, 'the first external cleans (last_clean_time 0 < now - timeout)');
  assert.ok(await isHighloadProcessed(reader, wallet, HighloadQueryId.first()));
  assert.ok(await isHighloadProcessed(reader, wallet, HighloadQueryId.first(), false));
  assert.not.ok(await isHighloadProcessed(reader, wallet, HighloadQueryId.of(0, 1)));
  assert.not.ok(await isHighloadProcessed(reader, wallet, HighloadQueryId.of(5, 0)));
});

test('a 1-message send and a 200-message send land with the expected messages; processed? after each', async () => {
  const w = await world();
  await deploy(w, dest(0));
  const reader = sandboxReader(w.bc);

  const body = beginCell().storeUint(0x1234, 32).storeUint(42, 64).endCell();
  const one = signTransfer(args({ queryId: HighloadQueryId.of(0, 1), messages: [{ to: dest(1), value: toNano('2'), body }] }));
  assert.not.ok(await isHighloadProcessed(reader, wallet, one.queryId));
  const r1 = await w.bc.sendMessage(one.message);
  const got = r1.transactions.filter((t) => isTo(t, dest(1)));
  assert.is(got.length, 1);
  const m = got[0]!.inMessage!;
  assert.equal(m.body.hash(), body.hash());
  if (m.info.type === 'internal') {
    assert.is(m.info.value.coins, toNano('2'), 'send mode 1: the value arrives whole, fees paid on top');
    assert.is(m.info.bounce, true, 'bounceable by default');
  }
  assert.ok(await isHighloadProcessed(reader, wallet, one.queryId));

  const messages: OutgoingMessage[] = Array.from({ length: 200 }, (_, i) => ({ to: dest(100 + i), value: toNano('0.01') + BigInt(i), bounce: false }));
  const batch = signTransfer(args({ queryId: HighloadQueryId.of(7, 500), createdAt: NOW + 5, messages }));
  w.bc.now = NOW + 10;
  const before = (await w.bc.getContract(wallet)).balance;
  const r200 = await w.bc.sendMessage(batch.message);
  const own = r200.transactions.filter((t) => isTo(t, wallet));
  assert.is(own.length, 2);
  assert.equal(normalizedMessageHash(own[0]!.inMessage!), batch.normalizedHash);
  assert.is(own[1]!.outMessagesCount, 200);
  for (let i = 0; i < 200; i++) {
    const tx = r200.transactions.find((t) => isTo(t, dest(100 + i)));
    assert.ok(tx, `payout ${i} landed`);
    const info = tx!.inMessage!.info;
    assert.ok(info.type === 'internal' && info.value.coins === toNano('0.01') + BigInt(i) && info.src.equals(wallet));
  }
  const spent = before - (await w.bc.getContract(wallet)).balance;
  assert.ok(spent > toNano('2'), 'values (2 TON) plus fees left the wallet');
  assert.ok(await isHighloadProcessed(reader, wallet, batch.queryId));
});

test('refusals: replay, created_at too old / in the future, wrong key, subwallet, timeout', async () => {
  const w = await world();
  const { signed: first } = await deploy(w, dest(0));
  const to = dest(2);
  const msg = [{ to, value: toNano('0.1') }];

  assert.is(await refused(w, first.message), 36, 'the same message again: already executed');
  assert.is(await refused(w, signTransfer(args({ queryId: first.queryId, createdAt: NOW - 1, messages: msg })).message), 36, 'same query_id, new signature');

  w.bc.now = NOW + 100;
  assert.is(await refused(w, signTransfer(args({ queryId: HighloadQueryId.of(1, 0), createdAt: NOW + 100 - TIMEOUT, messages: msg })).message), 35, 'created_at = now - timeout');
  assert.is(await refused(w, signTransfer(args({ queryId: HighloadQueryId.of(1, 1), createdAt: NOW + 101, messages: msg })).message), 35, 'created_at > now');
  assert.is(await refused(w, signTransfer(args({ queryId: HighloadQueryId.of(1, 2), secretKey: otherKey.secretKey, messages: msg })).message), 33, 'wrong key');
  assert.is(await refused(w, signTransfer(args({ queryId: HighloadQueryId.of(1, 3), subwalletId: config.subwalletId + 1, messages: msg })).message), 34, 'wrong subwallet');
  assert.is(await refused(w, signTransfer(args({ queryId: HighloadQueryId.of(1, 4), timeout: TIMEOUT + 1, messages: msg })).message), 38, 'wrong timeout');

  // the boundaries the docstring states: accepted while createdAt <= now < createdAt + timeout
  const edgeOld = signTransfer(args({ queryId: HighloadQueryId.of(1, 5), createdAt: NOW + 101 - TIMEOUT, messages: msg }));
  assert.is(edgeOld.expiresAt, NOW + 101);
  const edgeNow = signTransfer(args({ queryId: HighloadQueryId.of(1, 6), createdAt: NOW + 100, messages: msg }));
  for (const s of [edgeOld, edgeNow]) {
    const r = await w.bc.sendMessage(s.message);
    assert.ok(r.transactions.some((t) => isTo(t, to)));
  }

  // a signed message expires in chain time: refused from expiresAt on, even though never processed
  const late = signTransfer(args({ queryId: HighloadQueryId.of(2, 0), createdAt: NOW + 100, messages: msg }));
  w.bc.now = late.expiresAt;
  assert.is(await refused(w, late.message), 35);
  assert.not.ok(await isHighloadProcessed(sandboxReader(w.bc), wallet, late.queryId));
  assert.not.ok(await isHighloadProcessed(sandboxReader(w.bc), wallet, HighloadQueryId.of(1, 2)), 'refused ids stay unused');
});

test('the action list is all-or-nothing: a balance too low for the second message sends neither', async () => {
  const bc = await Blockchain.create();
  bc.now = NOW;
  const funder = await bc.treasury('funder');
  await funder.send({ to: wallet, value: toNano('3'), bounce: false });
  const messages = [dest(1), dest(2)].map((to) => ({ to, value: toNano('1.5'), bounce: false }));
  const r = await bc.sendMessage(signTransfer(args({ queryId: HighloadQueryId.first(), messages, init: highloadV3StateInit(config) })).message);
  assert.is(r.transactions.length, 2, 'the external and the internal transaction, nothing else');
  const int = r.transactions[1]!;
  const d = int.description;
  assert.ok(d.type === 'generic' && d.computePhase.type === 'vm' && d.computePhase.success);
  assert.ok(d.type === 'generic' && d.actionPhase && !d.actionPhase.success && d.actionPhase.resultCode === 37, 'action phase: not enough funds');
  assert.is(int.outMessagesCount, 0);
  const balance = (await bc.getContract(wallet)).balance;
  assert.ok(balance > toNano('2.9'), `the value stayed in the wallet (${balance})`);
  assert.ok(await isHighloadProcessed(sandboxReader(bc), wallet, HighloadQueryId.first()), 'the query_id is spent all the same');
});

test('the normalized hash survives a relay repacking the message (src, import_fee, inline body)', async () => {
  const w = await world();
  await deploy(w, dest(0));
  const signed = signTransfer(args({ queryId: HighloadQueryId.of(3, 3), messages: [{ to: dest(3), value: toNano('0.2') }] }));
  const m = loadMessage(signed.message.beginParse());
  const repacked = beginCell()
    .store(storeMessage({ ...m, info: { type: 'external-in', dest: wallet, src: new ExternalAddress(5n, 8), importFee: 0n } }, { forceRef: true }))
    .endCell();
  assert.is.not(repacked.hash().toString('hex'), signed.message.hash().toString('hex'));
  const r = await w.bc.sendMessage(repacked);
  const ext = r.transactions.find((t) => isTo(t, wallet) && t.inMessage?.info.type === 'external-in');
  assert.ok(ext);
  assert.equal(normalizedMessageHash(ext!.inMessage!), signed.normalizedHash);
});

test.run();
