/**
 * MemberForwarder (issue 11) on @ton/sandbox, the real TVM, with the pool's own contracts: the
 * registry deploys a member's forwarder on joining, a Cocoon payout goes through it to the
 * RewardDistribution and is booked there only from the member's forwarder, backlogs (bounces,
 * payouts before deployment) are flushed by anyone, and the member relays owner-only commands to
 * a cocoon wallet running Cocoon's own code (tests/fixtures/cocoon/cocoon-wallet.code.boc.hex,
 * TelegramMessenger/cocoon @ b75d4447, data layout `seqno:uint32 subwallet_id:uint32
 * public_key:uint256 status:uint32 owner_address:MsgAddressInt`; its checks read in cocoon-contracts
 * contracts/cocoon_wallet.fc: owner-only, text "w"/"b"/"u" = op 0 + one byte, op 0x9c69f376).
 * A fixed clock keeps storage fees at zero, so balances are exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Blockchain, type SandboxContract, type SendMessageResult } from '@ton/sandbox';
import { type Address, beginCell, Cell, contractAddress, type StateInit, toNano, type Transaction } from '@ton/core';
import { cocoonPayoutBody, DISTRIBUTION_EXIT, memberRevenueIntake, type RewardDistribution, rewardDistributionFor } from '../../contracts/distribution.ts';
import {
  FORWARDER_EXIT,
  FORWARDER_GAS,
  FORWARDER_OPS,
  FORWARDER_RESERVE,
  MEMBER_FORWARDER_CODE,
  flushBacklogBody,
  memberBacklogBody,
  memberForwarderAddress,
  memberForwarderInit,
  memberPayoutBody,
  relayToCocoonWalletBody,
} from '../../contracts/forwarder.ts';
import { PoolOperator, REGISTER_GAS_VALUE, registerBody } from '../../contracts/operator.ts';
import { plain, sendBody, type Wallet } from './sandbox.ts';

const STAKE = toNano('100');
const COCOON_WALLET_CODE = Cell.fromBoc(Buffer.from(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'cocoon', 'cocoon-wallet.code.boc.hex'), 'utf8').trim(), 'hex'))[0]!;

interface World {
  bc: Blockchain;
  owner: Wallet;
  proxy: Wallet;
  alice: Wallet;
  bob: Wallet;
  stranger: Wallet;
  rd: SandboxContract<RewardDistribution>;
  op: SandboxContract<PoolOperator>;
  registry: Address;
}

async function world(): Promise<World> {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000;
  const owner = await bc.treasury('owner');
  const proxy = await bc.treasury('proxy');
  const alice = await bc.treasury('alice', { balance: toNano('1000') });
  const bob = await bc.treasury('bob', { balance: toNano('1000') });
  const stranger = await bc.treasury('stranger');
  const rd = bc.openContract(await rewardDistributionFor(owner.address, 7n));
  await rd.send(owner.getSender(), { value: toNano('10') }, null);
  const op = bc.openContract(await PoolOperator.fromInit(owner.address, 7n, rd.address));
  await op.send(owner.getSender(), { value: toNano('1') }, null);
  return { bc, owner, proxy, alice, bob, stranger, rd, op, registry: (await op.getInfo()).registry };
}

function register(w: World, who: Wallet): Promise<SendMessageResult> {
  return sendBody(w.bc, who.address, w.op.address, STAKE + REGISTER_GAS_VALUE, registerBody({ queryId: 9n, stake: STAKE, gpuSpecHash: 1n, gpuCount: 1n, worker: null }));
}

/** Every transaction of `address` in `result`, in order. */
function txsOn(result: SendMessageResult, address: Address): Transaction[] {
  return result.transactions.filter((t) => t.inMessage?.info.dest?.toString() === address.toString());
}

function computeGas(tx: Transaction): bigint {
  const d = tx.description;
  return d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.gasUsed : -1n;
}

function exitOf(tx: Transaction): number {
  const d = tx.description;
  return d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.exitCode : -1;
}

/** Internal messages of `tx`: destination, value, bounce flag, body, forward fee. */
function sent(tx: Transaction) {
  return [...tx.outMessages.values()].flatMap((m) => (m.info.type === 'internal' ? [{ to: m.info.dest, value: m.info.value.coins, bounce: m.info.bounce, body: m.body, fwdFee: m.info.forwardFee }] : []));
}

async function balance(w: World, a: Address): Promise<bigint> {
  return (await w.bc.getContract(a)).balance;
}

async function revenue(w: World): Promise<bigint> {
  return (await w.rd.getTotals()).revenue;
}

function payout(w: World, to: Address, value: bigint, queryId = 77n): Promise<SendMessageResult> {
  return sendBody(w.bc, w.proxy.address, to, value, cocoonPayoutBody({ queryId }), { bounce: false }); // as a Cocoon proxy sends it
}

async function cocoonWallet(w: World, owner: Address, float: bigint): Promise<Address> {
  const data = beginCell().storeUint(0, 32).storeUint(0, 32).storeUint(0xabcdefn, 256).storeUint(0, 32).storeAddress(owner).endCell();
  const init: StateInit = { code: COCOON_WALLET_CODE, data };
  const address = contractAddress(0, init);
  await w.bc.sendMessage({
    info: { type: 'internal', ihrDisabled: true, bounce: false, bounced: false, src: w.stranger.address, dest: address, value: { coins: float }, ihrFee: 0n, forwardFee: 0n, createdLt: 0n, createdAt: 0 },
    init,
    body: Cell.EMPTY, // the wallet ignores empty messages: a plain top-up
  });
  return address;
}

async function walletStatus(w: World, wallet: Address): Promise<bigint> {
  const state = (await w.bc.getContract(wallet)).accountState;
  if (state?.type !== 'active') throw new Error('cocoon wallet not active');
  return state.state.data!.beginParse().skip(64 + 256).loadUintBig(32);
}

// ---------------------------------------------------------------- address and deployment

test('the forwarder address recomputed in TS is the one the registry deploys and the one the distribution books', async () => {
  const w = await world();
  const expected = await memberForwarderAddress(w.rd.address, w.alice.address);
  const r = await register(w, w.alice);
  const deploy = txsOn(r, expected);
  assert.is(deploy.length, 1, 'the registration deployed the forwarder');
  assert.is(exitOf(deploy[0]!), 0);
  const account = await w.bc.getContract(expected);
  assert.is(account.accountState?.type, 'active');
  if (account.accountState?.type !== 'active') return;
  assert.ok(account.accountState.state.code!.equals(MEMBER_FORWARDER_CODE));
  assert.ok(account.accountState.state.data!.equals((await memberForwarderInit(w.rd.address, w.alice.address)).data!));
  assert.is(account.balance, FORWARDER_RESERVE, 'the deployment leaves exactly the storage reserve');
  // the deploy's change went back to the registry, which accepts it
  const excess = txsOn(r, w.registry).at(-1)!;
  assert.is(excess.inMessage!.body.beginParse().loadUint(32), FORWARDER_OPS.excesses);
  assert.is(exitOf(excess), 0);
  // the registration change came back to alice as before
  assert.ok(txsOn(r, w.alice.address).length >= 1);

  const before = await revenue(w);
  const p = await payout(w, expected, toNano('1'));
  assert.is(exitOf(txsOn(p, w.rd.address)[0]!), 0, 'the distribution accepts the forwarder of (itself, alice)');
  assert.ok((await revenue(w)) > before);
});

// ---------------------------------------------------------------- payouts

test('a Cocoon payout goes through the forwarder and is booked as the member\'s revenue, value conserved', async () => {
  const w = await world();
  await register(w, w.alice);
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  const paid = toNano('1.25');
  const fwdBefore = await balance(w, fwd);
  const before = await revenue(w);
  const r = await payout(w, fwd, paid, 1234n);
  const [ftx] = txsOn(r, fwd);
  const [rtx] = txsOn(r, w.rd.address);
  assert.is(exitOf(ftx!), 0);
  assert.is(computeGas(ftx!), BigInt(FORWARDER_GAS.forward), 'gas per forward (FORWARDER_GAS.forward)');
  assert.ok(FORWARDER_GAS.forward <= 3000, 'target ≤ 3,000 gas');
  const [out] = sent(ftx!);
  assert.ok(out!.to.equals(w.rd.address));
  assert.is(out!.bounce, true);
  assert.ok(out!.body.equals(memberPayoutBody({ queryId: 1234n, member: w.alice.address, proxy: w.proxy.address, paid })), 'MemberPayout query_id member proxy paid');
  assert.is(exitOf(rtx!), 0);
  assert.is(computeGas(rtx!), BigInt(FORWARDER_GAS.memberPayoutIntake), 'gas of the MemberPayout intake');
  const forwarded = rtx!.inMessage!.info.type === 'internal' ? rtx!.inMessage!.info.value.coins : -1n;
  const fees = ftx!.totalFees.coins + out!.fwdFee;
  assert.is(forwarded, paid - fees, 'forwarded = paid − the forwarder\'s gas and forward fees');
  assert.is(await balance(w, fwd), fwdBefore, 'the forwarder keeps nothing');
  assert.is((await revenue(w)) - before, forwarded, 'booked in totals.revenue');
  assert.ok(fees < 2_000_000n, `fees per forward ${fees} nanoTON`);
  assert.equal(plain(memberRevenueIntake(rtx!)), plain({
    kind: 'payout', forwarder: fwd, member: w.alice.address, proxy: w.proxy.address, paid, amount: forwarded, queryId: 1234n, countedByContract: true,
  }));
});

test('a forged MemberPayout is refused and bounces; a forwarder\'s bounce becomes backlog, flushed by anyone and booked', async () => {
  const w = await world();
  await register(w, w.alice);
  await register(w, w.bob);
  const aliceFwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  const bobFwd = await memberForwarderAddress(w.rd.address, w.bob.address);
  const before = await revenue(w);

  // from a non-forwarder
  let r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('1'), memberPayoutBody({ queryId: 1n, member: w.alice.address, proxy: w.proxy.address, paid: toNano('1') }));
  let [rtx] = txsOn(r, w.rd.address);
  assert.is(exitOf(rtx!), DISTRIBUTION_EXIT.notForwarder);
  assert.is(memberRevenueIntake(rtx!), null);
  assert.ok(txsOn(r, w.stranger.address).some((t) => t.inMessage!.info.type === 'internal' && t.inMessage!.info.bounced), 'bounced back to the sender');
  // a forged backlog too
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, toNano('1'), memberBacklogBody({ queryId: 1n, member: w.alice.address }));
  assert.is(exitOf(txsOn(r, w.rd.address)[0]!), DISTRIBUTION_EXIT.notForwarder);
  // too little value for the intake's gas, not bounced: the indexer's reader rechecks the sender itself
  r = await sendBody(w.bc, w.stranger.address, w.rd.address, 500_000n, memberPayoutBody({ queryId: 1n, member: w.alice.address, proxy: w.proxy.address, paid: 1n }), { bounce: false });
  rtx = txsOn(r, w.rd.address)[0]!;
  assert.is(exitOf(rtx), -14);
  assert.is(memberRevenueIntake(rtx), null);

  // from bob's forwarder claiming alice: refused, bounced to bob's forwarder, which keeps it
  const bobBefore = await balance(w, bobFwd);
  r = await sendBody(w.bc, bobFwd, w.rd.address, toNano('0.5'), memberPayoutBody({ queryId: 2n, member: w.alice.address, proxy: w.proxy.address, paid: toNano('0.5') }));
  assert.is(exitOf(txsOn(r, w.rd.address)[0]!), DISTRIBUTION_EXIT.notForwarder);
  const [bounce] = txsOn(r, bobFwd);
  assert.ok(bounce!.inMessage!.info.type === 'internal' && bounce!.inMessage!.info.bounced);
  assert.is(exitOf(bounce!), 0);
  assert.is(sent(bounce!).length, 0, 'a bounced MemberPayout is kept');
  const backlog = (await balance(w, bobFwd)) - bobBefore;
  assert.ok(backlog > toNano('0.49'), `backlog ${backlog}`);
  assert.is(await revenue(w), before, 'nothing booked so far');

  // anyone flushes it: booked as bob's backlog; the flusher's change comes back
  r = await sendBody(w.bc, w.stranger.address, bobFwd, toNano('0.05'), flushBacklogBody({ queryId: 3n }));
  const [flush] = txsOn(r, bobFwd);
  assert.is(exitOf(flush!), 0);
  const [toPool, change] = sent(flush!);
  assert.ok(toPool!.to.equals(w.rd.address) && toPool!.bounce);
  assert.is(toPool!.value, bobBefore + backlog - FORWARDER_RESERVE, 'the balance held before the flush, minus the reserve');
  assert.ok(change!.to.equals(w.stranger.address) && !change!.bounce);
  assert.ok(change!.value > toNano('0.045'), `change ${change!.value}`);
  rtx = txsOn(r, w.rd.address)[0]!;
  assert.is(exitOf(rtx), 0);
  assert.equal(plain(memberRevenueIntake(rtx)), plain({
    kind: 'backlog', forwarder: bobFwd, member: w.bob.address, proxy: null, paid: null, amount: toPool!.value, queryId: 3n, countedByContract: true,
  }));
  assert.is((await revenue(w)) - before, toPool!.value);
  assert.is(await balance(w, bobFwd), FORWARDER_RESERVE);
  assert.is(computeGas(flush!), BigInt(FORWARDER_GAS.flush));
  assert.is(computeGas(rtx), BigInt(FORWARDER_GAS.memberBacklogIntake));

  // a flush with nothing to flush sends only the change
  r = await sendBody(w.bc, w.stranger.address, aliceFwd, toNano('0.05'), flushBacklogBody({ queryId: 4n }));
  const empty = txsOn(r, aliceFwd)[0]!;
  assert.is(exitOf(empty), 0);
  assert.equal(sent(empty).map((m) => m.to.toString()), [w.stranger.address.toString()]);
  assert.is(await balance(w, aliceFwd), FORWARDER_RESERVE);
});

test('a payout that arrives before the forwarder exists is flushed by the deployment on joining and booked', async () => {
  const w = await world();
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  const paid = toNano('0.7');
  let r = await payout(w, fwd, paid);
  assert.is(txsOn(r, fwd).length, 1);
  assert.is(await balance(w, fwd), paid, 'kept on the uninitialised account');
  const before = await revenue(w);
  r = await register(w, w.alice);
  const [deploy] = txsOn(r, fwd);
  assert.is(exitOf(deploy!), 0);
  const [toPool] = sent(deploy!);
  assert.ok(toPool!.to.equals(w.rd.address));
  assert.is(toPool!.value, paid - FORWARDER_RESERVE);
  const rtx = txsOn(r, w.rd.address)[0]!;
  assert.is(memberRevenueIntake(rtx)?.kind, 'backlog');
  assert.is((await revenue(w)) - before, paid - FORWARDER_RESERVE);
  assert.is(await balance(w, fwd), FORWARDER_RESERVE);
});

test('a payout too small for the forward\'s gas: burnt as gas above 40,000 nanoTON (exit −14), kept as backlog below', async () => {
  const w = await world();
  await register(w, w.alice);
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  let r = await payout(w, fwd, 500_000n); // buys 1,250 gas: all of it is charged
  assert.is(exitOf(txsOn(r, fwd)[0]!), -14);
  assert.is(txsOn(r, w.rd.address).length, 0);
  assert.ok((await balance(w, fwd)) >= FORWARDER_RESERVE, 'the reserve is not touched');
  const before = await balance(w, fwd);
  r = await payout(w, fwd, 30_000n); // below the flat gas price: no compute phase, the value stays
  assert.is(txsOn(r, w.rd.address).length, 0);
  assert.is((await balance(w, fwd)) - before, 30_000n);
});

test('a forwarded payout too small for the distribution\'s intake is booked from its transaction (countedByContract false)', async () => {
  const w = await world();
  await register(w, w.alice);
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  const before = await revenue(w);
  const r = await payout(w, fwd, 1_900_000n); // covers the forward, not the intake
  assert.is(exitOf(txsOn(r, fwd)[0]!), 0);
  const rtx = txsOn(r, w.rd.address)[0]!;
  assert.is(exitOf(rtx), -14);
  const intake = memberRevenueIntake(rtx)!;
  assert.is(intake.countedByContract, false);
  assert.is(intake.paid, 1_900_000n);
  assert.is(intake.amount, rtx.inMessage!.info.type === 'internal' ? rtx.inMessage!.info.value.coins : -1n);
  assert.is(txsOn(r, fwd).length, 1, 'nothing bounced back (the value was spent on gas)');
  assert.is(await revenue(w), before);
});

// ---------------------------------------------------------------- everything else goes to the member

test('plain transfers, comments and unknown ops go to the member, never to the pool', async () => {
  const w = await world();
  await register(w, w.alice);
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  for (const body of [Cell.EMPTY, beginCell().storeUint(0, 32).storeStringTail('hello').endCell(), beginCell().storeUint(0x12345678, 32).storeUint(1, 64).endCell(), beginCell().storeUint(5, 8).endCell()]) {
    const r = await sendBody(w.bc, w.stranger.address, fwd, toNano('0.3'), body);
    const [tx] = txsOn(r, fwd);
    assert.is(exitOf(tx!), 0);
    const out = sent(tx!);
    assert.is(out.length, 1);
    assert.ok(out[0]!.to.equals(w.alice.address));
    assert.is(out[0]!.bounce, false);
    assert.ok(out[0]!.body.equals(body), 'with the same body');
    assert.ok(out[0]!.value > toNano('0.29'));
    assert.is(txsOn(r, w.rd.address).length, 0);
  }
  assert.is(await balance(w, fwd), FORWARDER_RESERVE);
});

// ---------------------------------------------------------------- relay to a cocoon wallet (Cocoon's own code)

test('relay: the member withdraws its cocoon wallet\'s float ("w") and gets it through the forwarder; "b"/"u" toggle the wallet', async () => {
  const w = await world();
  await register(w, w.alice);
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  const wallet = await cocoonWallet(w, fwd, toNano('2.5'));
  const float = await balance(w, wallet); // 2.5 TON minus the gas of its deployment
  const relayValue = toNano('0.05');
  const before = await revenue(w);
  let r = await sendBody(w.bc, w.alice.address, fwd, relayValue, relayToCocoonWalletBody({ queryId: 1n, wallet, command: 'w' }));
  const [relay, reply] = txsOn(r, fwd);
  assert.is(exitOf(relay!), 0);
  assert.is(exitOf(txsOn(r, wallet)[0]!), 0);
  assert.is(await balance(w, wallet), toNano('0.01'), 'the wallet keeps its 0.01 TON (cocoon_wallet.fc)');
  // the wallet's "w" reply reached the forwarder and went on to alice, not the pool
  assert.is(exitOf(reply!), 0);
  assert.ok(reply!.inMessage!.body.equals(beginCell().storeUint(0, 32).storeUint(0x77, 8).endCell()));
  const [toMember] = sent(reply!);
  assert.ok(toMember!.to.equals(w.alice.address) && !toMember!.bounce);
  const fees = float + relayValue - toNano('0.01') - toMember!.value;
  assert.ok(toMember!.value > float - toNano('0.01'), `alice received ${toMember!.value}`);
  assert.ok(fees < toNano('0.01'), `fees of the round trip ${fees}`);
  assert.is(await revenue(w), before);
  assert.is(await balance(w, fwd), FORWARDER_RESERVE);
  assert.is(computeGas(relay!) + computeGas(reply!), BigInt(FORWARDER_GAS.relayRoundTrip));

  r = await sendBody(w.bc, w.alice.address, fwd, relayValue, relayToCocoonWalletBody({ queryId: 2n, wallet, command: 'b' }));
  assert.is(exitOf(txsOn(r, wallet)[0]!), 0);
  assert.is(await walletStatus(w, wallet), 1n, 'blocked');
  r = await sendBody(w.bc, w.alice.address, fwd, relayValue, relayToCocoonWalletBody({ queryId: 3n, wallet, command: 'u' }));
  assert.is(await walletStatus(w, wallet), 0n, 'unblocked');
  // owner_wallet_send_message: the wallet sends a message of the member's choosing
  const inner = beginCell().storeUint(0x10, 6).storeAddress(w.bob.address).storeCoins(toNano('0.001')).storeUint(0, 107).endCell();
  r = await sendBody(w.bc, w.alice.address, fwd, relayValue, relayToCocoonWalletBody({ queryId: 4n, wallet, command: { mode: 1, body: inner } }));
  assert.is(exitOf(txsOn(r, wallet)[0]!), 0);
  assert.ok(txsOn(r, w.bob.address).length === 1, 'the wallet sent the inner message');
});

test('relay refusals: another sender, the pool as destination, commands off the whitelist; a bounced relay goes to the member', async () => {
  const w = await world();
  await register(w, w.alice);
  const fwd = await memberForwarderAddress(w.rd.address, w.alice.address);
  const wallet = await cocoonWallet(w, fwd, toNano('2.5'));
  const float = await balance(w, wallet);
  const relay = (from: Address, body: Cell) => sendBody(w.bc, from, fwd, toNano('0.05'), body);

  let r = await relay(w.stranger.address, relayToCocoonWalletBody({ queryId: 1n, wallet, command: 'w' }));
  assert.is(exitOf(txsOn(r, fwd)[0]!), FORWARDER_EXIT.notMember);
  r = await relay(w.alice.address, relayToCocoonWalletBody({ queryId: 1n, wallet: w.rd.address, command: 'w' }));
  assert.is(exitOf(txsOn(r, fwd)[0]!), FORWARDER_EXIT.relayToPool);
  const off = (command: Cell) => beginCell().storeUint(FORWARDER_OPS.relayToCocoonWallet, 32).storeUint(1, 64).storeAddress(wallet).storeRef(command).endCell();
  for (const command of [
    beginCell().storeUint(0, 32).storeUint(0x78, 8).endCell(), // "x"
    beginCell().storeUint(0, 32).storeStringTail('ww').endCell(), // two bytes
    beginCell().storeUint(0, 32).storeUint(0x77, 8).storeRef(Cell.EMPTY).endCell(), // "w" with a reference
    beginCell().storeUint(0x12345678, 32).storeUint(0, 64).endCell(), // another op
    beginCell().storeUint(FORWARDER_OPS.ownerWalletSendMessage, 32).storeUint(0, 64).storeUint(1, 8).endCell(), // no message
    beginCell().storeUint(0x77, 8).endCell(), // shorter than an op
  ]) {
    r = await relay(w.alice.address, off(command));
    assert.is(exitOf(txsOn(r, fwd)[0]!), FORWARDER_EXIT.commandNotAllowed);
  }
  assert.is(await balance(w, wallet), float, 'nothing reached the wallet');

  // a wallet that is not the forwarder's refuses (1040, not its owner): the bounce goes to alice
  const foreign = await cocoonWallet(w, w.bob.address, toNano('2.5'));
  r = await relay(w.alice.address, relayToCocoonWalletBody({ queryId: 5n, wallet: foreign, command: 'w' }));
  assert.is(exitOf(txsOn(r, foreign)[0]!), 1040);
  const [, bounce] = txsOn(r, fwd);
  assert.ok(bounce!.inMessage!.info.type === 'internal' && bounce!.inMessage!.info.bounced);
  const out = sent(bounce!);
  assert.is(out.length, 1);
  assert.ok(out[0]!.to.equals(w.alice.address));
  assert.is(await balance(w, fwd), FORWARDER_RESERVE);
});

test.run();
