/**
 * Which events are public (GET /api/v1/events, read-api/routes/events.ts): a module of constants
 * only, so the dashboard's bundle (dashboard/main.ts) follows the same list.
 */
import type { EventType } from '../schemas/catalog.ts';

/**
 * The event types GET /api/v1/events serves: facts a participant or an outside observer may see.
 * Included: membership (WorkerBound), everything the chain made public anyway about revenue,
 * registry, stakes, slashes, roots and payouts, the epoch's life cycle (opened, closing, frozen,
 * computed, committed, paid, settled, halted), a member's divergence verdict, and the worker
 * status changes a participant acts on (offline, recovered, unhealthy, tokens diverged).
 * Left out, on purpose:
 * - telemetry and work (WorkerStatsSampled, WorkerPollFailed, TaskCompleted): the bulk of the
 *   stream, per request and per poll, with wallet balances and request ids; the read API serves
 *   their aggregates. Leaving them out also lets NATS filter the subjects server-side.
 * - the operator's internals: OperatorMessageSigned (carries a signed external message, a BoC anyone
 *   could broadcast), OperatorMessageRejected/Expired, OperatorMessageProcessed,
 *   OperatorTransferExecuted, RootCommitRequested, PayoutBatchPlanned/Submitted (saga steps before
 *   the chain confirms), GasToppedUp, CocoonWalletFloatReturned, ChainTransactionFailed.
 * - the checks that are the operator's investigations: CocoonProxyChecked, WorkerTokensChecked (one
 *   per sample and proxy), WorkerTelemetryAnomaly, WorkerOwnerChanged, WorkerIdentityChanged
 *   (detection heuristics and reported wallets), PoolObserving (the observer's heartbeat).
 * Alert rules and deliveries are not events at all (PostgreSQL, operator token).
 */
export const PUBLIC_EVENT_TYPES = [
  'WorkerBound',
  'PoolContractsDeployed',
  'PoolGovernanceChanged',
  'PoolRevenueReceived',
  'MemberRevenueReceived',
  'ParticipantRegistered',
  'StakeDeposited',
  'WithdrawalRequested',
  'WithdrawalCompleted',
  'ParticipantSlashed',
  'OperatorFeeWithdrawn',
  'DistributionPaused',
  'DistributionResumed',
  'EpochOpened',
  'EpochScheduleChanged',
  'EpochClosing',
  'ContributionsFrozen',
  'RewardsComputed',
  'ContributionDivergenceDetected',
  'EpochRootCommitted',
  'RootCommitConfirmed',
  'RewardBatchPaid',
  'RewardClaimed',
  'PayoutBatchConfirmed',
  'EpochSettled',
  'EpochHalted',
  'WorkerWentOffline',
  'WorkerRecovered',
  'WorkerUnhealthy',
  'WorkerTokensDiverged',
] as const satisfies readonly EventType[];

export type PublicEventType = (typeof PUBLIC_EVENT_TYPES)[number];

/**
 * Public events that concern every participant: the epoch's life cycle and the distribution
 * contract's state. A `?participant=` stream carries them besides the participant's own events.
 */
export const POOL_WIDE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'PoolContractsDeployed',
  'PoolGovernanceChanged',
  'DistributionPaused',
  'DistributionResumed',
  'EpochOpened',
  'EpochScheduleChanged',
  'EpochClosing',
  'ContributionsFrozen',
  'RewardsComputed',
  'EpochRootCommitted',
  'RootCommitConfirmed',
  'PayoutBatchConfirmed',
  'EpochSettled',
  'EpochHalted',
]);

