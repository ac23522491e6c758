/**
 * Typed layer over the generated ParticipantRegistry wrapper (compiled with PoolOperator, which
 * deploys it): message bodies for participants and the pool owner, exit codes, constants.
 * Formats: contracts/participant_registry.tact, listed in contracts/README.md.
 */
import { type Address, type Cell } from '@ton/core';
import { ParticipantRegistry } from './build/PoolOperator/PoolOperator_ParticipantRegistry.ts';
import * as generated from './build/PoolOperator/PoolOperator_PoolOperator.ts';
import { encodeBody } from './codec.ts';

export { ParticipantRegistry };

type Fields<T> = Omit<T, '$$type'>;

/** Op codes of the registry's messages (uint32). */
export const REGISTRY_OPS = {
  registryAdd: 0x50c0e201,
  increaseStake: 0x50c0e202,
  requestWithdrawal: 0x50c0e203,
  completeWithdrawal: 0x50c0e204,
  bindWorker: 0x50c0e205,
  slash: 0x50c0e206,
  setReputation: 0x50c0e207,
  withdrawSlashed: 0x50c0e208,
  registrySetParams: 0x50c0e209,
  registrySetPaused: 0x50c0e20a,
  stakeReturned: 0x50c0e2f1,
} as const;

/** Exit codes of ParticipantRegistry (README "Exit codes"). */
export const REGISTRY_EXIT = {
  notOperator: Number(generated.E_REG_NOT_OPERATOR),
  notOwner: Number(generated.E_REG_NOT_OWNER),
  paused: Number(generated.E_REG_PAUSED),
  notRegistered: Number(generated.E_REG_NOT_REGISTERED),
  badAmount: Number(generated.E_REG_BAD_AMOUNT),
  valueTooLow: Number(generated.E_REG_VALUE_TOO_LOW),
  withdrawalPending: Number(generated.E_REG_WITHDRAWAL_PENDING),
  noWithdrawal: Number(generated.E_REG_NO_WITHDRAWAL),
  timelock: Number(generated.E_REG_TIMELOCK),
  leavesLessThanMinimum: Number(generated.E_REG_LEAVES_LESS_THAN_MINIMUM),
  notParticipantOrOwner: Number(generated.E_REG_NOT_PARTICIPANT_OR_OWNER),
  badReputation: Number(generated.E_REG_BAD_REPUTATION),
  badSlash: Number(generated.E_REG_BAD_SLASH),
  exceedsSlashed: Number(generated.E_REG_EXCEEDS_SLASHED),
} as const;

/** Participant.status values. */
export const PARTICIPANT_STATUS = { active: 0n, suspended: 1n } as const;

/** RegistrationRefused.reason values. */
export const REFUSAL_REASON = { paused: 1n, alreadyRegistered: 2n, full: 3n, stakeTooLow: 4n } as const;

/** Registry constants: participant cap (state limit), starting reputation, gas budget. */
export const REGISTRY_LIMITS = {
  maxParticipants: Number(generated.MAX_PARTICIPANTS_LIMIT),
  initialReputation: Number(generated.INITIAL_REPUTATION),
  maxReputation: Number(generated.MAX_REPUTATION),
  participantOpGas: generated.PARTICIPANT_OP_GAS,
  storageReserve: generated.REGISTRY_STORAGE_RESERVE,
} as const;

/** IncreaseStake body (participant): adds `amount` nanoTON; attach amount + gas (≥ 0.02 TON). */
export function increaseStakeBody(m: Fields<generated.IncreaseStake>): Cell {
  return encodeBody('IncreaseStake', generated.storeIncreaseStake({ $$type: 'IncreaseStake', ...m }));
}

/** RequestWithdrawal body (participant): the whole stake, or a part leaving ≥ the minimum stake. */
export function requestWithdrawalBody(m: Fields<generated.RequestWithdrawal>): Cell {
  return encodeBody('RequestWithdrawal', generated.storeRequestWithdrawal({ $$type: 'RequestWithdrawal', ...m }));
}

/** CompleteWithdrawal body (participant): after the withdrawal delay; pays min(requested, stake). */
export function completeWithdrawalBody(m: Fields<generated.CompleteWithdrawal>): Cell {
  return encodeBody('CompleteWithdrawal', generated.storeCompleteWithdrawal({ $$type: 'CompleteWithdrawal', ...m }));
}

/** BindWorker body (the participant or the pool owner): `worker` null unbinds. */
export function bindWorkerBody(m: Fields<generated.BindWorker>): Cell {
  return encodeBody('BindWorker', generated.storeBindWorker({ $$type: 'BindWorker', ...m }));
}

/** Slash body (pool owner): `amount` nanoTON, or when 0 `bps` basis points of the stake; `reason` is the pool's code. */
export function slashBody(m: Fields<generated.Slash>): Cell {
  return encodeBody('Slash', generated.storeSlash({ $$type: 'Slash', ...m }));
}

/** SetReputation body (pool owner): 0..1000. */
export function setReputationBody(m: Fields<generated.SetReputation>): Cell {
  return encodeBody('SetReputation', generated.storeSetReputation({ $$type: 'SetReputation', ...m }));
}

/** WithdrawSlashed body (pool owner): sends `amount` ≤ slashed funds to `to` (e.g. the distribution contract as revenue). */
export function withdrawSlashedBody(m: Fields<generated.WithdrawSlashed>): Cell {
  return encodeBody('WithdrawSlashed', generated.storeWithdrawSlashed({ $$type: 'WithdrawSlashed', ...m }));
}

/** The registry contract object (for get methods) at `address`. */
export function registryAt(address: Address): ParticipantRegistry {
  return ParticipantRegistry.fromAddress(address);
}
