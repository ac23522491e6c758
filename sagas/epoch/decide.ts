/**
 * What the epoch saga should do next, from its state and the time: pure, so every rule is
 * testable without a broker or a chain. `decide` returns steps: the events to append and the
 * effect to run after them (processManager.ts runs them: append first, deterministic id
 * `<epoch>:<step>`, expect.lastSubjectSequence; only then the effect, so an intent is always
 * recorded before the send, DESIGN.md guarantee 3). Effects that need I/O to produce their event
 * (freeze, compute, sign, send) return it to the shell, which appends it the same way.
 *
 * The steps of an epoch, each gated on the previous epoch where money or reputation carries over:
 *   open → close (the cut) → freeze contributions (needs epoch−1 computed: carry-in, reputation)
 *   → compute rewards → commit root (needs epoch−1's commit confirmed: ids are sequential on chain)
 *   → root confirmed by the chain → plan batches → pay batches (bounded in flight) → batch
 *   confirmed when every leaf of it is paid on chain (by the batch or by pull claims) → settled.
 *
 * A commit or a batch goes on chain in attempts. Attempt n: its intent (RootCommitRequested /
 * PayoutBatchSubmitted, contract query_id `queryIdFor(…, n)`), then its external message signed by
 * the operator's highload wallet v3 and recorded (OperatorMessageSigned) before the first
 * submission; that same message is submitted again every `resubmitAfterMs` (and at once after a
 * restart) until the wallet's transaction for its normalized hash is indexed
 * (OperatorMessageProcessed). Attempt n+1 only after attempt n failed: refused by the contract
 * (ChainTransactionFailed with its query_id from the wallet), run by the wallet without sending
 * (aborted, or its internal_transfer failed: OperatorTransferExecuted), or proven expired without
 * running (OperatorMessageExpired). The contract's bitmap and its sequential epoch ids make even a
 * mistaken second attempt harmless; confirmation comes only from the contract's own events.
 *
 * Beside the payouts, an epoch computed with reward formula 2 whose RewardsComputed counts
 * divergent members gets an `alert` step until each has its ContributionDivergenceDetected.
 *
 * A root commit or a batch that failed on `maxRefusedAttempts` attempts (refusals and wallet
 * failures; expiries do not count), or a root on chain other than the computed one, halts the
 * epoch: the EpochHalted event is recorded and the epoch decides nothing more, after a restart too.
 */
import type { PoolEvent } from '../../schemas/catalog.ts';
import type { AttemptState, BatchState, EpochState, SagaState, SignedMessage } from './state.ts';

export interface SagaSettings {
  /** epoch length, milliseconds */
  epochMs: number;
  /** leaves per payout batch (≤ 200: 255 actions and the gas limit are hard on chain) */
  batchSize: number;
  /** batches of one epoch in flight at once */
  maxBatchesInFlight: number;
  /** resend a commit or a batch not confirmed after this long, milliseconds */
  resubmitAfterMs: number;
  /** refusals by the contract of one root commit or payout batch before the epoch halts (≥ 1) */
  maxRefusedAttempts: number;
}

/** What a signed operator message is for: a commit or batch attempt and its contract query_id. */
export interface Purpose {
  step: 'commit' | 'batch';
  batch: number | null;
  attempt: number;
  queryId: bigint;
}

/**
 * A chain or read-model effect: I/O the shell (processManager.ts) runs after the step's events
 * are appended. Its result, when it has one, is an event the shell appends in turn.
 * - freeze / compute: read the projections / artifacts → ContributionsFrozen / RewardsComputed;
 * - sign: re-read the contract state (attempt > 1), read chain time, sign with the operator key
 *   → OperatorMessageSigned (nothing when the chain already did what the attempt is for);
 * - send: read chain time; before `expiresAt` submit the recorded message (a refusal →
 *   OperatorMessageRejected, once per message); at or after it, prove it never ran → OperatorMessageExpired;
 * - alert: read the epoch's token credits artifact (formula v2) and append a
 *   ContributionDivergenceDetected for each divergent participant not yet recorded (it appends
 *   them itself, on the epoch's alerts subject; nothing is returned).
 */
export type Effect = { pace?: string } & (
  | { kind: 'freeze'; epochId: number }
  | { kind: 'compute'; epochId: number }
  | { kind: 'sign'; epochId: number; purpose: Purpose; walletSequence: number }
  | { kind: 'send'; epochId: number; purpose: Purpose; message: SignedMessage; rejected: boolean }
  | { kind: 'alert'; epochId: number }
);

export type StepKind =
  | 'open' | 'reschedule' | 'close' | 'freeze' | 'compute' | 'commit' | 'confirmCommit' | 'plan' | 'submit' | 'sign' | 'send'
  | 'confirmBatch' | 'settle' | 'halt' | 'alert';

/**
 * One thing to do now: append `events` in order (each with expect.lastSubjectSequence; the step
 * stops at the first one another instance or an earlier run already stored), then, only when all
 * were appended by this run, run `effect`. `log` is written once the events are appended.
 * An effect's `pace` is its key in `SagaState.lastTry`: decide does not offer it again within
 * `resubmitAfterMs` of its last completion (a failed one is offered again next round).
 */
export interface Step {
  kind: StepKind;
  epochId: number;
  batch: number | null;
  events: PoolEvent[];
  effect: Effect | null;
  log?: { level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> };
}

/**
 * query_id of a chain message: epoch in the high 32 bits, then the kind (1 commit, 2 batch), the
 * batch number and the attempt — unique per attempt, and the chain indexer can map it back.
 */
export function queryIdFor(epochId: number, kind: 'commit' | 'batch', batch: number, attempt: number): bigint {
  return (BigInt(epochId) << 32n) | (BigInt(kind === 'commit' ? 1 : 2) << 28n) | (BigInt(batch & 0xfffff) << 8n) | BigInt(attempt & 0xff);
}

/**
 * Inverse of {@link queryIdFor}: the epoch, kind, batch and attempt of a query_id, or null when it
 * is not of that format (kind neither 1 nor 2, epoch 0, or more than 64 bits).
 */
export function parseQueryId(queryId: bigint): { epochId: number; kind: 'commit' | 'batch'; batch: number; attempt: number } | null {
  if (queryId < 0n || queryId >> 64n !== 0n) return null;
  const epochId = Number(queryId >> 32n);
  const kindBits = Number((queryId >> 28n) & 0xfn);
  if (epochId === 0 || (kindBits !== 1 && kindBits !== 2)) return null;
  const batch = Number((queryId >> 8n) & 0xfffffn);
  if (kindBits === 1 && batch !== 0) return null;
  return { epochId, kind: kindBits === 1 ? 'commit' : 'batch', batch, attempt: Number(queryId & 0xffn) };
}

/** Event id prefix of an attempt: `<epoch>:commit:<n>` or `<epoch>:batch:<b>:submit:<n>` (its intent's id). */
export function attemptId(epochId: number, p: { step: 'commit' | 'batch'; batch: number | null; attempt: number }): string {
  return p.step === 'commit' ? `${epochId}:commit:${p.attempt}` : `${epochId}:batch:${p.batch}:submit:${p.attempt}`;
}

/** How the latest attempt of a commit or batch stands. */
type Outcome =
  | { status: 'unsigned' }
  | { status: 'pending'; message: SignedMessage }
  /** its wallet transactions ran and sent the message: the contract's own event (or refusal) decides */
  | { status: 'landed' }
  /** refused by the contract, failed in the wallet (counted towards a halt: `exitCode`), or expired (not counted) */
  | { status: 'failed'; counted: boolean; exitCode: number | null };

/**
 * The outcome of attempt `t`, from the indexed chain events only: the contract's refusal of its
 * query_id (`refusedExit`), the wallet's transaction for its normalized hash and then the
 * internal_transfer of its wallet query_id (chain/wallet/highloadV3.ts: two wallet transactions per send).
 */
function outcomeOf(state: SagaState, t: AttemptState, refusedExit: number | undefined): Outcome {
  if (refusedExit !== undefined) return { status: 'failed', counted: true, exitCode: refusedExit };
  if (!t.signed) return { status: 'unsigned' };
  const p = state.processed.get(t.signed.normalizedHash);
  if (!p) return t.expired ? { status: 'failed', counted: false, exitCode: null } : { status: 'pending', message: t.signed };
  if (p.aborted || p.outMessages === 0) return { status: 'failed', counted: true, exitCode: null };
  const transfer = state.transfers.get(t.signed.walletQueryId)?.find((x) => x.lt > p.lt);
  if (transfer && (transfer.aborted || transfer.outMessages === 0)) return { status: 'failed', counted: true, exitCode: null };
  return { status: 'landed' };
}

/** The halt for a step whose counted failures reached the limit, else null. */
function failedTooOften(epochId: number, step: 'commit' | 'batch', batch: number | null, failures: Map<number, number | null>, s: SagaSettings): Halt | null {
  if (failures.size < s.maxRefusedAttempts) return null;
  const lastExitCode = failures.get(Math.max(...failures.keys())) ?? null;
  const what = step === 'commit' ? 'the root commit' : `payout batch ${batch}`;
  return {
    kind: 'halt', epochId, step, batch, attempts: failures.size, lastExitCode,
    reason: `the distribution contract refused ${what} ${failures.size} times (last exit code ${lastExitCode ?? 'none: the operator wallet sent nothing'})`,
  };
}

/** Why an epoch halts: the step, the failed attempts and the last refusal's exit code. */
interface Halt {
  kind: 'halt';
  epochId: number;
  step: 'commit' | 'batch' | 'root';
  batch: number | null;
  reason: string;
  attempts: number;
  lastExitCode: number | null;
}

function haltStep(h: Halt, nowMs: number): Step {
  const data = { epochId: h.epochId, step: h.step, batch: h.batch, reason: h.reason, attempts: h.attempts, lastExitCode: h.lastExitCode, haltedAtMs: nowMs };
  return {
    kind: 'halt', epochId: h.epochId, batch: h.batch, effect: null,
    events: [{ type: 'EpochHalted', version: 1, id: `${h.epochId}:halted`, data }],
    log: { level: 'error', msg: 'epoch halted: nothing more is sent for it; an operator must investigate (a lost or replaced chain: restore <dataDir>/chain or start a fresh data dir)', fields: data },
  };
}

/** Allocates wallet sequence numbers to the signatures decided in one round. */
interface Sequencer {
  next: number;
}

/** Skips an effect paced within `resubmitAfterMs` of its last start. */
function due(state: SagaState, pace: string, nowMs: number, s: SagaSettings): boolean {
  const last = state.lastTry.get(pace);
  return last === undefined || nowMs - last >= s.resubmitAfterMs;
}

/** The outcome of the latest attempt of a commit (batch null) or a batch; null before the first. */
function latestOutcome(state: SagaState, e: EpochState, batch: BatchState | null): { t: AttemptState; outcome: Outcome } | null {
  const tries = batch ? batch.tries : e.commitTries;
  const t = tries.get(batch ? batch.attempts : e.commitAttempts);
  return t ? { t, outcome: outcomeOf(state, t, (batch ? batch.refused : e.commitRefused).get(t.attempt)) } : null;
}

/** A new attempt: its intent event, then the sign effect with the next wallet sequence number. */
function nextAttempt(epochId: number, step: 'commit' | 'batch', batch: number | null, attempt: number, seq: Sequencer, intent: (queryId: bigint) => PoolEvent): Step {
  const queryId = queryIdFor(epochId, step, batch ?? 0, attempt);
  const purpose = { step, batch, attempt, queryId };
  return {
    kind: step === 'commit' ? 'commit' : 'submit', epochId, batch, events: [intent(queryId)],
    effect: { kind: 'sign', epochId, purpose, walletSequence: seq.next++, pace: `sign:${attemptId(epochId, purpose)}` },
  };
}

/**
 * What a live attempt needs: its message signed (an attempt recorded without one), or its pending
 * message sent again (or proven expired) when due; nothing once it has landed.
 */
function liveAttempt(state: SagaState, epochId: number, step: 'commit' | 'batch', batch: number | null, t: AttemptState, outcome: Outcome, nowMs: number, s: SagaSettings, seq: Sequencer): Step | null {
  const purpose = { step, batch, attempt: t.attempt, queryId: t.queryId };
  if (outcome.status === 'unsigned') {
    const pace = `sign:${attemptId(epochId, purpose)}`;
    if (!due(state, pace, nowMs, s)) return null;
    return { kind: 'sign', epochId, batch, events: [], effect: { kind: 'sign', epochId, purpose, walletSequence: seq.next++, pace } };
  }
  if (outcome.status === 'pending') {
    const pace = `send:${outcome.message.normalizedHash}`;
    if (!due(state, pace, nowMs, s)) return null;
    return { kind: 'send', epochId, batch, events: [], effect: { kind: 'send', epochId, purpose, message: outcome.message, rejected: t.rejected, pace } };
  }
  return null;
}

/** Counted failures of a step's attempts: contract refusals and wallet failures, attempt → exit code. */
function failuresOf(state: SagaState, tries: Map<number, AttemptState>, refused: Map<number, number>): Map<number, number | null> {
  const out = new Map<number, number | null>(refused);
  for (const t of tries.values()) {
    const o = outcomeOf(state, t, refused.get(t.attempt));
    if (o.status === 'failed' && o.counted) out.set(t.attempt, o.exitCode);
  }
  return out;
}

/** Splits `leafCount` leaves into consecutive batches of at most `size`. */
export function planBatches(leafCount: number, size: number): { batch: number; fromIndex: number; count: number }[] {
  const out = [];
  for (let from = 0, batch = 0; from < leafCount; from += size, batch++) out.push({ batch, fromIndex: from, count: Math.min(size, leafCount - from) });
  return out;
}

function batchPaid(e: EpochState, b: BatchState): { paid: boolean; amount: bigint; txHashes: string[] } {
  let amount = 0n;
  const txs = new Set<string>();
  for (let i = b.fromIndex; i < b.fromIndex + b.count; i++) {
    const p = e.paid.get(i);
    if (!p) return { paid: false, amount: 0n, txHashes: [] };
    amount += p.amount;
    txs.add(p.txHash);
  }
  return { paid: true, amount, txHashes: [...txs].sort() };
}

/** Decisions for one epoch, given the previous epoch's state (or null for epoch 1). */
function decideEpoch(state: SagaState, e: EpochState, prev: EpochState | null, nowMs: number, s: SagaSettings, seq: Sequencer): Step[] {
  if (e.settled || e.halted || e.closedAtMs === null) return [];
  const id = e.epochId;
  const only = (kind: StepKind, effect: Effect): Step[] => [{ kind, epochId: id, batch: null, events: [], effect }];
  if (!e.frozen) return prev && !prev.computed ? [] : only('freeze', { kind: 'freeze', epochId: id });
  if (!e.computed) return only('compute', { kind: 'compute', epochId: id });
  const c = e.computed;

  if (e.chainRoot && e.chainRoot.merkleRoot !== c.merkleRoot) {
    return [haltStep({
      kind: 'halt', epochId: id, step: 'root', batch: null, attempts: e.commitAttempts, lastExitCode: null,
      reason: `chain stored root ${e.chainRoot.merkleRoot}, computed ${c.merkleRoot}`,
    }, nowMs)];
  }
  if (!e.commitConfirmedTx) {
    if (e.chainRoot) {
      return [{
        kind: 'confirmCommit', epochId: id, batch: null, effect: null,
        events: [{ type: 'RootCommitConfirmed', version: 1, id: `${id}:commit-confirmed`, data: { epochId: id, txHash: e.chainRoot.txHash, confirmedAtMs: nowMs } }],
      }];
    }
    if (prev && !prev.commitConfirmedTx) return [];
    const latest = latestOutcome(state, e, null);
    if (latest && latest.outcome.status !== 'failed') {
      const live = liveAttempt(state, id, 'commit', null, latest.t, latest.outcome, nowMs, s, seq);
      return live ? [live] : [];
    }
    const halt = failedTooOften(id, 'commit', null, failuresOf(state, e.commitTries, e.commitRefused), s);
    if (halt) return [haltStep(halt, nowMs)];
    const attempt = e.commitAttempts + 1;
    const step = nextAttempt(id, 'commit', null, attempt, seq, (queryId) => ({
      type: 'RootCommitRequested', version: 1, id: `${id}:commit:${attempt}`,
      data: {
        epochId: id, attempt, queryId: String(queryId), merkleRoot: c.merkleRoot, leafCount: c.leafCount,
        totalNanoton: c.rewardsNanoton, operatorFeeNanoton: c.operatorFeeNanoton, requestedAtMs: nowMs,
      },
    }));
    step.log = { level: 'info', msg: 'committing epoch root', fields: { epochId: id, attempt, root: c.merkleRoot, leaves: c.leafCount } };
    return [step];
  }

  const planned = planBatches(c.leafCount, s.batchSize);
  if (e.batches.filter(Boolean).length < planned.length) {
    return [{
      kind: 'plan', epochId: id, batch: null, effect: null,
      events: planned.filter((b) => !e.batches[b.batch]).map((b) => ({ type: 'PayoutBatchPlanned', version: 1, id: `${id}:batch:${b.batch}:planned`, data: { epochId: id, ...b } }) as PoolEvent),
    }];
  }

  const out: Step[] = [];
  const open: BatchState[] = [];
  for (const b of e.batches) {
    if (!b || b.confirmed) continue;
    const paid = batchPaid(e, b);
    if (paid.paid) {
      out.push({
        kind: 'confirmBatch', epochId: id, batch: b.batch, effect: null,
        events: [{ type: 'PayoutBatchConfirmed', version: 1, id: `${id}:batch:${b.batch}:confirmed`, data: { epochId: id, batch: b.batch, paidNanoton: String(paid.amount), txHashes: paid.txHashes, confirmedAtMs: nowMs } }],
      });
    } else {
      open.push(b);
    }
  }
  for (const b of open) {
    const halt = failedTooOften(id, 'batch', b.batch, failuresOf(state, b.tries, b.refused), s);
    if (halt) return [haltStep(halt, nowMs)];
  }
  // batches with a live attempt keep going; new attempts while fewer than maxBatchesInFlight are live
  let inFlight = 0;
  const fresh: BatchState[] = [];
  for (const b of open) {
    const latest = latestOutcome(state, e, b);
    if (!latest || latest.outcome.status === 'failed') {
      fresh.push(b);
      continue;
    }
    inFlight++;
    const live = liveAttempt(state, id, 'batch', b.batch, latest.t, latest.outcome, nowMs, s, seq);
    if (live) out.push(live);
  }
  for (const b of fresh) {
    if (inFlight >= s.maxBatchesInFlight) break;
    inFlight++;
    const attempt = b.attempts + 1;
    const step = nextAttempt(id, 'batch', b.batch, attempt, seq, (queryId) => ({
      type: 'PayoutBatchSubmitted', version: 1, id: `${id}:batch:${b.batch}:submit:${attempt}`,
      data: { epochId: id, batch: b.batch, attempt, queryId: String(queryId), submittedAtMs: nowMs },
    }));
    step.log = { level: 'info', msg: 'submitting payout batch', fields: { epochId: id, batch: b.batch, attempt, from: b.fromIndex, count: b.count } };
    out.push(step);
  }
  if (!out.length && e.batches.filter(Boolean).every((b) => b.confirmed)) {
    let paidNanoton = 0n;
    for (const p of e.paid.values()) paidNanoton += p.amount;
    const data = { epochId: id, payoutsConfirmed: e.paid.size, paidNanoton: String(paidNanoton), settledAtMs: nowMs };
    out.push({
      kind: 'settle', epochId: id, batch: null, effect: null,
      events: [{ type: 'EpochSettled', version: 1, id: `${id}:settled`, data }],
      log: { level: 'info', msg: 'epoch settled', fields: { epochId: id, payouts: e.paid.size, paidNanoton: String(paidNanoton) } },
    });
  }
  return out;
}

/**
 * A schedule change for the open epoch when the configured length differs from the one in force:
 * the epoch then ends at max(now, start + new length), so a shorter length never ends it in the past.
 */
function rescheduleOf(e: EpochState, nowMs: number, s: SagaSettings): Step | null {
  if (e.startedAtMs === null || e.endsAtMs === null || e.lengthMs === null || e.lengthMs === s.epochMs) return null;
  const data = {
    epochId: e.epochId,
    previousEndsAtMs: e.endsAtMs,
    endsAtMs: Math.max(nowMs, e.startedAtMs + s.epochMs),
    previousLengthMs: e.lengthMs,
    lengthMs: s.epochMs,
    changedAtMs: nowMs,
  };
  return {
    kind: 'reschedule', epochId: e.epochId, batch: null, effect: null,
    events: [{ type: 'EpochScheduleChanged', version: 1, id: `${e.epochId}:schedule:${nowMs}`, data }],
    log: {
      level: 'warn', msg: 'epoch length changed: the open epoch now ends at max(now, start + new length)',
      fields: { epochId: e.epochId, previousEndsAt: new Date(data.previousEndsAtMs).toISOString(), endsAt: new Date(data.endsAtMs).toISOString(), previousEpochSeconds: data.previousLengthMs / 1000, epochSeconds: data.lengthMs / 1000 },
    },
  };
}

function openStep(epochId: number, nowMs: number, s: SagaSettings): Step {
  const endsAtMs = nowMs + s.epochMs;
  return {
    kind: 'open', epochId, batch: null, effect: null,
    events: [{ type: 'EpochOpened', version: 1, id: `${epochId}:opened`, data: { epochId, startedAtMs: nowMs, endsAtMs } }],
    log: { level: 'info', msg: 'epoch opened', fields: { epochId, endsAt: new Date(endsAtMs).toISOString() } },
  };
}

/**
 * Everything the saga should do now, as steps (events to append, then an effect to run). Steps
 * of different epochs are independent; within an epoch they are in execution order. Pure: the
 * events' times are `nowMs`, and `state.lastTry` paces the effects.
 */
export function decide(state: SagaState, nowMs: number, s: SagaSettings): Step[] {
  const ids = [...state.epochs.keys()].filter((id) => state.epochs.get(id)!.lastSequence > 0).sort((a, b) => a - b);
  const out: Step[] = [];
  const latest = ids.length ? state.epochs.get(ids[ids.length - 1]!)! : null;
  if (!latest) {
    out.push(openStep(1, nowMs, s));
  } else if (latest.closedAtMs === null) {
    const reschedule = rescheduleOf(latest, nowMs, s);
    if (reschedule) {
      out.push(reschedule);
    } else if (latest.endsAtMs !== null && nowMs >= latest.endsAtMs) {
      const id = latest.epochId;
      out.push({
        kind: 'close', epochId: id, batch: null, effect: null,
        events: [{ type: 'EpochClosing', version: 1, id: `${id}:closing`, data: { epochId: id, closedAtMs: nowMs } }],
        log: { level: 'info', msg: 'epoch closed (cut)', fields: { epochId: id } },
      });
    }
  } else {
    out.push(openStep(latest.epochId + 1, nowMs, s));
  }
  const seq: Sequencer = { next: state.lastWalletSequence + 1 };
  for (const id of ids) out.push(...decideEpoch(state, state.epochs.get(id)!, state.epochs.get(id - 1) ?? null, nowMs, s, seq));
  for (const id of ids) {
    // alongside the payouts, never holding them up: the divergences RewardsComputed counted, once each
    const e = state.epochs.get(id)!;
    const pace = `alert:${id}`;
    if ((e.computed?.divergences ?? 0) > e.divergences.size && due(state, pace, nowMs, s)) {
      out.push({ kind: 'alert', epochId: id, batch: null, events: [], effect: { kind: 'alert', epochId: id, pace } });
    }
  }
  return out;
}
