/**
 * PoolOperator + ParticipantRegistry on @ton/sandbox: registration through the operator, stakes,
 * withdrawal timelock, slashing, reputation, worker binding, timelocked parameters, pause, and
 * bounced registry messages.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Blockchain, type SandboxContract } from '@ton/sandbox';
import { type Address, beginCell, type Cell, toNano } from '@ton/core';
import {
  applyParamsBody,
  cancelParamsBody,
  DEFAULT_POOL_PARAMS,
  OPERATOR_EXIT,
  OPERATOR_OPS,
  pausePoolBody,
  PoolOperator,
  poolOperatorDeployment,
  proposeParamsBody,
  refundBouncedBody,
  REGISTER_GAS_VALUE,
  registerBody,
  resumePoolBody,
  setRegistrationOpenBody,
  syncRegistryBody,
} from '../../contracts/operator.ts';
import {
  bindWorkerBody,
  completeWithdrawalBody,
  increaseStakeBody,
  ParticipantRegistry,
  PARTICIPANT_STATUS,
  REFUSAL_REASON,
  REGISTRY_EXIT,
  registryAt,
  requestWithdrawalBody,
  setReputationBody,
  slashBody,
  withdrawSlashedBody,
} from '../../contracts/registry.ts';
import { storeRegistryAdd } from '../../contracts/build/PoolOperator/PoolOperator_PoolOperator.ts';
import { memberForwarderAddress } from '../../contracts/forwarder.ts';
import { eventsOn, exitCode, outcome, sendBody, sentBy, testAddress, type Wallet } from './sandbox.ts';

const raw = (a: Address) => a.toRawString();
const STAKE = toNano('100');
const DAY = 86_400;
/** the pool's RewardDistribution as the registry knows it (the `pool` of the members' forwarders) */
const DISTRIBUTION = testAddress(900);

interface Pool {
  bc: Blockchain;
  owner: Wallet;
  alice: Wallet;
  bob: Wallet;
  op: SandboxContract<PoolOperator>;
  reg: SandboxContract<ParticipantRegistry>;
}

async function pool(): Promise<Pool> {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000;
  const owner = await bc.treasury('owner');
  const alice = await bc.treasury('alice', { balance: toNano('10000') });
  const bob = await bc.treasury('bob', { balance: toNano('10000') });
  const op = bc.openContract(await PoolOperator.fromInit(owner.address, 3n, DISTRIBUTION));
  await op.send(owner.getSender(), { value: toNano('1') }, null);
  const reg = bc.openContract(registryAt((await op.getInfo()).registry));
  return { bc, owner, alice, bob, op, reg };
}

const GPU = 0xabcdefn;

function register(p: Pool, who: Wallet, stake = STAKE, extra = REGISTER_GAS_VALUE, worker: Address | null = null) {
  return sendBody(p.bc, who.address, p.op.address, stake + extra, registerBody({ queryId: 5n, stake, gpuSpecHash: GPU, gpuCount: 8n, worker }));
}

function ownerTo(p: Pool, to: Address, body: Cell, value = toNano('0.2')) {
  return sendBody(p.bc, p.owner.address, to, value, body);
}

test('deployment: the operator deploys its registry with the default parameters', async () => {
  const p = await pool();
  const expected = await poolOperatorDeployment(p.owner.address, 3n, DISTRIBUTION);
  assert.ok(expected.address.equals(p.op.address));
  assert.ok(expected.registry.equals(p.reg.address));
  const info = await p.reg.getInfo();
  assert.ok(info.operator.equals(p.op.address));
  assert.ok(info.owner.equals(p.owner.address));
  assert.ok((await p.reg.getDistribution()).equals(DISTRIBUTION));
  assert.is(info.minStake, DEFAULT_POOL_PARAMS.minStake);
  assert.is(info.maxParticipants, DEFAULT_POOL_PARAMS.maxParticipants);
  assert.is(info.withdrawalDelay, 7n * BigInt(DAY));
  const opInfo = await p.op.getInfo();
  assert.is(opInfo.params.paramsDelay, 3n * BigInt(DAY));
  assert.is(opInfo.params.operatorFeeBps, 500n);
});

test('registration through the operator stores the participant and returns the unspent gas', async () => {
  const p = await pool();
  const worker = testAddress(42);
  const r = await register(p, p.alice, STAKE, toNano('1'), worker);
  assert.ok(outcome(r, p.op.address).ok);
  assert.ok(outcome(r, p.reg.address).ok);
  assert.equal(eventsOn(r, p.op.address), [{ $$type: 'RegistrationForwarded', queryId: 5n, participant: raw(p.alice.address), stake: STAKE }]);
  assert.equal(eventsOn(r, p.reg.address), [
    { $$type: 'ParticipantRegistered', queryId: 5n, participant: raw(p.alice.address), stake: STAKE, gpuSpecHash: GPU, gpuCount: 8n, worker: raw(worker) },
  ]);
  // first the member's forwarder deployment (tests/contracts/forwarder.test.ts), then the change
  const [deploy, change] = sentBy(r, p.reg.address);
  assert.is(sentBy(r, p.reg.address).length, 2);
  assert.ok(deploy!.to.equals(await memberForwarderAddress(DISTRIBUTION, p.alice.address)));
  assert.ok(change!.to.equals(p.alice.address));
  assert.ok(change!.value > toNano('0.96') && change!.value < toNano('1'), `change ${change!.value}`);
  const stored = (await p.reg.getParticipant(p.alice.address))!;
  assert.is(stored.stake, STAKE);
  assert.is(stored.gpuCount, 8n);
  assert.is(stored.gpuSpecHash, GPU);
  assert.ok(stored.worker!.equals(worker));
  assert.is(stored.reputation, 500n);
  assert.is(stored.status, PARTICIPANT_STATUS.active);
  assert.is(stored.joinedAt, BigInt(p.bc.now!));
  assert.is(await p.reg.getIsActive(p.alice.address), true);
  const info = await p.reg.getInfo();
  assert.is(info.participantCount, 1n);
  assert.is(info.totalStake, STAKE);
});

test('registration refused at the operator: stake, value, GPU count, closed, paused', async () => {
  const p = await pool();
  let r = await register(p, p.alice, STAKE - 1n);
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.stakeTooLow);
  r = await register(p, p.alice, STAKE, toNano('0.01'));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.valueTooLow);
  r = await sendBody(p.bc, p.alice.address, p.op.address, STAKE + REGISTER_GAS_VALUE, registerBody({ queryId: 5n, stake: STAKE, gpuSpecHash: GPU, gpuCount: 0n, worker: null }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.badGpu);
  r = await sendBody(p.bc, p.alice.address, p.op.address, toNano('0.1'), setRegistrationOpenBody({ queryId: 1n, open: false }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notOwner);
  r = await ownerTo(p, p.op.address, setRegistrationOpenBody({ queryId: 1n, open: false }));
  assert.equal(eventsOn(r, p.op.address), [{ $$type: 'RegistrationOpenSet', queryId: 1n, open: false }]);
  assert.is(await p.op.getCanRegister(), false);
  r = await register(p, p.alice);
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.registrationClosed);
  await ownerTo(p, p.op.address, setRegistrationOpenBody({ queryId: 2n, open: true }));
  await ownerTo(p, p.op.address, pausePoolBody({ queryId: 3n }));
  r = await register(p, p.alice);
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.paused);
  assert.is((await p.reg.getInfo()).participantCount, 0n);
});

test('registration refused at the registry (duplicate, full) returns the stake to the participant', async () => {
  const p = await pool();
  await register(p, p.alice);
  let r = await register(p, p.alice, toNano('150'));
  assert.ok(outcome(r, p.reg.address).ok, 'a refusal is not a throw');
  assert.equal(eventsOn(r, p.reg.address), [
    { $$type: 'RegistrationRefused', queryId: 5n, participant: raw(p.alice.address), stake: toNano('150'), reason: REFUSAL_REASON.alreadyRegistered },
  ]);
  const back = sentBy(r, p.reg.address);
  assert.is(back.length, 1);
  assert.ok(back[0]!.to.equals(p.alice.address));
  assert.is(back[0]!.bounce, false);
  assert.ok(back[0]!.value > toNano('150.02'), 'the stake and the unspent gas');
  assert.is((await p.reg.getParticipant(p.alice.address))!.stake, STAKE);

  // maxParticipants = 1 through the timelock, then bob finds the pool full
  await ownerTo(p, p.op.address, proposeParamsBody({ queryId: 1n, params: { ...DEFAULT_POOL_PARAMS, maxParticipants: 1n } }));
  p.bc.now! += 3 * DAY;
  await ownerTo(p, p.op.address, applyParamsBody({ queryId: 2n }));
  r = await register(p, p.bob);
  assert.is(eventsOn(r, p.reg.address)[0]!.reason, REFUSAL_REASON.full);
  assert.is(await p.reg.getParticipant(p.bob.address), null);
});

test('only the operator may add participants or set registry parameters', async () => {
  const p = await pool();
  const fake = beginCell().store(storeRegistryAdd({ $$type: 'RegistryAdd', queryId: 1n, stake: STAKE, participant: p.alice.address, gpuSpecHash: 1n, gpuCount: 1n, worker: null })).endCell();
  let r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('1'), fake);
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notOperator);
  r = await sendBody(p.bc, p.owner.address, p.reg.address, toNano('1'), beginCell().storeUint(0x50c0e20a, 32).storeUint(1, 64).storeBit(true).endCell());
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notOperator);
});

test('stake increase: registered participant, value covers amount and gas, reactivates a suspended one', async () => {
  const p = await pool();
  let r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('11'), increaseStakeBody({ queryId: 1n, amount: toNano('10') }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notRegistered);
  await register(p, p.alice);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('10'), increaseStakeBody({ queryId: 1n, amount: toNano('10') }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.valueTooLow);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('10'), increaseStakeBody({ queryId: 1n, amount: 0n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.badAmount);
  // slash below the minimum, then top up
  await ownerTo(p, p.reg.address, slashBody({ queryId: 2n, participant: p.alice.address, amount: toNano('30'), bps: 0n, reason: 7n }));
  assert.is((await p.reg.getParticipant(p.alice.address))!.status, PARTICIPANT_STATUS.suspended);
  assert.is(await p.reg.getIsActive(p.alice.address), false);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('31'), increaseStakeBody({ queryId: 3n, amount: toNano('30') }));
  assert.ok(outcome(r, p.reg.address).ok);
  assert.equal(eventsOn(r, p.reg.address), [
    { $$type: 'StakeIncreased', queryId: 3n, participant: raw(p.alice.address), amount: toNano('30'), stake: STAKE, status: PARTICIPANT_STATUS.active },
  ]);
  assert.ok(sentBy(r, p.reg.address)[0]!.value > toNano('0.95'), 'the change comes back');
  assert.is((await p.reg.getInfo()).totalStake, STAKE);
});

test('withdrawal: request rules, timelock (blockchain.now), completion pays and removes a full exit', async () => {
  const p = await pool();
  await register(p, p.alice, toNano('300'));
  let r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), requestWithdrawalBody({ queryId: 1n, amount: toNano('250') }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.leavesLessThanMinimum);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), requestWithdrawalBody({ queryId: 1n, amount: toNano('301') }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.badAmount);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), completeWithdrawalBody({ queryId: 1n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.noWithdrawal);

  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), requestWithdrawalBody({ queryId: 2n, amount: toNano('200') }));
  const unlockAt = BigInt(p.bc.now! + 7 * DAY);
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'WithdrawalRequested', queryId: 2n, participant: raw(p.alice.address), amount: toNano('200'), unlockAt }]);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), requestWithdrawalBody({ queryId: 3n, amount: toNano('1') }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.withdrawalPending);

  p.bc.now! += 7 * DAY - 1;
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), completeWithdrawalBody({ queryId: 4n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.timelock);
  p.bc.now! += 1;
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), completeWithdrawalBody({ queryId: 4n }));
  assert.ok(outcome(r, p.reg.address).ok);
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'WithdrawalCompleted', queryId: 4n, participant: raw(p.alice.address), amount: toNano('200'), stake: STAKE }]);
  const paid = sentBy(r, p.reg.address);
  assert.is(paid[0]!.value, toNano('200'));
  assert.is(paid[0]!.bounce, false);
  assert.is((await p.reg.getParticipant(p.alice.address))!.stake, STAKE);

  // full exit
  await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), requestWithdrawalBody({ queryId: 5n, amount: STAKE }));
  p.bc.now! += 7 * DAY;
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), completeWithdrawalBody({ queryId: 6n }));
  assert.is(eventsOn(r, p.reg.address)[0]!.stake, 0n);
  assert.is(await p.reg.getParticipant(p.alice.address), null);
  const info = await p.reg.getInfo();
  assert.is(info.participantCount, 0n);
  assert.is(info.totalStake, 0n);
});

test('slashing: owner only, by amount or bps, never above the stake; a slash after a request pays what is left', async () => {
  const p = await pool();
  await register(p, p.alice, toNano('200'));
  let r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), slashBody({ queryId: 1n, participant: p.alice.address, amount: 1n, bps: 0n, reason: 1n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notOwner);
  r = await ownerTo(p, p.reg.address, slashBody({ queryId: 1n, participant: p.alice.address, amount: toNano('201'), bps: 0n, reason: 1n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.badSlash);
  r = await ownerTo(p, p.reg.address, slashBody({ queryId: 1n, participant: p.alice.address, amount: 0n, bps: 10001n, reason: 1n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.badSlash);
  r = await ownerTo(p, p.reg.address, slashBody({ queryId: 1n, participant: p.bob.address, amount: 1n, bps: 0n, reason: 1n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notRegistered);

  r = await ownerTo(p, p.reg.address, slashBody({ queryId: 2n, participant: p.alice.address, amount: 0n, bps: 1000n, reason: 9n }));
  assert.equal(eventsOn(r, p.reg.address), [
    { $$type: 'ParticipantSlashed', queryId: 2n, participant: raw(p.alice.address), amount: toNano('20'), reason: 9n, stake: toNano('180'), status: PARTICIPANT_STATUS.active },
  ]);
  await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), requestWithdrawalBody({ queryId: 3n, amount: toNano('180') }));
  r = await ownerTo(p, p.reg.address, slashBody({ queryId: 4n, participant: p.alice.address, amount: toNano('100'), bps: 0n, reason: 9n }));
  assert.is(eventsOn(r, p.reg.address)[0]!.status, PARTICIPANT_STATUS.suspended, 'below the minimum');
  p.bc.now! += 7 * DAY;
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), completeWithdrawalBody({ queryId: 5n }));
  assert.is(sentBy(r, p.reg.address)[0]!.value, toNano('80'));
  const info = await p.reg.getInfo();
  assert.is(info.slashedFunds, toNano('120'));
  assert.is(info.totalStake, 0n);

  // a slash of the whole stake removes the participant
  await register(p, p.bob);
  r = await ownerTo(p, p.reg.address, slashBody({ queryId: 5n, participant: p.bob.address, amount: 0n, bps: 10000n, reason: 3n }));
  assert.is(eventsOn(r, p.reg.address)[0]!.stake, 0n);
  assert.is(await p.reg.getParticipant(p.bob.address), null);
  assert.is((await p.reg.getInfo()).participantCount, 0n);
  r = await ownerTo(p, p.reg.address, withdrawSlashedBody({ queryId: 6n, amount: STAKE, to: testAddress(78) }));
  assert.ok(outcome(r, p.reg.address).ok);

  // slashed funds go where the owner says (e.g. the distribution contract as revenue)
  const to = testAddress(77);
  r = await ownerTo(p, p.reg.address, withdrawSlashedBody({ queryId: 6n, amount: toNano('121'), to }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.exceedsSlashed);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.2'), withdrawSlashedBody({ queryId: 6n, amount: toNano('1'), to }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notOwner);
  r = await ownerTo(p, p.reg.address, withdrawSlashedBody({ queryId: 6n, amount: toNano('120'), to }));
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'SlashedFundsWithdrawn', queryId: 6n, amount: toNano('120'), to: raw(to) }]);
  assert.is(sentBy(r, p.reg.address)[0]!.value, toNano('120'));
});

test('reputation: owner sets 0..1000', async () => {
  const p = await pool();
  await register(p, p.alice);
  let r = await ownerTo(p, p.reg.address, setReputationBody({ queryId: 1n, participant: p.alice.address, reputation: 1001n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.badReputation);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), setReputationBody({ queryId: 1n, participant: p.alice.address, reputation: 1000n }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notOwner);
  r = await ownerTo(p, p.reg.address, setReputationBody({ queryId: 1n, participant: p.alice.address, reputation: 730n }));
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'ReputationSet', queryId: 1n, participant: raw(p.alice.address), reputation: 730n }]);
  assert.is((await p.reg.getParticipant(p.alice.address))!.reputation, 730n);
});

test('worker binding: by the participant or the owner, not by others', async () => {
  const p = await pool();
  await register(p, p.alice);
  const worker = testAddress(5);
  let r = await sendBody(p.bc, p.bob.address, p.reg.address, toNano('0.1'), bindWorkerBody({ queryId: 1n, participant: p.alice.address, worker }));
  assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.notParticipantOrOwner);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('0.1'), bindWorkerBody({ queryId: 1n, participant: p.alice.address, worker }));
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'WorkerBound', queryId: 1n, participant: raw(p.alice.address), worker: raw(worker) }]);
  r = await ownerTo(p, p.reg.address, bindWorkerBody({ queryId: 2n, participant: p.alice.address, worker: null }));
  assert.ok(outcome(r, p.reg.address).ok);
  assert.is((await p.reg.getParticipant(p.alice.address))!.worker, null);
});

test('parameters: propose (owner, valid), apply only after the delay, reaches the registry; cancel', async () => {
  const p = await pool();
  const params = { ...DEFAULT_POOL_PARAMS, operatorFeeBps: 300n, minStake: toNano('50'), withdrawalDelay: 2n * BigInt(DAY) };
  let r = await sendBody(p.bc, p.alice.address, p.op.address, toNano('0.1'), proposeParamsBody({ queryId: 1n, params }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notOwner);
  for (const bad of [{ operatorFeeBps: 10001n }, { minStake: 0n }, { maxParticipants: 0n }, { maxParticipants: 20001n }, { paramsDelay: 60n }]) {
    r = await ownerTo(p, p.op.address, proposeParamsBody({ queryId: 1n, params: { ...params, ...bad } }));
    assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.badParams, JSON.stringify(bad, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
  }
  r = await ownerTo(p, p.op.address, applyParamsBody({ queryId: 1n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.noPending);

  r = await ownerTo(p, p.op.address, proposeParamsBody({ queryId: 2n, params }));
  const readyAt = BigInt(p.bc.now! + 3 * DAY);
  assert.is(eventsOn(r, p.op.address)[0]!.readyAt, readyAt);
  assert.is((await p.op.getInfo()).pending!.readyAt, readyAt);
  p.bc.now! += 3 * DAY - 1;
  r = await ownerTo(p, p.op.address, applyParamsBody({ queryId: 3n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.timelock);
  p.bc.now! += 1;
  r = await sendBody(p.bc, p.alice.address, p.op.address, toNano('0.1'), applyParamsBody({ queryId: 3n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notOwner);
  r = await ownerTo(p, p.op.address, applyParamsBody({ queryId: 3n }));
  assert.ok(outcome(r, p.op.address).ok);
  assert.is(eventsOn(r, p.op.address)[0]!.$$type, 'ParamsApplied');
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'RegistryParamsSet', queryId: 3n, minStake: toNano('50'), maxParticipants: 1000n, withdrawalDelay: 2n * BigInt(DAY) }]);
  const info = await p.op.getInfo();
  assert.is(info.params.operatorFeeBps, 300n);
  assert.is(info.pending, null);
  assert.is((await p.reg.getInfo()).minStake, toNano('50'));
  assert.is(exitCode(await register(p, p.alice, toNano('50')), p.reg.address), 0);

  await ownerTo(p, p.op.address, proposeParamsBody({ queryId: 4n, params: DEFAULT_POOL_PARAMS }));
  r = await sendBody(p.bc, p.alice.address, p.op.address, toNano('0.1'), cancelParamsBody({ queryId: 5n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notOwner);
  r = await ownerTo(p, p.op.address, cancelParamsBody({ queryId: 5n }));
  assert.equal(eventsOn(r, p.op.address), [{ $$type: 'ParamsCancelled', queryId: 5n }]);
  p.bc.now! += 3 * DAY;
  r = await ownerTo(p, p.op.address, applyParamsBody({ queryId: 6n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.noPending);
});

test('pause/resume of the pool reaches the registry and stops participant operations', async () => {
  const p = await pool();
  await register(p, p.alice, toNano('200'));
  let r = await sendBody(p.bc, p.alice.address, p.op.address, toNano('0.1'), pausePoolBody({ queryId: 1n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notOwner);
  r = await ownerTo(p, p.op.address, resumePoolBody({ queryId: 1n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notPaused);
  r = await ownerTo(p, p.op.address, pausePoolBody({ queryId: 2n }));
  assert.equal(eventsOn(r, p.op.address), [{ $$type: 'PoolPaused', queryId: 2n }]);
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'RegistryPausedSet', queryId: 2n, paused: true }]);
  r = await ownerTo(p, p.op.address, pausePoolBody({ queryId: 3n }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.alreadyPaused);
  for (const body of [
    increaseStakeBody({ queryId: 4n, amount: toNano('1') }),
    requestWithdrawalBody({ queryId: 4n, amount: toNano('10') }),
    completeWithdrawalBody({ queryId: 4n }),
    bindWorkerBody({ queryId: 4n, participant: p.alice.address, worker: null }),
  ]) {
    r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('2'), body);
    assert.is(exitCode(r, p.reg.address), REGISTRY_EXIT.paused);
  }
  r = await ownerTo(p, p.op.address, resumePoolBody({ queryId: 5n }));
  assert.equal(eventsOn(r, p.reg.address), [{ $$type: 'RegistryPausedSet', queryId: 5n, paused: false }]);
  r = await sendBody(p.bc, p.alice.address, p.reg.address, toNano('2'), increaseStakeBody({ queryId: 6n, amount: toNano('1') }));
  assert.is(exitCode(r, p.reg.address), 0);
});

test('a bounced registry message is kept as bounced funds, refundable by the owner; SyncRegistry re-sends state', async () => {
  const p = await pool();
  // what the validator delivers when a RegistryAdd bounces: 0xffffffff + the first 256 bits
  const bounced = beginCell().storeUint(0xffffffff, 32).storeUint(0x50c0e201, 32).storeUint(5, 64).storeCoins(STAKE).endCell();
  let r = await sendBody(p.bc, p.reg.address, p.op.address, toNano('100.04'), bounced, { bounce: false, bounced: true });
  assert.equal(eventsOn(r, p.op.address), [{ $$type: 'RegistryMessageBounced', queryId: 5n, op: BigInt(0x50c0e201), amount: toNano('100.04') }]);
  assert.is((await p.op.getInfo()).bouncedFunds, toNano('100.04'));

  const to = p.alice.address;
  r = await ownerTo(p, p.op.address, refundBouncedBody({ queryId: 6n, amount: toNano('100.05'), to }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.exceedsBounced);
  r = await sendBody(p.bc, p.alice.address, p.op.address, toNano('0.1'), refundBouncedBody({ queryId: 6n, amount: 1n, to }));
  assert.is(exitCode(r, p.op.address), OPERATOR_EXIT.notOwner);
  r = await ownerTo(p, p.op.address, refundBouncedBody({ queryId: 6n, amount: toNano('100.04'), to }));
  assert.equal(eventsOn(r, p.op.address), [{ $$type: 'BouncedRefunded', queryId: 6n, amount: toNano('100.04'), to: raw(to) }]);
  assert.is(sentBy(r, p.op.address)[0]!.value, toNano('100.04'));
  assert.is((await p.op.getInfo()).bouncedFunds, 0n);

  r = await ownerTo(p, p.op.address, syncRegistryBody({ queryId: 7n }), toNano('0.1'));
  const regEvents = r.transactions.filter((t) => t.inMessage?.info.dest?.toString() === p.reg.address.toString()).length;
  assert.is(regEvents, 2);
  assert.is(OPERATOR_OPS.syncRegistry, 0x50c0e108);
});

test.run();
