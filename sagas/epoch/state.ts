/**
 * The epoch saga's state, folded from its own events (`pool.epoch.<id>`) and the chain events
 * that confirm its actions. `evolve` is deterministic and idempotent by stream sequence, so the
 * process manager can apply its own appends at once and again when they come back from the stream.
 */
import { DISTRIBUTION_OPS } from '../../contracts/distribution.ts';
import { subjectFor, type EventData, type RecordedEvent } from '../../schemas/catalog.ts';
import { parseQueryId } from './decide.ts';

/** The signed external message of one attempt (OperatorMessageSigned). */
export interface SignedMessage {
  /** raw address of the highload wallet v3 it is for */
  wallet: string;
  /** the wallet's composite query_id (shift << 10 | bit_number) and its position in the wallet's order */
  walletQueryId: number;
  walletSequence: number;
  /** chain time, unix seconds: the wallet accepts it while createdAt <= now < expiresAt */
  createdAt: number;
  expiresAt: number;
  /** TEP-467 normalized hash, hex */
  normalizedHash: string;
  /** the external-in Message cell, BoC base64 */
  messageBoc: string;
  /** lt of the wallet's last final transaction when it was signed (decimal; "0" for none) */
  walletLastLt: string;
}

/** One attempt of a root commit or a payout batch: its intent, then its signed message. */
export interface AttemptState {
  attempt: number;
  /** query_id of the contract message (decide.ts `queryIdFor`) */
  queryId: bigint;
  /** unix ms the attempt was decided */
  requestedAtMs: number;
  /** null until OperatorMessageSigned (or for an attempt recorded before messages were recorded) */
  signed: SignedMessage | null;
  /** an OperatorMessageRejected is recorded for its message */
  rejected: boolean;
  /** an OperatorMessageExpired is recorded for its message: it never ran */
  expired: boolean;
}

export interface BatchState {
  batch: number;
  fromIndex: number;
  count: number;
  /** highest attempt recorded */
  attempts: number;
  tries: Map<number, AttemptState>;
  confirmed: boolean;
  /** attempts the distribution contract refused: attempt → exit code */
  refused: Map<number, number>;
}

/** What the operator wallet's transaction for a message did (OperatorMessageProcessed). */
export interface ProcessedMessage {
  txHash: string;
  lt: bigint;
  aborted: boolean;
  outMessages: number;
  walletQueryId: number | null;
}

/** The wallet's internal_transfer for a query_id (OperatorTransferExecuted). */
export interface ExecutedTransfer {
  lt: bigint;
  aborted: boolean;
  outMessages: number;
}

export interface EpochState {
  epochId: number;
  /** stream sequence of the last event on this epoch's subject (for expect.lastSubjectSequence) */
  lastSequence: number;
  startedAtMs: number | null;
  endsAtMs: number | null;
  /** the epoch length in force, milliseconds (EpochOpened's, or the last EpochScheduleChanged's) */
  lengthMs: number | null;
  closedAtMs: number | null;
  /** stream sequence of EpochClosing: the cut */
  cutSequence: number | null;
  frozen: (EventData<'ContributionsFrozen'> & { sequence: number }) | null;
  computed: EventData<'RewardsComputed'> | null;
  /** highest commit attempt recorded */
  commitAttempts: number;
  commitTries: Map<number, AttemptState>;
  commitConfirmedTx: string | null;
  /** commit attempts the distribution contract refused: attempt → exit code */
  commitRefused: Map<number, number>;
  /** root the contract stored for this epoch, from the chain event */
  chainRoot: { merkleRoot: string; txHash: string } | null;
  batches: BatchState[];
  /** leaves paid on chain: index → amount and transaction */
  paid: Map<number, { amount: bigint; txHash: string }>;
  settled: boolean;
  /** recorded EpochHalted: nothing more is decided for this epoch */
  halted: EventData<'EpochHalted'> | null;
  /** participants whose ContributionDivergenceDetected of this epoch is recorded */
  divergences: Set<string>;
}

export interface SagaState {
  epochs: Map<number, EpochState>;
  /**
   * Raw address of the wallet the saga sends from: only its refused messages count as refusals
   * of the saga's attempts (anyone can send a failing message with a guessed query_id).
   */
  operator: string;
  /** the operator wallet's transactions for external messages, by normalized hash (hex) */
  processed: Map<string, ProcessedMessage>;
  /** the operator wallet's internal_transfer transactions, by wallet query_id, in lt order */
  transfers: Map<number, ExecutedTransfer[]>;
  /** highest walletSequence signed so far (−1 before the first) */
  lastWalletSequence: number;
  /**
   * Process-local, not folded from events: unix ms each paced effect (decide.ts `Step.effect.pace`)
   * was last started, so a resubmission waits `resubmitAfterMs` and a restart resubmits at once.
   */
  lastTry: Map<string, number>;
}

/** The state before any event; `operator` is the raw address of the saga's sending wallet. */
export function emptySagaState(operator: string): SagaState {
  return { epochs: new Map(), operator, processed: new Map(), transfers: new Map(), lastWalletSequence: -1, lastTry: new Map() };
}

function epochOf(state: SagaState, epochId: number): EpochState {
  let e = state.epochs.get(epochId);
  if (!e) {
    e = {
      epochId,
      lastSequence: 0,
      startedAtMs: null,
      endsAtMs: null,
      lengthMs: null,
      closedAtMs: null,
      cutSequence: null,
      frozen: null,
      computed: null,
      commitAttempts: 0,
      commitTries: new Map(),
      commitConfirmedTx: null,
      commitRefused: new Map(),
      chainRoot: null,
      batches: [],
      paid: new Map(),
      settled: false,
      halted: null,
      divergences: new Set(),
    };
    state.epochs.set(epochId, e);
  }
  return e;
}

/** Event types the saga folds. */
export const SAGA_EVENT_TYPES = [
  'EpochOpened',
  'EpochScheduleChanged',
  'EpochClosing',
  'ContributionsFrozen',
  'RewardsComputed',
  'RootCommitRequested',
  'RootCommitConfirmed',
  'PayoutBatchPlanned',
  'PayoutBatchSubmitted',
  'PayoutBatchConfirmed',
  'EpochSettled',
  'EpochHalted',
  'OperatorMessageSigned',
  'OperatorMessageRejected',
  'OperatorMessageExpired',
  'OperatorMessageProcessed',
  'OperatorTransferExecuted',
  'EpochRootCommitted',
  'RewardBatchPaid',
  'RewardClaimed',
  'ChainTransactionFailed',
  'ContributionDivergenceDetected',
] as const;

/**
 * Records a refusal by the distribution contract of one of the saga's own sends: a failed
 * transaction on `pool.chain.distribution` from the saga's wallet, with the op of a commit or a
 * batch and a query_id of this saga's format ({@link parseQueryId}). Anything else is ignored.
 */
function refusal(state: SagaState, event: Extract<RecordedEvent, { type: 'ChainTransactionFailed' }>): void {
  const d = event.data;
  if (event.subject !== subjectFor('chain', 'distribution') || d.sender !== state.operator || d.queryId === null) return;
  const q = parseQueryId(BigInt(d.queryId));
  if (!q) return;
  const op = Number.parseInt(d.op ?? '', 16);
  if (q.kind === 'commit' && op === DISTRIBUTION_OPS.commitEpochRoot) {
    epochOf(state, q.epochId).commitRefused.set(q.attempt, d.exitCode);
  } else if (q.kind === 'batch' && op === DISTRIBUTION_OPS.payoutBatch) {
    state.epochs.get(q.epochId)?.batches[q.batch]?.refused.set(q.attempt, d.exitCode);
  }
}

function newAttempt(attempt: number, queryId: string, requestedAtMs: number): AttemptState {
  return { attempt, queryId: BigInt(queryId), requestedAtMs, signed: null, rejected: false, expired: false };
}

/** The attempt an operator-message event of this epoch is about. */
function attemptOf(e: EpochState, p: { step: 'commit' | 'batch'; batch: number | null; attempt: number }): AttemptState | undefined {
  return p.step === 'commit' ? e.commitTries.get(p.attempt) : e.batches[p.batch ?? -1]?.tries.get(p.attempt);
}

/** Applies one stored event (mutating `state`); events already applied are ignored. */
export function evolve(state: SagaState, event: RecordedEvent): void {
  switch (event.type) {
    case 'EpochRootCommitted': {
      const e = epochOf(state, event.data.epochId);
      e.chainRoot ??= { merkleRoot: event.data.merkleRoot, txHash: event.data.txHash };
      return;
    }
    case 'RewardBatchPaid': {
      const e = epochOf(state, event.data.epochId);
      for (const p of event.data.payouts) if (!e.paid.has(p.index)) e.paid.set(p.index, { amount: BigInt(p.amountNanoton), txHash: event.data.txHash });
      return;
    }
    case 'RewardClaimed': {
      const e = epochOf(state, event.data.epochId);
      if (!e.paid.has(event.data.index)) e.paid.set(event.data.index, { amount: BigInt(event.data.amountNanoton), txHash: event.data.txHash });
      return;
    }
    case 'ChainTransactionFailed':
      refusal(state, event);
      return;
    case 'OperatorMessageProcessed': {
      const d = event.data;
      if (d.contract !== state.operator || state.processed.has(d.normalizedHash)) return;
      state.processed.set(d.normalizedHash, { txHash: d.txHash, lt: BigInt(d.lt), aborted: d.aborted, outMessages: d.outMessages, walletQueryId: d.walletQueryId });
      return;
    }
    case 'OperatorTransferExecuted': {
      const d = event.data;
      if (d.contract !== state.operator) return;
      const list = state.transfers.get(d.walletQueryId) ?? [];
      if (!list.some((t) => t.lt === BigInt(d.lt))) list.push({ lt: BigInt(d.lt), aborted: d.aborted, outMessages: d.outMessages });
      state.transfers.set(d.walletQueryId, list.sort((a, b) => (a.lt < b.lt ? -1 : 1)));
      return;
    }
  }
  if (!('epochId' in event.data) || !event.subject.startsWith('pool.epoch.')) return;
  const e = epochOf(state, event.data.epochId as number);
  if (event.sequence <= e.lastSequence) return;
  e.lastSequence = event.sequence;
  switch (event.type) {
    case 'EpochOpened':
      e.startedAtMs = event.data.startedAtMs;
      e.endsAtMs = event.data.endsAtMs;
      e.lengthMs = event.data.endsAtMs - event.data.startedAtMs;
      break;
    case 'EpochScheduleChanged':
      e.endsAtMs = event.data.endsAtMs;
      e.lengthMs = event.data.lengthMs;
      break;
    case 'EpochClosing':
      e.closedAtMs = event.data.closedAtMs;
      e.cutSequence = event.sequence;
      break;
    case 'ContributionsFrozen':
      e.frozen = { ...event.data, sequence: event.sequence };
      break;
    case 'RewardsComputed':
      e.computed = event.data;
      break;
    case 'RootCommitRequested':
      e.commitAttempts = Math.max(e.commitAttempts, event.data.attempt);
      e.commitTries.set(event.data.attempt, newAttempt(event.data.attempt, event.data.queryId, event.data.requestedAtMs));
      break;
    case 'RootCommitConfirmed':
      e.commitConfirmedTx = event.data.txHash;
      break;
    case 'PayoutBatchPlanned':
      if (!e.batches[event.data.batch]) {
        e.batches[event.data.batch] = { batch: event.data.batch, fromIndex: event.data.fromIndex, count: event.data.count, attempts: 0, tries: new Map(), confirmed: false, refused: new Map() };
      }
      break;
    case 'PayoutBatchSubmitted': {
      const b = e.batches[event.data.batch];
      if (b) {
        b.attempts = Math.max(b.attempts, event.data.attempt);
        b.tries.set(event.data.attempt, newAttempt(event.data.attempt, event.data.queryId, event.data.submittedAtMs));
      }
      break;
    }
    case 'OperatorMessageSigned': {
      const d = event.data;
      const t = attemptOf(e, d);
      if (t) {
        t.signed = {
          wallet: d.wallet, walletQueryId: d.walletQueryId, walletSequence: d.walletSequence, createdAt: d.createdAt, expiresAt: d.expiresAt,
          normalizedHash: d.normalizedHash, messageBoc: d.messageBoc, walletLastLt: d.walletLastLt,
        };
      }
      state.lastWalletSequence = Math.max(state.lastWalletSequence, d.walletSequence);
      break;
    }
    case 'OperatorMessageRejected': {
      const t = attemptOf(e, event.data);
      if (t) t.rejected = true;
      break;
    }
    case 'OperatorMessageExpired': {
      const t = attemptOf(e, event.data);
      if (t) t.expired = true;
      break;
    }
    case 'PayoutBatchConfirmed': {
      const b = e.batches[event.data.batch];
      if (b) b.confirmed = true;
      break;
    }
    case 'EpochSettled':
      e.settled = true;
      break;
    case 'EpochHalted':
      e.halted = event.data;
      break;
    case 'ContributionDivergenceDetected':
      e.divergences.add(event.data.participant);
      break;
  }
}
