/**
 * The epoch process manager: folds the saga's events (state.ts), asks `decide` what to do, and
 * does it — append first (deterministic id `<epoch>:<step>`, expect.lastSubjectSequence), then
 * act on the chain. Payouts are confirmed only from chain events, never from a send returning.
 *
 * Freezing an epoch waits until the contribution, epoch and reputation projections (and, for reward
 * formula v2, the member-revenue projection) have passed the cut (their checkpoints), so what is
 * frozen is exactly the events stored before the cut. The formula is the configured one
 * (`rewardParams.formulaVersion`, default 1) when the epoch is frozen (ContributionsFrozen
 * `formulaVersion`); compute uses the frozen one, so a restart with another setting between the
 * two cannot mix them. With formula 2 each divergent member gets one ContributionDivergenceDetected
 * (id `<epoch>:divergence:<participant>`, on the epoch's subject like its other decisions),
 * logged at error; read-api/metrics.ts counts them (`pool_contribution_divergences_total`).
 */
import type { Cell } from '@ton/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RewardsTree } from '../../domain/merkle/index.ts';
import { REPUTATION_FORMULA_VERSION } from '../../domain/reputation.ts';
import { REWARDS_FORMULA_VERSION, type RewardParams } from '../../domain/rewards.ts';
import { DEFAULT_DIVERGENCE_PARAMS, REWARDS_FORMULA_V2, type DivergenceParams } from '../../domain/rewardsV2.ts';
import type { Database } from '../../db/schema.ts';
import { CONTRIBUTIONS_PROJECTION, epochObservedMs, type FrozenContribution } from '../../projectors/contributions.ts';
import { EPOCHS_PROJECTION } from '../../projectors/epochs.ts';
import { REPUTATION_PROJECTION } from '../../projectors/reputation.ts';
import { MEMBER_REVENUE_PROJECTION } from '../../projectors/memberRevenue.ts';
import type { RewardArtifactRow, TokenCreditRow } from '../../projectors/rewards.ts';
import { readCheckpoint } from '../../projectors/runner.ts';
import { subjectFor, type PoolEvent, type RecordedEvent } from '../../schemas/catalog.ts';
import type { ArtifactStore } from '../../streams/artifacts.ts';
import { quarantineInvalid, type DeadLetterSink } from '../../streams/deadLetter.ts';
import { ConcurrencyError, type EventStore, type InvalidEvent } from '../../streams/eventStore.ts';
import { attemptId, decide, type Effect, type Purpose, type SagaSettings, type Step } from './decide.ts';
import { epochRevenue, freezeContributions, rewardParamsOf, rewardsTreeOf, splitEpoch, tokenCarriesAfter } from './settlement.ts';
import { emptySagaState, evolve, SAGA_EVENT_TYPES, type SagaState, type SignedMessage } from './state.ts';
import { ChainUnavailableError, SendRejectedError } from '../../chain/client.ts';
import { Waker } from '../../runtime/sleep.ts';

/**
 * What the saga does on chain, from the operator's highload wallet v3 (distributionActions.ts
 * implements it over ChainReader + ChainSender). Nothing here confirms anything: confirmations
 * come only from indexed chain events.
 */
export interface DistributionActions {
  /** raw address of the wallet these actions send from (its refused messages are the saga's) */
  sender: string;
  /** Root (hex) the distribution contract stores for `epochId`, null when none (its `epoch` getter). */
  storedRoot(epochId: number): Promise<string | null>;
  /** The leaf indices of [fromIndex, fromIndex+count) the contract has paid (its `isClaimed` getter). */
  paidLeaves(epochId: number, fromIndex: number, count: number): Promise<number[]>;
  /**
   * Signs CommitEpochRoot as the wallet's `walletSequence`-th message, created at the chain's time.
   * Nothing is sent. @throws ChainUnavailableError (reading chain time or the wallet).
   */
  signCommit(args: { epochId: number; queryId: bigint; root: Buffer; leafCount: number; totalNanoton: bigint; operatorFeeNanoton: bigint; walletSequence: number }): Promise<SignedMessage>;
  /** Signs PayoutBatch with a Merkle proof covering [fromIndex, fromIndex+count); as {@link signCommit}. */
  signBatch(args: { epochId: number; queryId: bigint; fromIndex: number; count: number; proof: Cell; walletSequence: number }): Promise<SignedMessage>;
  /** Final chain time, unix seconds. @throws ChainUnavailableError */
  chainTime(): Promise<number>;
  /**
   * Submits the recorded message. Resolving means "accepted for broadcast", not "ran".
   * @throws SendRejectedError, ChainUnavailableError (chain/client.ts ChainSender).
   */
  submit(message: SignedMessage): Promise<void>;
  /**
   * Proof that `message` never ran: final chain time at or past its expiry and none of the wallet's
   * final transactions since `walletLastLt` (checked to link) carries its normalized hash; null when
   * it is not expired yet or did run.
   * @throws ChainUnavailableError; Error when the wallet's transactions do not link (a gap: not proven).
   */
  proveExpired(message: SignedMessage): Promise<{ chainTime: number; checkedThroughLt: bigint } | null>;
}

export interface EpochSagaOptions {
  store: EventStore;
  /** where stored messages that are not valid events go (once each); the saga reads past them */
  deadLetter: DeadLetterSink;
  db: Kysely<Database>;
  artifacts: ArtifactStore;
  actions: DistributionActions;
  settings: SagaSettings;
  /** formula 1's parameters; `formulaVersion` 2 (default 1) and its divergence parameters (default DEFAULT_DIVERGENCE_PARAMS) select formula 2 */
  rewardParams: RewardParams & Partial<DivergenceParams> & { formulaVersion?: 1 | 2 };
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
 * Runs the saga until `signal` aborts: each round folds what arrived, asks `decide` for steps and
 * runs them in order (a step's events first, then its effect). A round that appended anything is
 * followed by the next at once; otherwise the saga sleeps `tickMs`, cut short by any event the
 * subscription brings (runtime/sleep.ts Waker: one arriving during a round is not lost).
 *
 * A stored message that is not a valid event (on `pool.epoch.*` or `pool.chain.*`) is no fact:
 * it is dead-lettered once (streams/deadLetter.ts `quarantineInvalid`) and folded as nothing,
 * except that the saga's next append on that epoch's subject expects its sequence (it is the
 * subject's last message, so expect.lastSubjectSequence must name it).
 * @throws when reading the stream fails (the live subscription included: the saga then stops and
 *   rethrows, so its supervisor restarts it from the stream); step failures are logged and retried.
 */
export async function runEpochSaga(options: EpochSagaOptions): Promise<void> {
  const { store, logger, signal, actions } = options;
  const now = options.now ?? Date.now;
  const state: SagaState = emptySagaState(actions.sender);
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

  /** Appends `event` on its epoch's subject; true when this call stored it (not a duplicate, no race lost). */
  async function append(epochId: number, event: PoolEvent): Promise<boolean> {
    const subject = subjectFor('epoch', epochId);
    const expected = Math.max(state.epochs.get(epochId)?.lastSequence ?? 0, invalidOn.get(subject) ?? 0);
    try {
      const ack = await store.append(subject, event, { expectedLastSubjectSequence: expected });
      // a duplicate id means an earlier append stored ITS version (a signed message differs per signing): fold that one, from the stream
      if (ack.duplicate) return false;
      evolve(state, recorded(subject, event, ack.sequence));
      return true;
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
      t = rewardsTreeOf(rows);
      if (t.rootHex !== computed.merkleRoot) throw new Error(`epoch ${epochId}: rewards artifact rebuilds to root ${t.rootHex}, event says ${computed.merkleRoot}`);
      trees.set(epochId, t);
    }
    return t;
  }

  async function freeze(epochId: number): Promise<PoolEvent | null> {
    const e = state.epochs.get(epochId)!;
    const prev = state.epochs.get(epochId - 1);
    const cut = e.cutSequence!;
    const v2 = options.rewardParams.formulaVersion === REWARDS_FORMULA_V2;
    const [contrib, epochs, reputation, memberRevenue] = await Promise.all([
      readCheckpoint(options.db, CONTRIBUTIONS_PROJECTION),
      readCheckpoint(options.db, EPOCHS_PROJECTION),
      readCheckpoint(options.db, REPUTATION_PROJECTION),
      v2 ? readCheckpoint(options.db, MEMBER_REVENUE_PROJECTION) : cut,
    ]);
    if (contrib < cut || epochs < cut || memberRevenue < cut || (prev?.frozen && reputation < prev.frozen.sequence)) return null; // projections not there yet
    const durationMs = Math.max(0, e.closedAtMs! - (e.startedAtMs ?? e.closedAtMs!));
    const observedMs = await epochObservedMs(options.db, epochId, durationMs);
    // carries in: the previous epoch's token credits (none for the first epoch or after a formula 1 epoch)
    const carriesIn = !v2 ? undefined : tokenCarriesAfter(prev?.computed?.tokenCredits ? await options.artifacts.getRows<TokenCreditRow>(prev.computed.tokenCredits) : []);
    const frozen = await freezeContributions(options.db, epochId, observedMs, carriesIn);
    const revenue = await epochRevenue(options.db, epochId);
    const carryIn = prev?.computed ? BigInt(prev.computed.slashedNanoton) + BigInt(prev.computed.carryOutNanoton) : 0n;
    const artifact = await options.artifacts.putRows(`epoch-${epochId}-contributions.json`, frozen);
    return {
      type: 'ContributionsFrozen',
      version: 1,
      id: `${epochId}:frozen`,
      data: {
        epochId,
        cutSequence: cut,
        durationSeconds: durationMs / 1000,
        observedMs,
        ...(v2 ? { formulaVersion: REWARDS_FORMULA_V2 } : {}),
        participants: frozen.length,
        revenueNanoton: String(revenue),
        carryInNanoton: String(carryIn),
        contributions: artifact,
      },
    };
  }

  async function compute(epochId: number): Promise<PoolEvent> {
    const frozen = state.epochs.get(epochId)!.frozen!;
    const rows = await options.artifacts.getRows<FrozenContribution>(frozen.contributions);
    const params = rewardParamsOf(options.rewardParams);
    const divergence: DivergenceParams | undefined = frozen.formulaVersion !== REWARDS_FORMULA_V2 ? undefined : {
      divergenceToleranceBps: options.rewardParams.divergenceToleranceBps ?? DEFAULT_DIVERGENCE_PARAMS.divergenceToleranceBps,
      divergenceGraceTokens: options.rewardParams.divergenceGraceTokens ?? DEFAULT_DIVERGENCE_PARAMS.divergenceGraceTokens,
    };
    const { result, tree: t, table, credits } = splitEpoch(rows, BigInt(frozen.revenueNanoton), BigInt(frozen.carryInNanoton), params, divergence);
    trees.set(epochId, t);
    const artifact = await options.artifacts.putRows(`epoch-${epochId}-rewards.json`, table);
    const creditsArtifact = credits ? await options.artifacts.putRows(`epoch-${epochId}-token-credits.json`, credits) : null;
    return {
      type: 'RewardsComputed',
      version: 1,
      id: `${epochId}:computed`,
      data: {
        epochId,
        formulaVersion: divergence ? REWARDS_FORMULA_V2 : REWARDS_FORMULA_VERSION,
        params: { ...params, ...divergence, reputationFormulaVersion: REPUTATION_FORMULA_VERSION },
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
        ...(creditsArtifact ? { tokenCredits: creditsArtifact, divergences: credits!.filter((c) => c.divergent).length } : {}),
      },
    };
  }

  /**
   * The ContributionDivergenceDetected of each divergent participant of the epoch's token credits
   * not recorded yet, in participant order (appended like its other decisions: a duplicate or a
   * race lost stops there, the next round goes on from the stream).
   */
  async function alert(epochId: number): Promise<PoolEvent[]> {
    const e = state.epochs.get(epochId)!;
    const c = e.computed!;
    const credits = await options.artifacts.getRows<TokenCreditRow>(c.tokenCredits!);
    return credits.flatMap((k): PoolEvent[] => {
      if (!k.divergent || e.divergences.has(k.participant)) return [];
      return [{
        type: 'ContributionDivergenceDetected', version: 1, id: `${epochId}:divergence:${k.participant}`,
        data: {
          epochId, participant: k.participant, claimedTokens: k.claimedTokens, unpaidClaimsInTokens: k.unpaidClaimsIn, verifiedTokens: k.verifiedTokens,
          unclaimedPaymentsInTokens: k.unclaimedPaymentsIn, creditedTokens: k.creditedTokens, unpaidClaimsTokens: k.unpaidClaimsOut,
          toleranceBps: Number(c.params.divergenceToleranceBps), graceTokens: Number(c.params.divergenceGraceTokens),
        },
      }];
    });
  }

  /**
   * Signs an attempt's message. A later attempt first re-reads the contract: a root already
   * stored is not committed again, and a batch is signed over its leaves still unpaid (none: nothing).
   */
  async function sign(epochId: number, purpose: Purpose, walletSequence: number): Promise<PoolEvent | null> {
    const e = state.epochs.get(epochId)!;
    const c = e.computed!;
    const { step, batch, attempt, queryId } = purpose;
    const about = { epochId, step, batch, attempt };
    let signed: SignedMessage;
    if (step === 'commit') {
      if (attempt > 1) {
        const stored = await actions.storedRoot(epochId);
        if (stored) {
          logger.info({ ...about, root: stored }, 'the contract already stores this epoch\'s root: not signing again, waiting for the chain indexer');
          return null;
        }
      }
      signed = await actions.signCommit({
        epochId, queryId, root: Buffer.from(c.merkleRoot, 'hex'), leafCount: c.leafCount,
        totalNanoton: BigInt(c.rewardsNanoton), operatorFeeNanoton: BigInt(c.operatorFeeNanoton), walletSequence,
      });
    } else {
      const b = e.batches[batch!]!;
      let [from, to] = [b.fromIndex, b.fromIndex + b.count - 1];
      if (attempt > 1) {
        const paid = new Set(await actions.paidLeaves(epochId, b.fromIndex, b.count));
        while (from <= to && paid.has(from)) from++;
        while (to >= from && paid.has(to)) to--;
        if (from > to) {
          logger.info(about, 'every leaf of the batch is already paid on chain: not signing again, waiting for the chain indexer');
          return null;
        }
      }
      const proof = (await tree(epochId)).proofForRange(from, to - from + 1);
      signed = await actions.signBatch({ epochId, queryId, fromIndex: from, count: to - from + 1, proof, walletSequence });
    }
    logger.info({ ...about, walletQueryId: signed.walletQueryId, normalizedHash: signed.normalizedHash, expiresAt: signed.expiresAt }, 'operator message signed');
    return { type: 'OperatorMessageSigned', version: 1, id: `${attemptId(epochId, purpose)}:signed`, data: { ...about, queryId: String(queryId), ...signed, signedAtMs: now() } };
  }

  /**
   * Submits a pending message while the chain's time is before its expiry; at or after it, proves
   * that it never ran (then the next round signs a new attempt). A refusal is loud and recorded
   * once per message; the message stays pending (a replay of one that landed is refused too).
   */
  async function send(epochId: number, purpose: Purpose, message: SignedMessage, rejectedBefore: boolean): Promise<PoolEvent | null> {
    const about = { epochId, step: purpose.step, batch: purpose.batch, attempt: purpose.attempt, queryId: String(purpose.queryId) };
    const chainTime = await actions.chainTime();
    if (chainTime >= message.expiresAt) {
      const proof = await actions.proveExpired(message);
      if (!proof) return null;
      logger.warn({ ...about, normalizedHash: message.normalizedHash, expiresAt: message.expiresAt, chainTime: proof.chainTime }, 'operator message expired without running: signing a new attempt');
      return {
        type: 'OperatorMessageExpired', version: 1, id: `${attemptId(epochId, purpose)}:expired`,
        data: { ...about, normalizedHash: message.normalizedHash, expiresAt: message.expiresAt, chainTime: proof.chainTime, checkedThroughLt: String(proof.checkedThroughLt), provenAtMs: now() },
      };
    }
    try {
      await actions.submit(message);
      return null;
    } catch (err) {
      if (err instanceof ChainUnavailableError) {
        logger.warn({ ...about, err, normalizedHash: message.normalizedHash }, 'chain endpoint unavailable while submitting: the same message is submitted again later');
        return null;
      }
      if (!(err instanceof SendRejectedError)) throw err;
      const reason = err.cause instanceof Error ? `${err.message}: ${err.cause.message}`.slice(0, 1000) : err.message;
      logger.error({ ...about, normalizedHash: message.normalizedHash, reason }, 'the operator wallet refused the message: it is submitted again until it is seen on chain or proven expired (check the wallet\'s balance and key)');
      if (rejectedBefore) return null;
      return { type: 'OperatorMessageRejected', version: 1, id: `${attemptId(epochId, purpose)}:rejected`, data: { ...about, normalizedHash: message.normalizedHash, reason, rejectedAtMs: now() } };
    }
  }

  /** Runs an effect; returns the events it decided, to append in order. */
  async function effect(e: Effect): Promise<PoolEvent[]> {
    const one = (event: PoolEvent | null) => (event ? [event] : []);
    switch (e.kind) {
      case 'freeze':
        return one(await freeze(e.epochId));
      case 'compute':
        return one(await compute(e.epochId));
      case 'sign':
        return one(await sign(e.epochId, e.purpose, e.walletSequence));
      case 'send':
        return one(await send(e.epochId, e.purpose, e.message, e.rejected));
      case 'alert':
        return alert(e.epochId);
    }
  }

  /** Appends `events` in order; false at the first one not appended (a duplicate or a race lost). */
  async function appendAll(epochId: number, events: readonly PoolEvent[]): Promise<boolean> {
    for (const event of events) {
      if (!(await append(epochId, event))) return false;
      if (event.type === 'ContributionDivergenceDetected') {
        logger.error(event.data, 'contribution divergence: a member claims more tokens than the network paid it, beyond the tolerance (credited only what was paid)');
      }
    }
    return true;
  }

  /** Runs one step; true when it appended an event. */
  async function run(step: Step): Promise<boolean> {
    if (!(await appendAll(step.epochId, step.events))) return false;
    if (step.log) logger[step.log.level](step.log.fields, step.log.msg);
    if (!step.effect) return step.events.length > 0;
    const decided = await effect(step.effect);
    if (step.effect.pace) state.lastTry.set(step.effect.pace, now()); // a failed effect is retried next round
    return (decided.length > 0 && (await appendAll(step.epochId, decided))) || step.events.length > 0;
  }

  try {
    while (!signal.aborted && !followFailure) {
      let progressed = false;
      for (const step of decide(state, now(), options.settings)) {
        if (signal.aborted || followFailure) break;
        try {
          if (await run(step)) progressed = true;
        } catch (err) {
          logger.error({ err, step: { kind: step.kind, epochId: step.epochId, batch: step.batch } }, 'epoch saga step failed; will retry');
        }
      }
      if (!progressed) await waker.sleep(options.tickMs ?? 500, signal);
    }
  } finally {
    stopFollowing.abort();
    await follow;
  }
  if (followFailure) throw followFailure;
}
