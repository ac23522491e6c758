/**
 * The epoch saga's state, folded from its own events (`pool.epoch.<id>`) and the chain events
 * that confirm its actions. `evolve` is deterministic and idempotent by stream sequence, so the
 * process manager can apply its own appends at once and again when they come back from the stream.
 */
import { DISTRIBUTION_OPS } from '../../contracts/distribution.ts';
import type { EventData, RecordedEvent } from '../../schemas/catalog.ts';
import { parseQueryId } from './decide.ts';

export interface BatchState {
  batch: number;
  fromIndex: number;
  count: number;
  attempts: number;
  lastSubmittedAtMs: number | null;
  confirmed: boolean;
  /** attempts the distribution contract refused: attempt → exit code */
  refused: Map<number, number>;
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
  commitAttempts: number;
  lastCommitRequestedAtMs: number | null;
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
}

export interface SagaState {
  epochs: Map<number, EpochState>;
  /**
   * Raw address of the wallet the saga sends from: only its refused messages count as refusals
   * of the saga's attempts (anyone can send a failing message with a guessed query_id).
   */
  operator: string;
}

/** The state before any event; `operator` is the raw address of the saga's sending wallet. */
export function emptySagaState(operator: string): SagaState {
  return { epochs: new Map(), operator };
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
      lastCommitRequestedAtMs: null,
      commitConfirmedTx: null,
      commitRefused: new Map(),
      chainRoot: null,
      batches: [],
      paid: new Map(),
      settled: false,
      halted: null,
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
  'EpochRootCommitted',
  'RewardBatchPaid',
  'RewardClaimed',
  'ChainTransactionFailed',
] as const;

/**
 * Records a refusal by the distribution contract of one of the saga's own sends: a failed
 * transaction on `pool.chain.distribution` from the saga's wallet, with the op of a commit or a
 * batch and a query_id of this saga's format ({@link parseQueryId}). Anything else is ignored.
 */
function refusal(state: SagaState, event: Extract<RecordedEvent, { type: 'ChainTransactionFailed' }>): void {
  const d = event.data;
  if (event.subject !== 'pool.chain.distribution' || d.sender !== state.operator || d.queryId === null) return;
  const q = parseQueryId(BigInt(d.queryId));
  if (!q) return;
  const op = Number.parseInt(d.op ?? '', 16);
  if (q.kind === 'commit' && op === DISTRIBUTION_OPS.commitEpochRoot) {
    epochOf(state, q.epochId).commitRefused.set(q.attempt, d.exitCode);
  } else if (q.kind === 'batch' && op === DISTRIBUTION_OPS.payoutBatch) {
    state.epochs.get(q.epochId)?.batches[q.batch]?.refused.set(q.attempt, d.exitCode);
  }
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
      e.lastCommitRequestedAtMs = event.data.requestedAtMs;
      break;
    case 'RootCommitConfirmed':
      e.commitConfirmedTx = event.data.txHash;
      break;
    case 'PayoutBatchPlanned':
      if (!e.batches[event.data.batch]) {
        e.batches[event.data.batch] = { ...event.data, attempts: 0, lastSubmittedAtMs: null, confirmed: false, refused: new Map() };
      }
      break;
    case 'PayoutBatchSubmitted': {
      const b = e.batches[event.data.batch];
      if (b) {
        b.attempts = Math.max(b.attempts, event.data.attempt);
        b.lastSubmittedAtMs = event.data.submittedAtMs;
      }
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
  }
}
