/**
 * Decoders for every event (external-out message body) of the pool contracts, for the chain
 * indexer: `decodeEvent(body)` → a discriminated union on `$$type` (the generated Tact types),
 * `transactionEvents(tx)` → the events of one transaction in emission order.
 * Formats: the `message(0x50c0eeXX)` declarations of contracts/*.tact (list in README "Events").
 */
import { type Cell, type Slice, type Transaction } from '@ton/core';
import * as operator from './build/PoolOperator/PoolOperator_PoolOperator.ts';
import * as distribution from './build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { ContractDecodeError, decodeBody, opOf } from './codec.ts';

/** Every event the pool contracts emit, tagged by `$$type`. */
export type PoolEvent =
  // RewardDistribution
  | distribution.EpochRootCommitted
  | distribution.RewardBatchPaid
  | distribution.RewardClaimed
  | distribution.OperatorFeeWithdrawn
  | distribution.Paused
  | distribution.Resumed
  | distribution.ToppedUp
  // ParticipantRegistry
  | operator.ParticipantRegistered
  | operator.RegistrationRefused
  | operator.StakeIncreased
  | operator.WithdrawalRequested
  | operator.WithdrawalCompleted
  | operator.WorkerBound
  | operator.ParticipantSlashed
  | operator.ReputationSet
  | operator.SlashedFundsWithdrawn
  | operator.RegistryParamsSet
  | operator.RegistryPausedSet
  // PoolOperator
  | operator.RegistrationForwarded
  | operator.ParamsProposed
  | operator.ParamsApplied
  | operator.ParamsCancelled
  | operator.RegistrationOpenSet
  | operator.PoolPaused
  | operator.PoolResumed
  | operator.RegistryMessageBounced
  | operator.BouncedRefunded;

/** Event op code → [name, generated loader]. */
const DECODERS = new Map<number, [PoolEvent['$$type'], (slice: Slice) => PoolEvent]>([
  [0x50c0ee02, ['EpochRootCommitted', distribution.loadEpochRootCommitted]],
  [0x50c0ee03, ['RewardBatchPaid', distribution.loadRewardBatchPaid]],
  [0x50c0ee04, ['RewardClaimed', distribution.loadRewardClaimed]],
  [0x50c0ee05, ['OperatorFeeWithdrawn', distribution.loadOperatorFeeWithdrawn]],
  [0x50c0ee06, ['Paused', distribution.loadPaused]],
  [0x50c0ee07, ['Resumed', distribution.loadResumed]],
  [0x50c0ee08, ['ToppedUp', distribution.loadToppedUp]],
  [0x50c0ee11, ['RegistrationForwarded', operator.loadRegistrationForwarded]],
  [0x50c0ee12, ['ParamsProposed', operator.loadParamsProposed]],
  [0x50c0ee13, ['ParamsApplied', operator.loadParamsApplied]],
  [0x50c0ee14, ['ParamsCancelled', operator.loadParamsCancelled]],
  [0x50c0ee15, ['RegistrationOpenSet', operator.loadRegistrationOpenSet]],
  [0x50c0ee16, ['PoolPaused', operator.loadPoolPaused]],
  [0x50c0ee17, ['PoolResumed', operator.loadPoolResumed]],
  [0x50c0ee18, ['RegistryMessageBounced', operator.loadRegistryMessageBounced]],
  [0x50c0ee19, ['BouncedRefunded', operator.loadBouncedRefunded]],
  [0x50c0ee21, ['ParticipantRegistered', operator.loadParticipantRegistered]],
  [0x50c0ee22, ['RegistrationRefused', operator.loadRegistrationRefused]],
  [0x50c0ee23, ['StakeIncreased', operator.loadStakeIncreased]],
  [0x50c0ee24, ['WithdrawalRequested', operator.loadWithdrawalRequested]],
  [0x50c0ee25, ['WithdrawalCompleted', operator.loadWithdrawalCompleted]],
  [0x50c0ee26, ['WorkerBound', operator.loadWorkerBound]],
  [0x50c0ee27, ['ParticipantSlashed', operator.loadParticipantSlashed]],
  [0x50c0ee28, ['ReputationSet', operator.loadReputationSet]],
  [0x50c0ee29, ['SlashedFundsWithdrawn', operator.loadSlashedFundsWithdrawn]],
  [0x50c0ee2a, ['RegistryParamsSet', operator.loadRegistryParamsSet]],
  [0x50c0ee2b, ['RegistryPausedSet', operator.loadRegistryPausedSet]],
]);

/** Op codes of all events, by name. */
export const EVENT_OPS: Readonly<Record<PoolEvent['$$type'], number>> = Object.fromEntries(
  [...DECODERS].map(([op, [name]]) => [name, op]),
) as Record<PoolEvent['$$type'], number>;

/**
 * Decodes one event body (the body cell of an external-out message of a pool contract).
 * Throws ContractDecodeError for an unknown op (naming it in hex), a truncated body or
 * trailing data.
 */
export function decodeEvent(body: Cell): PoolEvent {
  const op = opOf(body);
  const decoder = DECODERS.get(op);
  if (!decoder) throw new ContractDecodeError(`unknown event op 0x${op.toString(16).padStart(8, '0')}`);
  return decodeBody(decoder[0], body, decoder[1]);
}

/**
 * The events of a transaction: `decodeEvent` of the body of each external-out message, in the
 * order the contract emitted them. Throws like decodeEvent (a pool contract emits only these).
 */
export function transactionEvents(tx: Transaction): PoolEvent[] {
  const events: PoolEvent[] = [];
  for (const message of tx.outMessages.values()) {
    if (message.info.type === 'external-out') events.push(decodeEvent(message.body));
  }
  return events;
}
