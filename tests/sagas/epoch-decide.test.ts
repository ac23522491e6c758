import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import { decide, parseQueryId, planBatches, queryIdFor, type SagaSettings } from '../../sagas/epoch/decide.ts';
import { emptySagaState, evolve, type SagaState } from '../../sagas/epoch/state.ts';

const settings: SagaSettings = { epochMs: 20_000, batchSize: 2, maxBatchesInFlight: 2, resubmitAfterMs: 30_000, maxRefusedAttempts: 2 };
const OPERATOR = `0:${'0f'.repeat(32)}`;
const artifact = { bucket: 'b', name: 'n', sha256: 'a'.repeat(64), bytes: 1, rows: 1 };
const root = 'ab'.repeat(32);
const tx = (n: number) => n.toString(16).padStart(64, '0');

let seq = 0;
function apply(state: SagaState, event: PoolEvent, subject?: string) {
  const epochId = (event.data as { epochId: number }).epochId;
  evolve(state, { ...event, subject: subject ?? `pool.epoch.${epochId}`, sequence: ++seq, storedAtMs: 0 } as RecordedEvent);
}
const kinds = (state: SagaState, now: number) => decide(state, now, settings).map((d) => `${d.kind}:${d.epochId}${d.batch !== null ? `/${d.batch}` : ''}`);
/** The data of the first event of each step decided now. */
const firstEvents = (state: SagaState, now: number) => decide(state, now, settings).map((d) => d.events[0]);
const WALLET = OPERATOR;

/** The signed message of an attempt, as the sign effect records it (hash `h`). */
function signed(s: SagaState, epochId: number, step: 'commit' | 'batch', batch: number | null, attempt: number, walletSequence: number, h: string, expiresAt = 1_000) {
  const id = step === 'commit' ? `${epochId}:commit:${attempt}` : `${epochId}:batch:${batch}:submit:${attempt}`;
  apply(s, {
    type: 'OperatorMessageSigned', version: 1, id: `${id}:signed`,
    data: {
      epochId, step, batch, attempt, queryId: String(queryIdFor(epochId, step, batch ?? 0, attempt)), wallet: WALLET, walletQueryId: walletSequence, walletSequence,
      createdAt: expiresAt - 600, expiresAt, normalizedHash: h, messageBoc: 'AA==', walletLastLt: '0', signedAtMs: 0,
    },
  });
}
let walletTx = 1000;
/** The wallet's external transaction for message `h` (and, unless `sentNothing`, its internal_transfer for `walletQueryId`). */
function processed(s: SagaState, h: string, walletQueryId: number, outcome: { aborted?: boolean; transferAborted?: boolean } = {}) {
  const facts = () => ({ contract: WALLET, txHash: tx(++walletTx), lt: String(walletTx), chainTime: 1 });
  const ext = facts();
  apply(s, { type: 'OperatorMessageProcessed', version: 1, id: ext.txHash, data: { ...ext, normalizedHash: h, walletQueryId, aborted: outcome.aborted ?? false, outMessages: outcome.aborted ? 0 : 1 } }, 'pool.chain.operator-wallet');
  if (outcome.aborted) return;
  const int = facts();
  apply(s, { type: 'OperatorTransferExecuted', version: 1, id: int.txHash, data: { ...int, walletQueryId, aborted: outcome.transferAborted ?? false, outMessages: outcome.transferAborted ? 0 : 1, actionResultCode: outcome.transferAborted ? 37 : 0 } }, 'pool.chain.operator-wallet');
}
const h = (n: number) => (0xa000 + n).toString(16).padStart(64, '0');

function computedEpoch(state: SagaState, epochId: number, leafCount: number) {
  apply(state, { type: 'EpochOpened', version: 1, id: `${epochId}:opened`, data: { epochId, startedAtMs: 0, endsAtMs: 20_000 } });
  apply(state, { type: 'EpochClosing', version: 1, id: `${epochId}:closing`, data: { epochId, closedAtMs: 20_000 } });
  apply(state, {
    type: 'ContributionsFrozen', version: 1, id: `${epochId}:frozen`,
    data: { epochId, cutSequence: seq, durationSeconds: 20, participants: 3, revenueNanoton: '100', carryInNanoton: '0', contributions: artifact },
  });
  apply(state, {
    type: 'RewardsComputed', version: 1, id: `${epochId}:computed`,
    data: {
      epochId, formulaVersion: 1, params: {}, revenueNanoton: '100', carryInNanoton: '0', operatorFeeNanoton: '5', rewardsNanoton: '95',
      slashedNanoton: '0', carryOutNanoton: '0', eligible: leafCount, leafCount, merkleRoot: root, rewards: artifact,
    },
  });
}

test('the clock: open the first epoch, close it at its end, open the next', () => {
  const s = emptySagaState(OPERATOR);
  assert.equal(firstEvents(s, 1000), [{ type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 1000, endsAtMs: 21_000 } }]);
  apply(s, { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 1000, endsAtMs: 21_000 } });
  assert.equal(decide(s, 20_999, settings), []);
  const [close] = firstEvents(s, 21_000);
  assert.equal(close, { type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 21_000 } });
  apply(s, { type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 21_000 } });
  assert.equal(kinds(s, 21_001), ['open:2', 'freeze:1']);
});

test('a new epoch length is a recorded decision: the open epoch ends at max(now, start + new length), once', () => {
  const week = 7 * 24 * 3600 * 1000;
  const s = emptySagaState(OPERATOR);
  apply(s, { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 1000, endsAtMs: 1000 + week } });
  // restarted with 20 s epochs 5 s after the start: the epoch ends 20 s after its start
  assert.equal(firstEvents(s, 6_000).map((e) => e!.data), [
    { epochId: 1, previousEndsAtMs: 1000 + week, endsAtMs: 21_000, previousLengthMs: week, lengthMs: 20_000, changedAtMs: 6_000 },
  ]);
  // restarted with 20 s epochs a minute after the start: the epoch ends now, not in the past
  const [late] = firstEvents(s, 61_000);
  assert.equal(late, { type: 'EpochScheduleChanged', version: 1, id: '1:schedule:61000', data: { epochId: 1, previousEndsAtMs: 1000 + week, endsAtMs: 61_000, previousLengthMs: week, lengthMs: 20_000, changedAtMs: 61_000 } });
  apply(s, late!);
  // recorded: no second change, and the epoch closes at its new end
  assert.equal(decide(s, 61_000, settings).map((d) => d.kind), ['close']);
  assert.equal(decide(s, 61_000, { ...settings, epochMs: week }).map((d) => d.kind), ['reschedule']); // and back again is a change too
  // the same length as in force: nothing to change
  const same = emptySagaState(OPERATOR);
  apply(same, { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } });
  assert.equal(decide(same, 5_000, settings), []);
});

test('a closed epoch is never rescheduled; the next one opens with the new length', () => {
  const s = emptySagaState(OPERATOR);
  apply(s, { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 50_000 } });
  apply(s, { type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 50_000 } });
  const ds = decide(s, 50_001, settings);
  assert.equal(ds[0]!.events[0]!.data, { epochId: 2, startedAtMs: 50_001, endsAtMs: 70_001 });
  assert.not.ok(ds.some((d) => d.kind === 'reschedule'));
});

test('epoch 2 freezes only after epoch 1 is computed (carry-in and reputation carry over)', () => {
  const s = emptySagaState(OPERATOR);
  apply(s, { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 1 } });
  apply(s, { type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 1 } });
  apply(s, { type: 'EpochOpened', version: 1, id: '2:opened', data: { epochId: 2, startedAtMs: 1, endsAtMs: 2 } });
  apply(s, { type: 'EpochClosing', version: 1, id: '2:closing', data: { epochId: 2, closedAtMs: 2 } });
  assert.equal(kinds(s, 3), ['open:3', 'freeze:1']);
});

test('commit: intent and signature, the same message resubmitted after the timeout, confirmed from the chain; plan, pay, confirm, settle', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 5);
  const [, commit] = decide(s, 30_000, settings);
  assert.is(commit!.kind, 'commit');
  assert.equal(commit!.events.map((e) => [e.type, e.id]), [['RootCommitRequested', '1:commit:1']]);
  assert.equal(commit!.effect, { kind: 'sign', epochId: 1, purpose: { step: 'commit', batch: null, attempt: 1, queryId: queryIdFor(1, 'commit', 0, 1) }, walletSequence: 0, pace: 'sign:1:commit:1' });
  apply(s, commit!.events[0]!);
  // the intent is recorded, its message not (a crash before signing): signed now
  assert.equal(kinds(s, 30_001), ['open:2', 'sign:1']);
  signed(s, 1, 'commit', null, 1, 0, h(1));
  const [, send] = decide(s, 30_001, settings);
  assert.is(send!.kind, 'send');
  assert.equal(send!.events, []);
  assert.is(send!.effect?.kind === 'send' && send!.effect.message.normalizedHash, h(1));
  // submitted at 30 001: not again before resubmitAfterMs, then the SAME message again (no new attempt)
  s.lastTry.set(send!.effect!.pace!, 30_001);
  assert.equal(kinds(s, 60_000), ['open:2']);
  const [, again] = decide(s, 60_001, settings);
  assert.is(again!.effect?.kind === 'send' && again!.effect.message.normalizedHash, h(1));
  // the wallet ran it and sent the message: nothing more to send, whatever the time; the contract's event confirms
  processed(s, h(1), 0);
  assert.equal(kinds(s, 10_000_000), ['open:2']);
  apply(s, { type: 'EpochRootCommitted', version: 1, id: tx(1), data: { contract: `0:${'1'.repeat(64)}`, txHash: tx(1), lt: '1', chainTime: 1, queryId: '1', epochId: 1, merkleRoot: root, leafCount: 5, totalNanoton: '95', operatorFeeNanoton: '5' } }, 'pool.chain.distribution');
  assert.equal(kinds(s, 60_000), ['open:2', 'confirmCommit:1']);
  apply(s, { type: 'RootCommitConfirmed', version: 1, id: '1:commit-confirmed', data: { epochId: 1, txHash: tx(1), confirmedAtMs: 1 } });
  const plan = decide(s, 60_000, settings)[1]!;
  assert.equal(plan.events.map((e) => e.data), planBatches(5, 2).map((b) => ({ epochId: 1, ...b })));
  assert.equal(planBatches(5, 2), [{ batch: 0, fromIndex: 0, count: 2 }, { batch: 1, fromIndex: 2, count: 2 }, { batch: 2, fromIndex: 4, count: 1 }]);
  for (const e of plan.events) apply(s, e);
  // at most 2 in flight, each with its own wallet sequence number
  const submits = decide(s, 60_000, settings).slice(1);
  assert.equal(submits.map((d) => `${d.kind}:${d.batch}`), ['submit:0', 'submit:1']);
  assert.equal(submits.map((d) => d.effect?.kind === 'sign' && d.effect.walletSequence), [1, 2]);
  for (const d of submits) apply(s, d.events[0]!);
  signed(s, 1, 'batch', 0, 1, 1, h(2));
  signed(s, 1, 'batch', 1, 1, 2, h(3));
  for (const d of decide(s, 60_001, settings).slice(1)) s.lastTry.set(d.effect!.pace!, 60_001);
  assert.equal(kinds(s, 60_002), ['open:2']);
  // batch 0 paid by its transaction; leaf 3 of batch 1 claimed by its owner before the batch landed
  const payout = (index: number) => ({ index, address: `0:${'2'.repeat(64)}`, amountNanoton: '19' });
  processed(s, h(2), 1);
  apply(s, { type: 'RewardBatchPaid', version: 1, id: tx(2), data: { contract: `0:${'1'.repeat(64)}`, txHash: tx(2), lt: '2', chainTime: 2, queryId: '2', epochId: 1, fromIndex: 0, count: 2, paidCount: 2, paidAmountNanoton: '38', payouts: [payout(0), payout(1)] } }, 'pool.chain.distribution');
  apply(s, { type: 'RewardClaimed', version: 1, id: tx(3), data: { contract: `0:${'1'.repeat(64)}`, txHash: tx(3), lt: '3', chainTime: 3, queryId: '0', epochId: 1, index: 3, address: `0:${'2'.repeat(64)}`, amountNanoton: '19' } }, 'pool.chain.distribution');
  const ds = decide(s, 60_002, settings);
  assert.equal(ds[1]!.events[0]!.data, { epochId: 1, batch: 0, paidNanoton: '38', txHashes: [tx(2)], confirmedAtMs: 60_002 });
  assert.equal(ds.slice(2).map((d) => `${d.kind}:${d.batch}`), ['submit:2']); // batch 1 still in flight
  assert.is(ds[2]!.effect?.kind === 'sign' && ds[2]!.effect.walletSequence, 3);
  // batch 1's transaction paid only leaf 2 (leaf 3 was claimed): the batch is complete anyway
  apply(s, { type: 'RewardBatchPaid', version: 1, id: tx(4), data: { contract: `0:${'1'.repeat(64)}`, txHash: tx(4), lt: '4', chainTime: 4, queryId: '3', epochId: 1, fromIndex: 2, count: 2, paidCount: 1, paidAmountNanoton: '19', payouts: [payout(2)] } }, 'pool.chain.distribution');
  apply(s, { type: 'RewardBatchPaid', version: 1, id: tx(5), data: { contract: `0:${'1'.repeat(64)}`, txHash: tx(5), lt: '5', chainTime: 5, queryId: '4', epochId: 1, fromIndex: 4, count: 1, paidCount: 1, paidAmountNanoton: '19', payouts: [payout(4)] } }, 'pool.chain.distribution');
  for (const d of decide(s, 60_003, settings).filter((d) => d.kind === 'confirmBatch')) {
    const data = d.events[0]!.data as { txHashes: string[] };
    if (d.batch === 1) assert.equal(data.txHashes, [tx(3), tx(4)].sort());
    apply(s, d.events[0]!);
  }
  assert.equal(decide(s, 60_004, settings)[1]!.events[0]!.data, { epochId: 1, payoutsConfirmed: 5, paidNanoton: '95', settledAtMs: 60_004 });
});

test('only an expired message proven not run is signed again: a new attempt, a new wallet sequence number', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 3);
  commitRequested(s, 1, 1, 30_000);
  signed(s, 1, 'commit', null, 1, 0, h(10));
  // rejected by the wallet, or long past its expiry by the local clock: still the same message (the chain's time decides, in the effect)
  apply(s, { type: 'OperatorMessageRejected', version: 1, id: '1:commit:1:rejected', data: { epochId: 1, step: 'commit', batch: null, attempt: 1, queryId: '1', normalizedHash: h(10), reason: 'no', rejectedAtMs: 1 } });
  const [, send] = decide(s, 10_000_000, settings);
  assert.equal(send!.effect?.kind === 'send' && [send!.effect.message.normalizedHash, send!.effect.rejected], [h(10), true]);
  apply(s, { type: 'OperatorMessageExpired', version: 1, id: '1:commit:1:expired', data: { epochId: 1, step: 'commit', batch: null, attempt: 1, queryId: '1', normalizedHash: h(10), expiresAt: 1_000, chainTime: 1_001, checkedThroughLt: '5', provenAtMs: 1 } });
  const [, next] = decide(s, 10_000_000, settings);
  assert.is(next!.kind, 'commit');
  assert.is(next!.events[0]!.id, '1:commit:2');
  assert.equal(next!.effect?.kind === 'sign' && [next!.effect.purpose.attempt, next!.effect.walletSequence], [2, 1]);
  // an expiry is the network's doing, not a refusal: it never halts the epoch
  assert.is(s.epochs.get(1)!.commitRefused.size, 0);
});

test('a message the wallet ran but could not send (aborted, or its internal_transfer failed) is a failed attempt: signed again, counted towards a halt', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 3);
  commitRequested(s, 1, 1, 30_000);
  signed(s, 1, 'commit', null, 1, 0, h(20));
  processed(s, h(20), 0, { transferAborted: true });
  assert.equal(kinds(s, 30_001), ['open:2', 'commit:1']);
  commitRequested(s, 1, 2, 30_001);
  signed(s, 1, 'commit', null, 2, 1, h(21));
  processed(s, h(21), 1, { aborted: true });
  const [, halt] = decide(s, 30_002, settings);
  assert.is(halt!.kind, 'halt');
  assert.equal((halt!.events[0]!.data as { attempts: number; lastExitCode: number | null }).attempts, 2);
  // a wallet transaction of another wallet with the same hash is not the operator's
  const other = emptySagaState(OPERATOR);
  evolve(other, { type: 'OperatorMessageProcessed', version: 1, id: tx(1), subject: 'pool.chain.operator-wallet', sequence: 1, storedAtMs: 0, data: { contract: `0:${'ee'.repeat(32)}`, txHash: tx(1), lt: '1', chainTime: 1, normalizedHash: h(20), walletQueryId: 0, aborted: true, outMessages: 0 } } as RecordedEvent);
  assert.is(other.processed.size, 0);
});

test('epoch 2 does not commit before epoch 1\'s root is confirmed (sequential ids on chain)', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 1);
  computedEpoch(s, 2, 1);
  assert.equal(kinds(s, 30_000).filter((k) => k.startsWith('commit')), ['commit:1']);
});

test('an empty epoch settles as soon as its root is confirmed', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 0);
  apply(s, { type: 'RootCommitConfirmed', version: 1, id: '1:commit-confirmed', data: { epochId: 1, txHash: tx(1), confirmedAtMs: 1 } });
  assert.equal(kinds(s, 30_000), ['open:2', 'settle:1']);
});

test('a root on chain different from the computed one halts the epoch', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 3);
  apply(s, { type: 'EpochRootCommitted', version: 1, id: tx(9), data: { contract: `0:${'1'.repeat(64)}`, txHash: tx(9), lt: '1', chainTime: 1, queryId: '1', epochId: 1, merkleRoot: 'cd'.repeat(32), leafCount: 3, totalNanoton: '95', operatorFeeNanoton: '5' } }, 'pool.chain.distribution');
  assert.equal(kinds(s, 30_000), ['open:2', 'halt:1']);
});

test('replaying the same events twice changes nothing (evolve is idempotent)', () => {
  const s = emptySagaState(OPERATOR);
  const e: RecordedEvent = { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 5, endsAtMs: 10 }, subject: 'pool.epoch.1', sequence: 7, storedAtMs: 0 };
  evolve(s, e);
  evolve(s, { ...e, data: { epochId: 1, startedAtMs: 99, endsAtMs: 99 } } as RecordedEvent);
  assert.is(s.epochs.get(1)!.endsAtMs, 10);
});

test('query ids are unique per epoch, kind, batch and attempt', () => {
  const ids = new Set<bigint>();
  for (let e = 1; e <= 3; e++) for (let b = 0; b < 50; b++) for (let a = 1; a <= 3; a++) ids.add(queryIdFor(e, 'batch', b, a));
  for (let e = 1; e <= 3; e++) for (let a = 1; a <= 3; a++) ids.add(queryIdFor(e, 'commit', 0, a));
  assert.is(ids.size, 3 * 50 * 3 + 9);
});


test('parseQueryId inverts queryIdFor and refuses other formats', () => {
  assert.equal(parseQueryId(queryIdFor(4, 'commit', 0, 3)), { epochId: 4, kind: 'commit', batch: 0, attempt: 3 });
  assert.equal(parseQueryId(queryIdFor(4294967295, 'batch', 1000, 255)), { epochId: 4294967295, kind: 'batch', batch: 1000, attempt: 255 });
  assert.is(parseQueryId(0n), null); // epoch 0: a plain transfer or a claim
  assert.is(parseQueryId((4n << 32n) | (3n << 28n)), null); // unknown kind
  assert.is(parseQueryId((4n << 32n) | (1n << 28n) | (5n << 8n)), null); // a commit with a batch number
  assert.is(parseQueryId(1n << 64n), null);
});

const CONTRACT = `0:${'1'.repeat(64)}`;
let failedTx = 100;
/** A ChainTransactionFailed of the distribution contract: the given query_id refused with `exitCode`. */
function refused(s: SagaState, queryId: bigint, exitCode: number, over: { sender?: string; op?: string; subject?: string } = {}) {
  const hash = tx(++failedTx);
  apply(s, {
    type: 'ChainTransactionFailed', version: 1, id: hash,
    data: { contract: CONTRACT, txHash: hash, lt: String(failedTx), chainTime: failedTx, sender: over.sender ?? OPERATOR, op: over.op ?? (((queryId >> 28n) & 0xfn) === 1n ? '0x50c0e001' : '0x50c0e002'), queryId: String(queryId), exitCode, valueNanoton: '1' },
  }, over.subject ?? 'pool.chain.distribution');
}
function commitRequested(s: SagaState, epochId: number, attempt: number, atMs: number) {
  apply(s, { type: 'RootCommitRequested', version: 1, id: `${epochId}:commit:${attempt}`, data: { epochId, attempt, queryId: String(queryIdFor(epochId, 'commit', 0, attempt)), merkleRoot: root, leafCount: 3, totalNanoton: '95', operatorFeeNanoton: '5', requestedAtMs: atMs } });
}

test('a root commit the contract keeps refusing halts the epoch after maxRefusedAttempts; later epochs wait', () => {
  const s = emptySagaState(OPERATOR);
  for (let id = 1; id <= 3; id++) computedEpoch(s, id, 3);
  commitRequested(s, 1, 1, 30_000);
  refused(s, queryIdFor(1, 'commit', 0, 1), 1110);
  // one refusal: a new attempt at once, not halted
  assert.equal(kinds(s, 30_001), ['open:4', 'commit:1']);
  commitRequested(s, 1, 2, 30_001);
  refused(s, queryIdFor(1, 'commit', 0, 2), 1110);
  const halt = decide(s, 60_001, settings)[1]!;
  assert.is(halt.kind, 'halt');
  assert.equal(halt.events[0], {
    type: 'EpochHalted', version: 1, id: '1:halted',
    data: { epochId: 1, step: 'commit', batch: null, attempts: 2, lastExitCode: 1110, reason: 'the distribution contract refused the root commit 2 times (last exit code 1110)', haltedAtMs: 60_001 },
  });
  assert.is(halt.log?.level, 'error');
  // the halt is recorded: nothing more for epoch 1, epoch 2 still waits for its commit
  apply(s, halt.events[0]!);
  assert.equal(kinds(s, 1_000_000), ['open:4']);
});

test('a halt is remembered after a restart: the state folded again decides nothing for the epoch', () => {
  const history: RecordedEvent[] = [];
  const s = emptySagaState(OPERATOR);
  const record = (e: PoolEvent, subject?: string) => {
    const epochId = (e.data as { epochId?: number }).epochId;
    const r = { ...e, subject: subject ?? `pool.epoch.${epochId}`, sequence: ++seq, storedAtMs: 0 } as RecordedEvent;
    history.push(r);
    evolve(s, r);
  };
  record({ type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } });
  record({ type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 20_000 } });
  record({ type: 'ContributionsFrozen', version: 1, id: '1:frozen', data: { epochId: 1, cutSequence: seq, durationSeconds: 20, participants: 3, revenueNanoton: '100', carryInNanoton: '0', contributions: artifact } });
  record({
    type: 'RewardsComputed', version: 1, id: '1:computed',
    data: { epochId: 1, formulaVersion: 1, params: {}, revenueNanoton: '100', carryInNanoton: '0', operatorFeeNanoton: '5', rewardsNanoton: '95', slashedNanoton: '0', carryOutNanoton: '0', eligible: 3, leafCount: 3, merkleRoot: root, rewards: artifact },
  });
  record({ type: 'EpochHalted', version: 1, id: '1:halted', data: { epochId: 1, step: 'commit', batch: null, reason: 'refused', attempts: 2, lastExitCode: 1110, haltedAtMs: 1 } });
  const restarted = emptySagaState(OPERATOR);
  for (const r of history) evolve(restarted, r);
  assert.equal(restarted.epochs.get(1)!.halted?.lastExitCode, 1110);
  // without the halt the epoch would commit now; with it, nothing for epoch 1, long after the timeout
  assert.equal(decide(restarted, 10_000_000, settings).filter((d) => d.epochId === 1), []);
});

test('refusals that are not the saga\'s own do not count: another sender, another op, another contract, another epoch\'s query_id', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 3);
  commitRequested(s, 1, 1, 30_000);
  const q = queryIdFor(1, 'commit', 0, 1);
  refused(s, q, 1110, { sender: `0:${'ee'.repeat(32)}` });
  refused(s, q, 1110, { op: '0x50c0e003' });
  refused(s, q, 1110, { subject: 'pool.chain.registry' });
  refused(s, queryIdFor(1, 'commit', 0, 2), 1110, { sender: `0:${'ee'.repeat(32)}` });
  assert.is(s.epochs.get(1)!.commitRefused.size, 0);
  refused(s, q, 1110);
  refused(s, q, 1110); // the same attempt refused twice (a resend of the same message) is one refused attempt
  assert.is(s.epochs.get(1)!.commitRefused.size, 1);
  assert.equal(kinds(s, 30_001), ['open:2', 'commit:1']);
});

test('a payout batch refused maxRefusedAttempts times halts the epoch; one paid by claims meanwhile is confirmed instead', () => {
  const s = emptySagaState(OPERATOR);
  computedEpoch(s, 1, 2);
  apply(s, { type: 'RootCommitConfirmed', version: 1, id: '1:commit-confirmed', data: { epochId: 1, txHash: tx(1), confirmedAtMs: 1 } });
  apply(s, { type: 'PayoutBatchPlanned', version: 1, id: '1:batch:0:planned', data: { epochId: 1, batch: 0, fromIndex: 0, count: 2 } });
  for (const attempt of [1, 2]) {
    apply(s, { type: 'PayoutBatchSubmitted', version: 1, id: `1:batch:0:submit:${attempt}`, data: { epochId: 1, batch: 0, attempt, queryId: String(queryIdFor(1, 'batch', 0, attempt)), submittedAtMs: attempt * 30_000 } });
    refused(s, queryIdFor(1, 'batch', 0, attempt), 1101);
  }
  assert.equal(decide(s, 60_001, settings)[1]!.events[0]!.data, {
    epochId: 1, step: 'batch', batch: 0, attempts: 2, lastExitCode: 1101,
    reason: 'the distribution contract refused payout batch 0 2 times (last exit code 1101)', haltedAtMs: 60_001,
  });
  // both leaves claimed by their owners: the batch is paid, not halted
  for (const index of [0, 1]) {
    apply(s, { type: 'RewardClaimed', version: 1, id: tx(50 + index), data: { contract: CONTRACT, txHash: tx(50 + index), lt: String(50 + index), chainTime: 1, queryId: '0', epochId: 1, index, address: `0:${'2'.repeat(64)}`, amountNanoton: '19' } }, 'pool.chain.distribution');
  }
  assert.equal(kinds(s, 60_001), ['open:2', 'confirmBatch:1/0']);
});

test.run();
