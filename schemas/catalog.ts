/**
 * The event catalog: every event type the pool appends, with its current version, subject and
 * JSON Schema. `npm run schemas` exports it as JSON Schema files and an AsyncAPI document
 * (schemas/json/) for consumers in other languages.
 */
import type { Static } from 'typebox';
import Compile from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import {
  WorkerIdentityChanged,
  WorkerOwnerChanged,
  WorkerRecovered,
  WorkerTelemetryAnomaly,
  WorkerUnhealthy,
  WorkerWentOffline,
} from './alerts.ts';
import {
  ChainTransactionFailed,
  CocoonProxyChecked,
  CocoonWalletFloatReturned,
  DistributionPaused,
  DistributionResumed,
  EpochRootCommitted,
  GasToppedUp,
  OperatorFeeWithdrawn,
  OperatorMessageProcessed,
  OperatorTransferExecuted,
  ParticipantRegistered,
  ParticipantSlashed,
  PoolContractsDeployed,
  PoolGovernanceChanged,
  PoolRevenueReceived,
  MemberRevenueReceived,
  RewardBatchPaid,
  RewardClaimed,
  StakeDeposited,
  WithdrawalCompleted,
  WithdrawalRequested,
  WorkerTokensChecked,
  WorkerTokensDiverged,
} from './chain.ts';
import { contexts, type Context, type EventDefinition } from './define.ts';
import {
  ContributionDivergenceDetected,
  ContributionsFrozen,
  EpochClosing,
  EpochHalted,
  EpochOpened,
  EpochScheduleChanged,
  EpochSettled,
  OperatorMessageExpired,
  OperatorMessageRejected,
  OperatorMessageSigned,
  PayoutBatchConfirmed,
  PayoutBatchPlanned,
  PayoutBatchSubmitted,
  RewardsComputed,
  RootCommitConfirmed,
  RootCommitRequested,
} from './epoch.ts';
import { WorkerBound } from './membership.ts';
import { PoolObserving } from './observation.ts';
import { WorkerPollFailed, WorkerStatsSampled } from './telemetry.ts';
import { TaskCompleted } from './work.ts';

export const definitions = [
  WorkerStatsSampled,
  WorkerPollFailed,
  TaskCompleted,
  WorkerBound,
  PoolRevenueReceived,
  MemberRevenueReceived,
  CocoonProxyChecked,
  WorkerTokensChecked,
  WorkerTokensDiverged,
  CocoonWalletFloatReturned,
  EpochRootCommitted,
  RewardBatchPaid,
  RewardClaimed,
  OperatorFeeWithdrawn,
  ChainTransactionFailed,
  DistributionPaused,
  DistributionResumed,
  GasToppedUp,
  ParticipantRegistered,
  StakeDeposited,
  WithdrawalRequested,
  WithdrawalCompleted,
  ParticipantSlashed,
  PoolGovernanceChanged,
  PoolContractsDeployed,
  OperatorMessageProcessed,
  OperatorTransferExecuted,
  EpochOpened,
  EpochScheduleChanged,
  EpochClosing,
  ContributionsFrozen,
  RewardsComputed,
  RootCommitRequested,
  RootCommitConfirmed,
  PayoutBatchPlanned,
  PayoutBatchSubmitted,
  PayoutBatchConfirmed,
  EpochSettled,
  EpochHalted,
  ContributionDivergenceDetected,
  OperatorMessageSigned,
  OperatorMessageRejected,
  OperatorMessageExpired,
  WorkerWentOffline,
  WorkerRecovered,
  WorkerUnhealthy,
  WorkerTelemetryAnomaly,
  WorkerOwnerChanged,
  WorkerIdentityChanged,
  PoolObserving,
] as const;

type Definitions = (typeof definitions)[number];

/** Name of an event type, e.g. `'TaskCompleted'`. */
export type EventType = Definitions['type'];

/** The data of event type `T`. */
export type EventData<T extends EventType> = Static<Extract<Definitions, { type: T }>['data']>;

/** An event as appended: type, schema version, deterministic id (sent as Nats-Msg-Id) and data. */
export type PoolEvent = { [T in EventType]: { type: T; version: number; id: string; data: EventData<T> } }[EventType];

/** A stored event: a {@link PoolEvent} plus where JetStream put it. */
export type RecordedEvent = PoolEvent & {
  subject: string;
  /** stream sequence */
  sequence: number;
  /** JetStream store time, unix ms */
  storedAtMs: number;
};

/** Narrows a recorded event list to one type. */
export type RecordedOf<T extends EventType> = Extract<RecordedEvent, { type: T }>;

/** Thrown for an event whose type is unknown or whose data does not match its schema. */
export class EventValidationError extends Error {
  override name = 'EventValidationError';
}

const byType = new Map<string, EventDefinition>(definitions.map((d) => [d.type, d as EventDefinition]));
const validators = new Map<string, Validator>();

/** The definition of `type`. @throws EventValidationError for an unknown type. */
export function definitionOf(type: string): EventDefinition {
  const def = byType.get(type);
  if (!def) throw new EventValidationError(`unknown event type ${JSON.stringify(type)}`);
  return def;
}

const contextNames = new Set<string>(contexts);

/**
 * The (logical) subject of an aggregate: `pool.<context>.<aggregateId>`, the context given as such
 * (`'epoch'`) or as one of its event types (`'EpochClosing'`). The one subject builder: a pool's
 * store maps it to the pool's wire subject (streams/names.ts).
 * @throws EventValidationError when the aggregate id is not a subject token (1-64 of A-Z a-z 0-9 _ -)
 *   or the type is unknown.
 */
export function subjectFor(of: EventType | Context, aggregateId: string | number): string {
  const token = String(aggregateId);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) throw new EventValidationError(`aggregate id ${JSON.stringify(token)} is not a subject token`);
  return `pool.${contextNames.has(of) ? of : definitionOf(of).context}.${token}`;
}

/**
 * Checks that `subject` is where `event` belongs: `pool.<its type's context>.<aggregate id read
 * from its data>` (the definition's `aggregateId`; when the data does not name the aggregate, the
 * context and a well-formed last token). Call after {@link validateEvent}.
 * @throws EventValidationError naming the subject and what was expected.
 */
export function checkEventSubject(event: { type: string; data: unknown }, subject: string): void {
  const def = definitionOf(event.type);
  if (def.aggregateId) {
    const expected = subjectFor(def.type as EventType, def.aggregateId(event.data as never));
    if (subject !== expected) throw new EventValidationError(`${def.type} on subject ${subject}: its data belongs on ${expected}`);
    return;
  }
  const m = /^pool\.([^.]+)\.[A-Za-z0-9_-]{1,64}$/.exec(subject);
  if (!m || m[1] !== def.context) throw new EventValidationError(`${def.type} on subject ${subject}: it belongs on pool.${def.context}.<${def.aggregate}>`);
}

/** Subject filter for every event of the given contexts, e.g. `['pool.work.>']`. */
export function subjectsFor(types: readonly EventType[]): string[] {
  const contexts = new Set<Context>(types.map((t) => definitionOf(t).context));
  return [...contexts].sort().map((c) => `pool.${c}.>`);
}

/**
 * Checks `event` against its type's schema and version.
 * @throws EventValidationError naming the first failing path.
 */
export function validateEvent(event: { type: string; version: number; data: unknown }): void {
  const def = definitionOf(event.type);
  if (event.version !== def.version) {
    throw new EventValidationError(`${event.type} version ${event.version} is not supported (current ${def.version})`);
  }
  let v = validators.get(def.type);
  if (!v) {
    v = Compile(def.data);
    validators.set(def.type, v);
  }
  if (!v.Check(event.data)) {
    const first = v.Errors(event.data)[0];
    throw new EventValidationError(`${event.type} v${event.version}: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}`);
  }
}
