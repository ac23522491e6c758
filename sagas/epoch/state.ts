/**
 * The epoch saga's state, folded from its own events (`pool.epoch.<id>`) and the chain events
 * that confirm its actions. `evolve` is deterministic and idempotent by stream sequence, so the
 * process manager can apply its own appends at once and again when they come back from the stream.
 */
import type { EventData, RecordedEvent } from '../../schemas/catalog.ts';

export interface BatchState {
  batch: number;
  fromIndex: number;
  count: number;
  attempts: number;
  lastSubmittedAtMs: number | null;
  confirmed: boolean;
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
  /** root the contract stored for this epoch, from the chain event */
  chainRoot: { merkleRoot: string; txHash: string } | null;
  batches: BatchState[];
  /** leaves paid on chain: index → amount and transaction */
  paid: Map<number, { amount: bigint; txHash: string }>;
  settled: boolean;
}

export interface SagaState {
  epochs: Map<number, EpochState>;
}

export function emptySagaState(): SagaState {
  return { epochs: new Map() };
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
      chainRoot: null,
      batches: [],
      paid: new Map(),
      settled: false,
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
  'EpochRootCommitted',
  'RewardBatchPaid',
  'RewardClaimed',
] as const;

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
        e.batches[event.data.batch] = { ...event.data, attempts: 0, lastSubmittedAtMs: null, confirmed: false };
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
  }
}
