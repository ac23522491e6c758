/**
 * The epoch process manager: folds the saga's events (state.ts), asks `decide` what to do, and
 * does it — append first (deterministic id `<epoch>:<step>`, expect.lastSubjectSequence), then
 * act on the chain. Payouts are confirmed only from chain events, never from a send returning.
 *
 * Freezing an epoch waits until the contribution, epoch and reputation projections have passed
 * the cut (their checkpoints), so what is frozen is exactly the events stored before the cut.
 */
import type { Cell } from '@ton/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { parseRawAddress } from '../../domain/address.ts';
import { buildRewardsTree, type RewardsTree } from '../../domain/merkle/index.ts';
import { REPUTATION_FORMULA_VERSION } from '../../domain/reputation.ts';
import { REWARDS_FORMULA_VERSION, type RewardParams } from '../../domain/rewards.ts';
import type { Database } from '../../db/schema.ts';
import { CONTRIBUTIONS_PROJECTION, epochObservedMs, type FrozenContribution } from '../../projectors/contributions.ts';
import { EPOCHS_PROJECTION } from '../../projectors/epochs.ts';
import { REPUTATION_PROJECTION } from '../../projectors/reputation.ts';
import type { RewardArtifactRow } from '../../projectors/rewards.ts';
import { readCheckpoint } from '../../projectors/runner.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import type { ArtifactStore } from '../../streams/artifacts.ts';
import { quarantineInvalid, type DeadLetterSink } from '../../streams/deadLetter.ts';
import { ConcurrencyError, type EventStore, type InvalidEvent } from '../../streams/eventStore.ts';
import { decide, type Decision, type SagaSettings } from './decide.ts';
import { epochRevenue, freezeContributions, splitEpoch } from './settlement.ts';
import { emptySagaState, evolve, SAGA_EVENT_TYPES, type SagaState } from './state.ts';
import { Waker } from '../../runtime/sleep.ts';

/** What the saga does on chain. Implemented over the chain client and contract messages. */
export interface DistributionActions {
  /** raw address of the wallet these actions send from (its refused messages are the saga's) */
  sender: string;
  /** Sends CommitEpochRoot. Resolving means "sent", not "committed". */
  commitRoot(args: { epochId: number; queryId: bigint; root: Buffer; leafCount: number; totalNanoton: bigint; operatorFeeNanoton: bigint }): Promise<void>;
  /** Sends PayoutBatch with a Merkle proof covering [fromIndex, fromIndex+count). */
  payBatch(args: { epochId: number; queryId: bigint; fromIndex: number; count: number; proof: Cell }): Promise<void>;
}

export interface EpochSagaOptions {
  store: EventStore;
  /** where stored messages that are not valid events go (once each); the saga reads past them */
  deadLetter: DeadLetterSink;
  db: Kysely<Database>;
  artifacts: ArtifactStore;
  actions: DistributionActions;
  settings: SagaSettings;
  rewardParams: RewardParams;
  logger: Logger;
  /** milliseconds between decision rounds when nothing happens; default 500 */
  tickMs?: number;
  /** the clock, unix ms; default Date.now */
  now?: () => number;
  signal: AbortSignal;
}

/** Applies an appended event to the state as it will come back from the stream. */
function recorded(subject: string, event: PoolEvent, sequence: number): RecordedEvent {
  return { ...event, subject, sequence, storedAtMs: Date.now() } as RecordedEvent;
}

/**
 * Runs the saga until `signal` aborts.
 *
 * A stored message that is not a valid event (on `pool.epoch.*` or `pool.chain.*`) is no fact:
 * it is dead-lettered once (streams/deadLetter.ts `quarantineInvalid`) and folded as nothing,
 * except that the saga's next append on that epoch's subject expects its sequence (it is the
 * subject's last message, so expect.lastSubjectSequence must name it).
 * @throws when reading the stream fails (the live subscription included: the saga then stops and
 *   rethrows, so its supervisor restarts it from the stream); decision failures are logged and retried.
 */
export async function runEpochSaga(options: EpochSagaOptions): Promise<void> {
  const { store, logger, signal } = options;
  const now = options.now ?? Date.now;
  const state: SagaState = emptySagaState(options.actions.sender);
  const trees = new Map<number, RewardsTree>();

  /** epoch subject → sequence of its last message that is not a valid event */
  const invalidOn = new Map<string, number>();
  const quarantine = quarantineInvalid(options.deadLetter, 'epoch-saga', logger);
  const onInvalid = async (invalid: InvalidEvent) => {
    await quarantine(invalid);
    if (invalid.subject.startsWith('pool.epoch.')) invalidOn.set(invalid.subject, Math.max(invalidOn.get(invalid.subject) ?? 0, invalid.sequence));
  };

  let position = 0;
  for await (const batch of store.read({ types: SAGA_EVENT_TYPES, signal, onInvalid })) {
    for (const e of batch.events) evolve(state, e);
    position = batch.lastSequence;
  }
  for (const e of state.epochs.values()) {
    if (e.halted) logger.error(e.halted, 'epoch is halted (recorded earlier): nothing is sent for it until an operator acts');
  }
  const waker = new Waker();
  // the live subscription ends with the saga, whatever ends it; its failure ends the saga
  const stopFollowing = new AbortController();
  let followFailure: Error | null = null;
  const follow = (async () => {
    for await (const batch of store.subscribe({ fromSequence: position + 1, types: SAGA_EVENT_TYPES, signal: AbortSignal.any([signal, stopFollowing.signal]), onInvalid })) {
      for (const e of batch.events) evolve(state, e);
      waker.wake();
    }
    if (!signal.aborted && !stopFollowing.signal.aborted) throw new Error('the saga\'s subscription to the stream ended');
  })().catch((err: unknown) => {
    followFailure = err instanceof Error ? err : new Error(String(err));
    logger.error({ err }, 'epoch saga lost its subscription to the stream; stopping the saga');
    waker.wake();
  });

  async function append(epochId: number, event: PoolEvent): Promise<boolean> {
    const subject = `pool.epoch.${epochId}`;
    const expected = Math.max(state.epochs.get(epochId)?.lastSequence ?? 0, invalidOn.get(subject) ?? 0);
    try {
      const ack = await store.append(subject, event, { expectedLastSubjectSequence: expected });
      evolve(state, recorded(subject, event, ack.sequence));
      return !ack.duplicate;
    } catch (err) {
      if (err instanceof ConcurrencyError) {
        logger.info({ epochId, type: event.type }, 'another instance decided first; catching up');
        return false;
      }
      throw err;
    }
  }

  async function tree(epochId: number): Promise<RewardsTree> {
    let t = trees.get(epochId);
    if (!t) {
      const computed = state.epochs.get(epochId)!.computed!;
      const rows = await options.artifacts.getRows<RewardArtifactRow>(computed.rewards);
      t = buildRewardsTree(rows.map((r) => ({ address: parseRawAddress(r.participant), amount: BigInt(r.amountNanoton) })));
      if (t.rootHex !== computed.merkleRoot) throw new Error(`epoch ${epochId}: rewards artifact rebuilds to root ${t.rootHex}, event says ${computed.merkleRoot}`);
      trees.set(epochId, t);
    }
    return t;
  }

  async function freeze(epochId: number): Promise<void> {
    const e = state.epochs.get(epochId)!;
    const prev = state.epochs.get(epochId - 1);
    const cut = e.cutSequence!;
    const [contrib, epochs, reputation] = await Promise.all([
      readCheckpoint(options.db, CONTRIBUTIONS_PROJECTION),
      readCheckpoint(options.db, EPOCHS_PROJECTION),
      readCheckpoint(options.db, REPUTATION_PROJECTION),
    ]);
    if (contrib < cut || epochs < cut || (prev?.frozen && reputation < prev.frozen.sequence)) return; // projections not there yet
    const durationMs = Math.max(0, e.closedAtMs! - (e.startedAtMs ?? e.closedAtMs!));
    const observedMs = await epochObservedMs(options.db, epochId, durationMs);
    const frozen = await freezeContributions(options.db, epochId, observedMs);
    const revenue = await epochRevenue(options.db, epochId);
    const carryIn = prev?.computed ? BigInt(prev.computed.slashedNanoton) + BigInt(prev.computed.carryOutNanoton) : 0n;
    const artifact = await options.artifacts.putRows(`epoch-${epochId}-contributions.json`, frozen);
    await append(epochId, {
      type: 'ContributionsFrozen',
      version: 1,
      id: `${epochId}:frozen`,
      data: {
        epochId,
        cutSequence: cut,
        durationSeconds: durationMs / 1000,
        observedMs,
        participants: frozen.length,
        revenueNanoton: String(revenue),
        carryInNanoton: String(carryIn),
        contributions: artifact,
      },
    });
  }

  async function compute(epochId: number): Promise<void> {
    const frozen = state.epochs.get(epochId)!.frozen!;
    const rows = await options.artifacts.getRows<FrozenContribution>(frozen.contributions);
    const { result, tree: t, table } = splitEpoch(rows, BigInt(frozen.revenueNanoton), BigInt(frozen.carryInNanoton), options.rewardParams);
    trees.set(epochId, t);
    const artifact = await options.artifacts.putRows(`epoch-${epochId}-rewards.json`, table);
    await append(epochId, {
      type: 'RewardsComputed',
      version: 1,
      id: `${epochId}:computed`,
      data: {
        epochId,
        formulaVersion: REWARDS_FORMULA_VERSION,
        params: { ...options.rewardParams, reputationFormulaVersion: REPUTATION_FORMULA_VERSION },
        revenueNanoton: frozen.revenueNanoton,
        carryInNanoton: frozen.carryInNanoton,
        operatorFeeNanoton: String(result.operatorFee),
        rewardsNanoton: String(result.rewardsTotal),
        slashedNanoton: String(result.slashed),
        carryOutNanoton: String(result.carryOut),
        eligible: result.eligible,
        leafCount: result.rewards.length,
        merkleRoot: t.rootHex,
        rewards: artifact,
      },
    });
  }

  async function execute(d: Decision): Promise<void> {
    const id = d.epochId;
    switch (d.kind) {
      case 'open':
        await append(id, { type: 'EpochOpened', version: 1, id: `${id}:opened`, data: { epochId: id, startedAtMs: d.startedAtMs, endsAtMs: d.endsAtMs } });
        logger.info({ epochId: id, endsAt: new Date(d.endsAtMs).toISOString() }, 'epoch opened');
        return;
      case 'reschedule': {
        const { kind: _, ...data } = d;
        const changed = await append(id, { type: 'EpochScheduleChanged', version: 1, id: `${id}:schedule:${d.changedAtMs}`, data });
        if (changed) {
          logger.warn(
            { epochId: id, previousEndsAt: new Date(d.previousEndsAtMs).toISOString(), endsAt: new Date(d.endsAtMs).toISOString(), previousEpochSeconds: d.previousLengthMs / 1000, epochSeconds: d.lengthMs / 1000 },
            'epoch length changed: the open epoch now ends at max(now, start + new length)',
          );
        }
        return;
      }
      case 'close':
        await append(id, { type: 'EpochClosing', version: 1, id: `${id}:closing`, data: { epochId: id, closedAtMs: d.closedAtMs } });
        logger.info({ epochId: id }, 'epoch closed (cut)');
        return;
      case 'freeze':
        return freeze(id);
      case 'compute':
        return compute(id);
      case 'commit': {
        const c = state.epochs.get(id)!.computed!;
        const sent = await append(id, {
          type: 'RootCommitRequested',
          version: 1,
          id: `${id}:commit:${d.attempt}`,
          data: {
            epochId: id, attempt: d.attempt, queryId: String(d.queryId), merkleRoot: c.merkleRoot, leafCount: c.leafCount,
            totalNanoton: c.rewardsNanoton, operatorFeeNanoton: c.operatorFeeNanoton, requestedAtMs: now(),
          },
        });
        if (!sent) return;
        logger.info({ epochId: id, attempt: d.attempt, root: c.merkleRoot, leaves: c.leafCount }, 'committing epoch root');
        await options.actions.commitRoot({
          epochId: id, queryId: d.queryId, root: Buffer.from(c.merkleRoot, 'hex'), leafCount: c.leafCount,
          totalNanoton: BigInt(c.rewardsNanoton), operatorFeeNanoton: BigInt(c.operatorFeeNanoton),
        });
        return;
      }
      case 'confirmCommit':
        await append(id, { type: 'RootCommitConfirmed', version: 1, id: `${id}:commit-confirmed`, data: { epochId: id, txHash: d.txHash, confirmedAtMs: now() } });
        return;
      case 'plan':
        for (const b of d.batches) {
          if (!(await append(id, { type: 'PayoutBatchPlanned', version: 1, id: `${id}:batch:${b.batch}:planned`, data: { epochId: id, ...b } }))) return;
        }
        return;
      case 'submit': {
        const b = state.epochs.get(id)!.batches[d.batch]!;
        const proof = (await tree(id)).proofForRange(b.fromIndex, b.count);
        const sent = await append(id, {
          type: 'PayoutBatchSubmitted',
          version: 1,
          id: `${id}:batch:${d.batch}:submit:${d.attempt}`,
          data: { epochId: id, batch: d.batch, attempt: d.attempt, queryId: String(d.queryId), submittedAtMs: now() },
        });
        if (!sent) return;
        logger.info({ epochId: id, batch: d.batch, attempt: d.attempt, from: b.fromIndex, count: b.count }, 'submitting payout batch');
        await options.actions.payBatch({ epochId: id, queryId: d.queryId, fromIndex: b.fromIndex, count: b.count, proof });
        return;
      }
      case 'confirmBatch':
        await append(id, {
          type: 'PayoutBatchConfirmed',
          version: 1,
          id: `${id}:batch:${d.batch}:confirmed`,
          data: { epochId: id, batch: d.batch, paidNanoton: String(d.paidNanoton), txHashes: d.txHashes, confirmedAtMs: now() },
        });
        return;
      case 'settle':
        await append(id, {
          type: 'EpochSettled',
          version: 1,
          id: `${id}:settled`,
          data: { epochId: id, payoutsConfirmed: d.payoutsConfirmed, paidNanoton: String(d.paidNanoton), settledAtMs: now() },
        });
        logger.info({ epochId: id, payouts: d.payoutsConfirmed, paidNanoton: String(d.paidNanoton) }, 'epoch settled');
        return;
      case 'halt': {
        const data = { epochId: id, step: d.step, batch: d.batch, reason: d.reason, attempts: d.attempts, lastExitCode: d.lastExitCode, haltedAtMs: now() };
        if (await append(id, { type: 'EpochHalted', version: 1, id: `${id}:halted`, data })) {
          logger.error(data, 'epoch halted: nothing more is sent for it; an operator must investigate (a lost or replaced chain: restore <dataDir>/chain or start a fresh data dir)');
        }
        return;
      }
    }
  }

  try {
    while (!signal.aborted && !followFailure) {
      for (const d of decide(state, now(), options.settings)) {
        if (signal.aborted || followFailure) break;
        try {
          await execute(d);
        } catch (err) {
          logger.error({ err, decision: { ...d, queryId: 'queryId' in d ? String(d.queryId) : undefined } }, 'epoch saga step failed; will retry');
        }
      }
      await waker.sleep(options.tickMs ?? 500, signal);
    }
  } finally {
    stopFollowing.abort();
    await follow;
  }
  if (followFailure) throw followFailure;
}
