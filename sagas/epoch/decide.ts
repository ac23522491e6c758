/**
 * What the epoch saga should do next, from its state and the time: pure, so every rule is
 * testable without a broker or a chain. The process manager (processManager.ts) executes the
 * decisions: it appends the decision's event first (with expect.lastSubjectSequence) and only then
 * acts on the chain, so an intent is always recorded before the send (DESIGN.md guarantee 3).
 *
 * The steps of an epoch, each gated on the previous epoch where money or reputation carries over:
 *   open → close (the cut) → freeze contributions (needs epoch−1 computed: carry-in, reputation)
 *   → compute rewards → commit root (needs epoch−1's commit confirmed: ids are sequential on chain)
 *   → root confirmed by the chain → plan batches → submit batches (bounded in flight, resubmitted
 *   after a timeout; the on-chain bitmap makes a resend harmless) → batch confirmed when every leaf
 *   of it is paid on chain (by the batch or by pull claims) → settled.
 *
 * A root commit or a batch the contract refused on `maxRefusedAttempts` attempts (ChainTransactionFailed,
 * state.ts), or a root on chain other than the computed one, halts the epoch: the EpochHalted
 * event is recorded and the epoch decides nothing more, after a restart too.
 */
import type { BatchState, EpochState, SagaState } from './state.ts';

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

/** Why an epoch halts: the step, the refused attempts and the last refusal's exit code. */
export interface Halt {
  kind: 'halt';
  epochId: number;
  step: 'commit' | 'batch' | 'root';
  batch: number | null;
  reason: string;
  attempts: number;
  lastExitCode: number | null;
}

export type Decision =
  | { kind: 'open'; epochId: number; startedAtMs: number; endsAtMs: number }
  | { kind: 'reschedule'; epochId: number; previousEndsAtMs: number; endsAtMs: number; previousLengthMs: number; lengthMs: number; changedAtMs: number }
  | { kind: 'close'; epochId: number; closedAtMs: number; expected: number }
  | { kind: 'freeze'; epochId: number }
  | { kind: 'compute'; epochId: number }
  | { kind: 'commit'; epochId: number; attempt: number; queryId: bigint }
  | { kind: 'confirmCommit'; epochId: number; txHash: string }
  | { kind: 'plan'; epochId: number; batches: { batch: number; fromIndex: number; count: number }[] }
  | { kind: 'submit'; epochId: number; batch: number; attempt: number; queryId: bigint }
  | { kind: 'confirmBatch'; epochId: number; batch: number; paidNanoton: bigint; txHashes: string[] }
  | { kind: 'settle'; epochId: number; payoutsConfirmed: number; paidNanoton: bigint }
  | Halt;

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

/** The halt for a step whose refused attempts reached the limit, else null. */
function refusedTooOften(epochId: number, step: 'commit' | 'batch', batch: number | null, refused: Map<number, number>, s: SagaSettings): Halt | null {
  if (refused.size < s.maxRefusedAttempts) return null;
  const lastExitCode = refused.get(Math.max(...refused.keys()))!;
  const what = step === 'commit' ? 'the root commit' : `payout batch ${batch}`;
  return {
    kind: 'halt', epochId, step, batch, attempts: refused.size, lastExitCode,
    reason: `the distribution contract refused ${what} ${refused.size} times (last exit code ${lastExitCode})`,
  };
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
function decideEpoch(e: EpochState, prev: EpochState | null, nowMs: number, s: SagaSettings): Decision[] {
  if (e.settled || e.halted || e.closedAtMs === null) return [];
  const id = e.epochId;
  if (!e.frozen) return prev && !prev.computed ? [] : [{ kind: 'freeze', epochId: id }];
  if (!e.computed) return [{ kind: 'compute', epochId: id }];
  const c = e.computed;

  if (e.chainRoot && e.chainRoot.merkleRoot !== c.merkleRoot) {
    return [{
      kind: 'halt', epochId: id, step: 'root', batch: null, attempts: e.commitAttempts, lastExitCode: null,
      reason: `chain stored root ${e.chainRoot.merkleRoot}, computed ${c.merkleRoot}`,
    }];
  }
  if (!e.commitConfirmedTx) {
    if (e.chainRoot) return [{ kind: 'confirmCommit', epochId: id, txHash: e.chainRoot.txHash }];
    if (prev && !prev.commitConfirmedTx) return [];
    const halt = refusedTooOften(id, 'commit', null, e.commitRefused, s);
    if (halt) return [halt];
    const waiting = e.lastCommitRequestedAtMs !== null && nowMs - e.lastCommitRequestedAtMs < s.resubmitAfterMs;
    if (waiting) return [];
    const attempt = e.commitAttempts + 1;
    return [{ kind: 'commit', epochId: id, attempt, queryId: queryIdFor(id, 'commit', 0, attempt) }];
  }

  const planned = planBatches(c.leafCount, s.batchSize);
  if (e.batches.filter(Boolean).length < planned.length) {
    return [{ kind: 'plan', epochId: id, batches: planned.filter((b) => !e.batches[b.batch]) }];
  }

  for (const b of e.batches) {
    const halt = b && !b.confirmed && !batchPaid(e, b).paid ? refusedTooOften(id, 'batch', b.batch, b.refused, s) : null;
    if (halt) return [halt];
  }

  const out: Decision[] = [];
  let inFlight = 0;
  for (const b of e.batches) {
    if (!b || b.confirmed) continue;
    const paid = batchPaid(e, b);
    if (paid.paid) {
      out.push({ kind: 'confirmBatch', epochId: id, batch: b.batch, paidNanoton: paid.amount, txHashes: paid.txHashes });
      continue;
    }
    const pending = b.lastSubmittedAtMs !== null && nowMs - b.lastSubmittedAtMs < s.resubmitAfterMs;
    if (pending) inFlight++;
  }
  for (const b of e.batches) {
    if (!b || b.confirmed || inFlight >= s.maxBatchesInFlight) continue;
    if (batchPaid(e, b).paid) continue;
    if (b.lastSubmittedAtMs !== null && nowMs - b.lastSubmittedAtMs < s.resubmitAfterMs) continue;
    const attempt = b.attempts + 1;
    out.push({ kind: 'submit', epochId: id, batch: b.batch, attempt, queryId: queryIdFor(id, 'batch', b.batch, attempt) });
    inFlight++;
  }
  if (!out.length && e.batches.filter(Boolean).every((b) => b.confirmed)) {
    let paidNanoton = 0n;
    for (const p of e.paid.values()) paidNanoton += p.amount;
    out.push({ kind: 'settle', epochId: id, payoutsConfirmed: e.paid.size, paidNanoton });
  }
  return out;
}

/**
 * A schedule change for the open epoch when the configured length differs from the one in force:
 * the epoch then ends at max(now, start + new length), so a shorter length never ends it in the past.
 */
function rescheduleOf(e: EpochState, nowMs: number, s: SagaSettings): Decision | null {
  if (e.startedAtMs === null || e.endsAtMs === null || e.lengthMs === null || e.lengthMs === s.epochMs) return null;
  return {
    kind: 'reschedule',
    epochId: e.epochId,
    previousEndsAtMs: e.endsAtMs,
    endsAtMs: Math.max(nowMs, e.startedAtMs + s.epochMs),
    previousLengthMs: e.lengthMs,
    lengthMs: s.epochMs,
    changedAtMs: nowMs,
  };
}

/**
 * Everything the saga should do now. Decisions of different epochs are independent; within an
 * epoch they are in execution order.
 */
export function decide(state: SagaState, nowMs: number, s: SagaSettings): Decision[] {
  const ids = [...state.epochs.keys()].filter((id) => state.epochs.get(id)!.lastSequence > 0).sort((a, b) => a - b);
  const out: Decision[] = [];
  const latest = ids.length ? state.epochs.get(ids[ids.length - 1]!)! : null;
  if (!latest) {
    out.push({ kind: 'open', epochId: 1, startedAtMs: nowMs, endsAtMs: nowMs + s.epochMs });
  } else if (latest.closedAtMs === null) {
    const reschedule = rescheduleOf(latest, nowMs, s);
    if (reschedule) {
      out.push(reschedule);
    } else if (latest.endsAtMs !== null && nowMs >= latest.endsAtMs) {
      out.push({ kind: 'close', epochId: latest.epochId, closedAtMs: nowMs, expected: latest.lastSequence });
    }
  } else {
    out.push({ kind: 'open', epochId: latest.epochId + 1, startedAtMs: nowMs, endsAtMs: nowMs + s.epochMs });
  }
  for (const id of ids) out.push(...decideEpoch(state.epochs.get(id)!, state.epochs.get(id - 1) ?? null, nowMs, s));
  return out;
}
