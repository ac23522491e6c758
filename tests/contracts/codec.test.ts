/**
 * The typed contract layer without a chain: event decoding (every op known, unknown and
 * malformed bodies refused), message builders' typed errors, payout body decoding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { beginCell } from '@ton/core';
import { storeParticipantRegistered } from '../../contracts/build/PoolOperator/PoolOperator_PoolOperator.ts';
import { storeRewardBatchPaid, storeRewardPayout } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { ContractDecodeError, ContractMessageError } from '../../contracts/codec.ts';
import { claimRewardBody, commitEpochRootBody, decodeRewardPayout, DISTRIBUTION_OPS, rootToUint, withdrawOperatorFeeBody } from '../../contracts/distribution.ts';
import { decodeEvent, EVENT_OPS } from '../../contracts/events.ts';
import { proposeParamsBody, DEFAULT_POOL_PARAMS } from '../../contracts/operator.ts';
import { slashBody } from '../../contracts/registry.ts';
import { testAddress } from './sandbox.ts';

test('every event has a distinct 0x50c0eeXX op', () => {
  const ops = Object.values(EVENT_OPS);
  assert.is(ops.length, 27);
  assert.is(new Set(ops).size, ops.length);
  for (const op of ops) assert.is(op >>> 8, 0x50c0ee);
});

test('decodeEvent round-trips a generated body, including one spread over two cells', () => {
  const participant = testAddress(1);
  const registered = beginCell()
    .store(storeParticipantRegistered({ $$type: 'ParticipantRegistered', queryId: 1n, participant, stake: 5n, gpuSpecHash: 9n, gpuCount: 2n, worker: testAddress(2) }))
    .endCell();
  assert.is(registered.refs.length, 1, 'Tact moved the last fields to a reference');
  const event = decodeEvent(registered);
  assert.is(event.$$type, 'ParticipantRegistered');
  if (event.$$type !== 'ParticipantRegistered') return;
  assert.ok(event.participant.equals(participant));
  assert.ok(event.worker!.equals(testAddress(2)));
});

test('decodeEvent refuses unknown ops, short bodies and trailing data with ContractDecodeError', () => {
  assert.throws(() => decodeEvent(beginCell().storeUint(0xdeadbeef, 32).endCell()), (e: Error) => e instanceof ContractDecodeError && /0xdeadbeef/.test(e.message));
  assert.throws(() => decodeEvent(beginCell().storeUint(1, 8).endCell()), (e: Error) => e instanceof ContractDecodeError);
  assert.throws(() => decodeEvent(beginCell().storeUint(EVENT_OPS.Paused, 32).storeUint(1, 32).endCell()), (e: Error) => e instanceof ContractDecodeError);
  const ok = beginCell().store(storeRewardBatchPaid({ $$type: 'RewardBatchPaid', queryId: 1n, epochId: 2n, fromIndex: 3n, count: 4n, paidCount: 4n, paidAmount: 10n })).endCell();
  assert.is(decodeEvent(ok).$$type, 'RewardBatchPaid');
  const trailing = beginCell().storeSlice(ok.beginParse()).storeBit(true).endCell();
  assert.throws(() => decodeEvent(trailing), (e: Error) => e instanceof ContractDecodeError && /left after decoding/.test(e.message));
});

test('decodeRewardPayout reads (epoch, index) and refuses other bodies', () => {
  const body = beginCell().store(storeRewardPayout({ $$type: 'RewardPayout', epochId: 12n, index: 345n })).endCell();
  assert.equal(decodeRewardPayout(body), { epochId: 12n, index: 345n });
  assert.is(body.beginParse().loadUint(32), DISTRIBUTION_OPS.rewardPayout);
  assert.throws(() => decodeRewardPayout(beginCell().storeUint(DISTRIBUTION_OPS.excesses, 32).storeUint(1, 64).endCell()), (e: Error) => e instanceof ContractDecodeError);
});

test('builders throw ContractMessageError naming the message for out-of-range fields', () => {
  assert.throws(() => commitEpochRootBody({ queryId: -1n, epochId: 1n, root: 0n, leafCount: 0n, total: 0n, operatorFee: 0n }), (e: Error) => e instanceof ContractMessageError && e.message.startsWith('CommitEpochRoot'));
  assert.throws(() => withdrawOperatorFeeBody({ queryId: 1n, amount: -5n, to: testAddress(1) }), (e: Error) => e instanceof ContractMessageError);
  assert.throws(() => claimRewardBody({ queryId: 1n, epochId: 2n ** 32n, index: 0n, proof: beginCell().endCell() }), (e: Error) => e instanceof ContractMessageError);
  assert.throws(() => slashBody({ queryId: 1n, participant: testAddress(1), amount: 0n, bps: 70000n, reason: 1n }), (e: Error) => e instanceof ContractMessageError);
  assert.throws(() => proposeParamsBody({ queryId: 1n, params: { ...DEFAULT_POOL_PARAMS, operatorFeeBps: -1n } }), (e: Error) => e instanceof ContractMessageError);
  assert.throws(() => rootToUint(Buffer.alloc(31)), (e: Error) => e instanceof ContractMessageError);
  assert.is(rootToUint(Buffer.alloc(32, 0xff)), 2n ** 256n - 1n);
});

test.run();
