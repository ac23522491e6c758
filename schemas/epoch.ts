/**
 * Epoch: the decisions of the epoch saga (sagas/epoch/), one subject per epoch
 * (`pool.epoch.<id>`), each appended with a deterministic id `<epoch>:<step>` and
 * `expect.lastSubjectSequence`, so two racing instances cannot both decide.
 */
import Type from 'typebox';
import { ArtifactRef, Count, EpochId, Hash256, Lt, Nanoton, QueryId, RawAddress, Tokens, UnixMs } from './common.ts';
import { defineEvent } from './define.ts';

export const EpochOpened = defineEvent({
  type: 'EpochOpened',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description: 'An epoch starts: contributions appended from now on count for it until it closes.',
  data: Type.Object({ epochId: EpochId, startedAtMs: UnixMs, endsAtMs: UnixMs }, { additionalProperties: false }),
});

export const EpochScheduleChanged = defineEvent({
  type: 'EpochScheduleChanged',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'The pool was started with another epoch length than the open epoch\'s: from now on the open epoch ends at ' +
    'max(change time, start + new length). Later epochs use the new length.',
  data: Type.Object(
    {
      epochId: EpochId,
      previousEndsAtMs: UnixMs,
      endsAtMs: UnixMs,
      previousLengthMs: Count,
      lengthMs: Type.Integer({ minimum: 1, description: 'the configured epoch length, milliseconds' }),
      changedAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});

export const EpochClosing = defineEvent({
  type: 'EpochClosing',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'The cut: every telemetry, work and revenue event stored before this one (lower stream sequence) counts for ' +
    'this epoch or an earlier one; every later one for a later epoch.',
  data: Type.Object({ epochId: EpochId, closedAtMs: UnixMs }, { additionalProperties: false }),
});

export const ContributionsFrozen = defineEvent({
  type: 'ContributionsFrozen',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'Per-participant contribution of the epoch, read from the contribution projection once it has passed the cut ' +
    '(`cutSequence`), with the reputation in force. The table is an object-store artifact (JSON rows). ' +
    '`observedMs`: the time the pool itself was observing (PoolObserving heartbeats), the denominator of expected ' +
    'uptime; absent in epochs frozen before it was recorded, which used the wall duration. Frozen for reward formula ' +
    'v2, each row also carries `verifiedTokens` and `verifiedRevenueNanoton` (projectors/memberRevenue.ts, past the cut) ' +
    'and the token carries in `unpaidClaimsIn`, `unclaimedPaymentsIn` (the previous epoch\'s token credits; 0 after a v1 ' +
    'epoch), with a row for every member paid or carrying tokens; rows without them are v1 rows.',
  data: Type.Object(
    {
      epochId: EpochId,
      cutSequence: Count,
      durationSeconds: Type.Number({ minimum: 0 }),
      observedMs: Type.Optional(Type.Integer({ minimum: 0, description: 'milliseconds' })),
      formulaVersion: Type.Optional(Type.Integer({ minimum: 2, description: 'the reward formula the epoch is frozen for and computed with; absent: 1' })),
      participants: Count,
      revenueNanoton: Nanoton,
      carryInNanoton: Nanoton,
      contributions: ArtifactRef,
    },
    { additionalProperties: false },
  ),
});

export const RewardsComputed = defineEvent({
  type: 'RewardsComputed',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'The split (domain/rewards.ts, formula `formulaVersion` with `params`): revenue + carryIn = operatorFee + ' +
    'rewards + slashed + carryOut, in integer nanoTON. The rewards table (leaf index, address, amount) is an ' +
    'artifact; its TON dictionary cell hash is `merkleRoot`. Formula 2 (domain/rewardsV2.ts) also records the token ' +
    'credits artifact `tokenCredits` (per participant: claimed, verified, carries in, credited, carries out, divergent) ' +
    'and `divergences`, how many participants diverge (one ContributionDivergenceDetected each); both absent for formula 1.',
  data: Type.Object(
    {
      epochId: EpochId,
      formulaVersion: Type.Integer({ minimum: 1 }),
      params: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
      revenueNanoton: Nanoton,
      carryInNanoton: Nanoton,
      operatorFeeNanoton: Nanoton,
      rewardsNanoton: Nanoton,
      slashedNanoton: Nanoton,
      carryOutNanoton: Nanoton,
      eligible: Count,
      leafCount: Count,
      merkleRoot: Hash256,
      rewards: ArtifactRef,
      tokenCredits: Type.Optional(ArtifactRef),
      divergences: Type.Optional(Count),
    },
    { additionalProperties: false },
  ),
});

export const RootCommitRequested = defineEvent({
  type: 'RootCommitRequested',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description: 'Intent to commit the epoch root on chain, recorded before the message is sent.',
  data: Type.Object(
    {
      epochId: EpochId,
      attempt: Type.Integer({ minimum: 1 }),
      queryId: QueryId,
      merkleRoot: Hash256,
      leafCount: Count,
      totalNanoton: Nanoton,
      operatorFeeNanoton: Nanoton,
      requestedAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});

export const RootCommitConfirmed = defineEvent({
  type: 'RootCommitConfirmed',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description: 'The chain indexer saw the EpochRootCommitted event for this epoch.',
  data: Type.Object({ epochId: EpochId, txHash: Hash256, confirmedAtMs: UnixMs }, { additionalProperties: false }),
});

export const PayoutBatchPlanned = defineEvent({
  type: 'PayoutBatchPlanned',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description: 'A batch of consecutive leaves [fromIndex, fromIndex+count) to pay in one transaction.',
  data: Type.Object(
    { epochId: EpochId, batch: Count, fromIndex: Count, count: Type.Integer({ minimum: 1, maximum: 255 }) },
    { additionalProperties: false },
  ),
});

export const PayoutBatchSubmitted = defineEvent({
  type: 'PayoutBatchSubmitted',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'Intent to send a batch (attempt n), recorded before the message is sent. A resend after a timeout is a new ' +
    'attempt; the claimed bitmap on chain keeps it from paying a leaf twice.',
  data: Type.Object(
    { epochId: EpochId, batch: Count, attempt: Type.Integer({ minimum: 1 }), queryId: QueryId, submittedAtMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const PayoutBatchConfirmed = defineEvent({
  type: 'PayoutBatchConfirmed',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description: 'Every leaf of the batch is paid on chain (by this batch or by pull claims), as seen by the chain indexer.',
  data: Type.Object(
    { epochId: EpochId, batch: Count, paidNanoton: Nanoton, txHashes: Type.Array(Hash256), confirmedAtMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const EpochSettled = defineEvent({
  type: 'EpochSettled',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description: 'Every leaf of the epoch is paid and confirmed on chain.',
  data: Type.Object(
    { epochId: EpochId, payoutsConfirmed: Count, paidNanoton: Nanoton, settledAtMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const EpochHalted = defineEvent({
  type: 'EpochHalted',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'The saga stopped acting on this epoch and needs an operator: the distribution contract refused its root commit ' +
    '(`step` commit) or a payout batch (`step` batch) on `attempts` attempts (ChainTransactionFailed from the ' +
    'operator wallet with the attempt\'s query_id; `lastExitCode` the last refusal\'s exit code), or the chain stored ' +
    'another root than the one computed (`step` root). Nothing more is sent for the epoch, after a restart too; later ' +
    'epochs wait for its commit. Downstream alerting subscribes to this event on `pool.epoch.*`.',
  data: Type.Object(
    {
      epochId: EpochId,
      step: Type.Union([Type.Literal('commit'), Type.Literal('batch'), Type.Literal('root')]),
      batch: Type.Union([Count, Type.Null()]),
      reason: Type.String({ minLength: 1, maxLength: 1000 }),
      attempts: Count,
      lastExitCode: Type.Union([Type.Integer(), Type.Null()]),
      haltedAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});

/** What a signed operator message is for: the step and its attempt (the contract message's query_id). */
const MessagePurpose = {
  epochId: EpochId,
  step: Type.Union([Type.Literal('commit'), Type.Literal('batch')]),
  batch: Type.Union([Count, Type.Null()]),
  attempt: Type.Integer({ minimum: 1 }),
  queryId: QueryId,
};

export const OperatorMessageSigned = defineEvent({
  type: 'OperatorMessageSigned',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'The signed external message of one attempt (RootCommitRequested or PayoutBatchSubmitted with the same attempt), ' +
    'recorded before it is first submitted: after an error or a restart the saga resubmits exactly this message ' +
    '(`messageBoc`, base64) until the operator\'s highload wallet v3 processes it (OperatorMessageProcessed with ' +
    '`normalizedHash`, TEP-467) or it is proven expired (OperatorMessageExpired). `walletQueryId` is the wallet\'s ' +
    'composite query_id (shift << 10 | bit_number), `walletSequence` its position in the wallet\'s query_id order; ' +
    '`createdAt` and `expiresAt` (= createdAt + the wallet\'s timeout) are chain time, unix seconds: the wallet accepts ' +
    'the message only while createdAt <= now < expiresAt. `walletLastLt`: lt of the wallet\'s last final transaction ' +
    'when it was signed ("0" for none), where the search for the message\'s transaction starts.',
  data: Type.Object(
    {
      ...MessagePurpose,
      wallet: RawAddress,
      walletQueryId: Type.Integer({ minimum: 0, maximum: 8388607 }),
      walletSequence: Count,
      createdAt: Type.Integer({ minimum: 0, description: 'chain time, unix seconds' }),
      expiresAt: Type.Integer({ minimum: 0, description: 'chain time, unix seconds' }),
      normalizedHash: Hash256,
      messageBoc: Type.String({ minLength: 1, maxLength: 400_000, contentEncoding: 'base64', description: 'BoC, base64 (a TON message is at most 2^21 bits in 8192 cells)' }),
      walletLastLt: Lt,
      signedAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});

export const OperatorMessageRejected = defineEvent({
  type: 'OperatorMessageRejected',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'The chain endpoint refused a submission of a signed operator message (the wallet did not accept it: bad ' +
    'signature, query_id already processed, not yet or no longer valid, no funds), recorded once per message and ' +
    'logged at error. A refusal is not proof that the message did not run (a replay of a message that landed is ' +
    'refused too): the saga keeps resubmitting it until it is seen on chain or proven expired.',
  data: Type.Object(
    { ...MessagePurpose, normalizedHash: Hash256, reason: Type.String({ minLength: 1, maxLength: 1000 }), rejectedAtMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const OperatorMessageExpired = defineEvent({
  type: 'OperatorMessageExpired',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    'Proof that a signed operator message never ran and never will: the final chain time `chainTime` is at or past ' +
    'its `expiresAt`, and the wallet\'s final transactions from `walletLastLt` (its OperatorMessageSigned) through ' +
    '`checkedThroughLt` (the wallet\'s last transaction at that time), checked to link one to the next, hold none ' +
    'with its normalized hash. Only then is the step signed again, with a new attempt and a new wallet query_id.',
  data: Type.Object(
    { ...MessagePurpose, normalizedHash: Hash256, expiresAt: Type.Integer({ minimum: 0 }), chainTime: Type.Integer({ minimum: 0 }), checkedThroughLt: Lt, provenAtMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const ContributionDivergenceDetected = defineEvent({
  type: 'ContributionDivergenceDetected',
  version: 1,
  context: 'epoch',
  aggregate: 'epoch id',
  aggregateId: (d) => d.epochId,
  description:
    "A member's claimed telemetry diverges from what the network paid it (reward formula v2, domain/rewardsV2.ts): " +
    'after epoch `epochId`, its claimed tokens not paid for (`unpaidClaimsTokens` = C − credited, C = `claimedTokens` + ' +
    '`unpaidClaimsInTokens`) exceed `graceTokens` + `toleranceBps`/10000 × C. `verifiedTokens` (+ `unclaimedPaymentsInTokens`) ' +
    'is what the proxies paid it for, through its forwarder; `creditedTokens` what its token component counted. Recorded ' +
    'by the epoch saga on the epoch\'s subject (its one writer) once per (epoch, participant), id ' +
    '`<epoch>:divergence:<participant>`, after RewardsComputed; it changes no amount (the formula credits only what was paid). ' +
    'An alert for downstream services like those of the alerts context.',
  data: Type.Object(
    {
      epochId: EpochId,
      participant: RawAddress,
      claimedTokens: Tokens,
      unpaidClaimsInTokens: Tokens,
      verifiedTokens: Tokens,
      unclaimedPaymentsInTokens: Tokens,
      creditedTokens: Tokens,
      unpaidClaimsTokens: Tokens,
      toleranceBps: Count,
      graceTokens: Count,
    },
    { additionalProperties: false },
  ),
});
