/**
 * Typed layer over the generated PoolOperator wrapper: message bodies for participants and the
 * pool owner, deployment data (the operator deploys its registry), exit codes and defaults.
 * Formats: contracts/pool_operator.tact, listed in contracts/README.md.
 */
import { type Address, type Cell, contractAddress, type StateInit } from '@ton/core';
import { ParticipantRegistry } from './build/PoolOperator/PoolOperator_ParticipantRegistry.ts';
import { PoolOperator } from './build/PoolOperator/PoolOperator_PoolOperator.ts';
import * as generated from './build/PoolOperator/PoolOperator_PoolOperator.ts';
import { encodeBody } from './codec.ts';

export { PoolOperator };
export type { PoolParams } from './build/PoolOperator/PoolOperator_PoolOperator.ts';

type Fields<T> = Omit<T, '$$type'>;

/** Op codes of the operator's messages (uint32). */
export const OPERATOR_OPS = {
  register: 0x50c0e101,
  proposeParams: 0x50c0e102,
  applyParams: 0x50c0e103,
  cancelParams: 0x50c0e104,
  setRegistrationOpen: 0x50c0e105,
  pausePool: 0x50c0e106,
  resumePool: 0x50c0e107,
  syncRegistry: 0x50c0e108,
  refundBounced: 0x50c0e109,
} as const;

/** Exit codes of PoolOperator (README "Exit codes"). */
export const OPERATOR_EXIT = {
  notOwner: Number(generated.E_OP_NOT_OWNER),
  paused: Number(generated.E_OP_PAUSED),
  registrationClosed: Number(generated.E_OP_REGISTRATION_CLOSED),
  stakeTooLow: Number(generated.E_OP_STAKE_TOO_LOW),
  valueTooLow: Number(generated.E_OP_VALUE_TOO_LOW),
  badGpu: Number(generated.E_OP_BAD_GPU),
  badParams: Number(generated.E_OP_BAD_PARAMS),
  noPending: Number(generated.E_OP_NO_PENDING),
  timelock: Number(generated.E_OP_TIMELOCK),
  alreadyPaused: Number(generated.E_OP_ALREADY_PAUSED),
  notPaused: Number(generated.E_OP_NOT_PAUSED),
  exceedsBounced: Number(generated.E_OP_EXCEEDS_BOUNCED),
} as const;

/** Parameters a new pool starts with (seed 003 "Economic Security", DESIGN.md "Rewards"). */
export const DEFAULT_POOL_PARAMS: Fields<generated.PoolParams> = {
  operatorFeeBps: generated.DEFAULT_OPERATOR_FEE_BPS,
  minStake: generated.DEFAULT_MIN_STAKE,
  maxParticipants: generated.DEFAULT_MAX_PARTICIPANTS,
  withdrawalDelay: generated.DEFAULT_WITHDRAWAL_DELAY,
  paramsDelay: generated.DEFAULT_PARAMS_DELAY,
};

/** Value (nanoTON) a Register must carry beyond its stake; the unspent part comes back. */
export const REGISTER_GAS_VALUE: bigint = generated.REGISTER_GAS_VALUE;

/**
 * Register body (participant, value ≥ stake + REGISTER_GAS_VALUE): `gpuSpecHash` = uint256 hash of
 * the GPU spec, `gpuCount` ≥ 1, `worker` = the Cocoon worker owner address to bind (or null).
 */
export function registerBody(m: Fields<generated.Register>): Cell {
  return encodeBody('Register', generated.storeRegister({ $$type: 'Register', ...m }));
}

/** ProposeParams body (owner): starts the parameter timelock (the current paramsDelay). */
export function proposeParamsBody(m: { queryId: bigint; params: Fields<generated.PoolParams> }): Cell {
  return encodeBody('ProposeParams', generated.storeProposeParams({ $$type: 'ProposeParams', queryId: m.queryId, params: { $$type: 'PoolParams', ...m.params } }));
}

/** ApplyParams body (owner): after the timelock; also updates the registry. */
export function applyParamsBody(m: Fields<generated.ApplyParams>): Cell {
  return encodeBody('ApplyParams', generated.storeApplyParams({ $$type: 'ApplyParams', ...m }));
}

/** CancelParams body (owner): drops the pending proposal. */
export function cancelParamsBody(m: Fields<generated.CancelParams>): Cell {
  return encodeBody('CancelParams', generated.storeCancelParams({ $$type: 'CancelParams', ...m }));
}

/** SetRegistrationOpen body (owner): opens or closes registration (no timelock). */
export function setRegistrationOpenBody(m: Fields<generated.SetRegistrationOpen>): Cell {
  return encodeBody('SetRegistrationOpen', generated.storeSetRegistrationOpen({ $$type: 'SetRegistrationOpen', ...m }));
}

/** PausePool body (owner): pauses registration here and participant operations in the registry. */
export function pausePoolBody(m: Fields<generated.PausePool>): Cell {
  return encodeBody('PausePool', generated.storePausePool({ $$type: 'PausePool', ...m }));
}

/** ResumePool body (owner). */
export function resumePoolBody(m: Fields<generated.ResumePool>): Cell {
  return encodeBody('ResumePool', generated.storeResumePool({ $$type: 'ResumePool', ...m }));
}

/** SyncRegistry body (owner, ≥ 0.03 TON): re-sends the parameters and pause flag to the registry. */
export function syncRegistryBody(m: Fields<generated.SyncRegistry>): Cell {
  return encodeBody('SyncRegistry', generated.storeSyncRegistry({ $$type: 'SyncRegistry', ...m }));
}

/** RefundBounced body (owner): pays `amount` ≤ bounced funds to `to`. */
export function refundBouncedBody(m: Fields<generated.RefundBounced>): Cell {
  return encodeBody('RefundBounced', generated.storeRefundBounced({ $$type: 'RefundBounced', ...m }));
}

/**
 * Code, data and address of the PoolOperator of (`owner`, `poolId`, `distribution` = the pool's
 * RewardDistribution, whose members' MemberForwarders the registry deploys on joining) and the
 * address of the ParticipantRegistry it deploys on its first message (deploy with ≥ 0.1 TON and
 * an empty body).
 */
export async function poolOperatorDeployment(owner: Address, poolId: bigint, distribution: Address): Promise<{ address: Address; init: StateInit; registry: Address }> {
  const operator = await PoolOperator.fromInit(owner, poolId, distribution);
  const init = operator.init!;
  const address = contractAddress(0, init);
  const registry = await ParticipantRegistry.fromInit(address, owner, poolId, distribution);
  return { address, init, registry: registry.address };
}
