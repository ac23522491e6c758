/**
 * Typed layer over the generated MemberForwarder wrapper (issue 11): the forwarder's StateInit
 * and address, the bodies of its messages, op codes, exit codes and gas figures.
 * Formats: contracts/member_forwarder.tact (contracts/README.md "MemberForwarder"); Cocoon's
 * wallet commands from cocoon-contracts `contracts/cocoon_wallet.fc`.
 */
import { Address, beginCell, type Cell, contractAddress, type StateInit } from '@ton/core';
import {
  MemberForwarder,
  storeFlushBacklog,
  storeMemberBacklog,
  storeMemberPayout,
  storeRelayToCocoonWallet,
} from './build/MemberForwarder/MemberForwarder_MemberForwarder.ts';
import * as generated from './build/MemberForwarder/MemberForwarder_MemberForwarder.ts';
import { ContractMessageError, encodeBody } from './codec.ts';

export { MemberForwarder };

/** Op codes (uint32) of the messages a MemberForwarder receives and sends. */
export const FORWARDER_OPS = {
  /** Cocoon proxy → forwarder (cocoon opcodes.json `payout`) */
  cocoonPayout: 0xc59a7cd3,
  /** forwarder → pool: `query_id:uint64 member:MsgAddress proxy:MsgAddress paid:Coins` */
  memberPayout: 0x50c0e00a,
  /** forwarder → pool: `query_id:uint64 member:MsgAddress` */
  memberBacklog: 0x50c0e00b,
  /** member → forwarder: `query_id:uint64 wallet:MsgAddress command:^Cell` */
  relayToCocoonWallet: 0x50c0e00c,
  /** anyone → forwarder: `query_id:uint64` */
  flushBacklog: 0x50c0e00d,
  /** the flusher's change (TEP-74 excesses) */
  excesses: 0xd53276db,
  /** cocoon_wallet.fc `op::owner_wallet_send_message`: `query_id:uint64 mode:uint8 body:^Cell` */
  ownerWalletSendMessage: 0x9c69f376,
} as const;

/** Exit codes of MemberForwarder (README "Exit codes"). */
export const FORWARDER_EXIT = {
  /** a relay not sent by the member */
  notMember: Number(generated.E_FWD_NOT_MEMBER),
  /** a relay whose destination is the pool */
  relayToPool: Number(generated.E_FWD_RELAY_TO_POOL),
  /** a relay whose command is not "w", "b", "u" or owner_wallet_send_message */
  commandNotAllowed: Number(generated.E_FWD_COMMAND_NOT_ALLOWED),
} as const;

/**
 * Gas figures of the forwarder (gas units), measured in @ton/sandbox and asserted by
 * bench/contracts.bench.ts and tests/contracts/forwarder.test.ts.
 */
export const FORWARDER_GAS = {
  /** forwarding one Cocoon payout to the pool (target ≤ 3,000) */
  forward: Number(generated.FORWARD_GAS),
} as const;

/** Value (nanoTON) a flush leaves on the forwarder for storage rent. */
export const FORWARDER_RESERVE: bigint = generated.FORWARDER_RESERVE;

/** The forwarder code cell of this build (the data does not change it). */
const FORWARDER_CODE: Cell = (await MemberForwarder.init(new Address(0, Buffer.alloc(32)), new Address(0, Buffer.alloc(32)))).code;

/**
 * memberForwarderAddress without the promise (for synchronous readers such as
 * memberRevenueIntake): the same StateInit, code of this build and data `pool member`.
 */
export function memberForwarderAddressSync(pool: Address, member: Address): Address {
  return contractAddress(0, { code: FORWARDER_CODE, data: beginCell().storeAddress(pool).storeAddress(member).endCell() });
}

/**
 * The StateInit of the MemberForwarder of `member` (the member's wallet) in the pool whose
 * RewardDistribution is `pool`: this build's forwarder code and the data
 * `pool:MsgAddress member:MsgAddress` (Tact contract parameters, no init bit).
 */
export async function memberForwarderInit(pool: Address, member: Address): Promise<StateInit> {
  return (await MemberForwarder.fromInit(pool, member)).init!;
}

/**
 * The address of the MemberForwarder of (`pool`, `member`): basechain, hash of its StateInit
 * (memberForwarderInit). Anyone recomputes it from the member's wallet, the pool's
 * RewardDistribution address and the published forwarder code; the RewardDistribution does the
 * same before booking a MemberPayout or MemberBacklog, and the registry deploys it on joining.
 * It is the `owner_address` a member sets in its Cocoon workers' config.
 */
export async function memberForwarderAddress(pool: Address, member: Address): Promise<Address> {
  return contractAddress(0, await memberForwarderInit(pool, member));
}

/** A relay command: a cocoon wallet text command, or owner_wallet_send_message of `body` with send `mode`. */
export type CocoonWalletCommand = 'w' | 'b' | 'u' | { mode: number; body: Cell };

/**
 * The cocoon wallet command cell (cocoon_wallet.fc): text comment "w" (withdraw the float to its
 * owner), "b" (block), "u" (unblock) = op 0 + one byte; or op 0x9c69f376 query_id mode:uint8 ^body.
 * @throws ContractMessageError when mode is not a uint8 or queryId not a uint64.
 */
export function cocoonWalletCommand(queryId: bigint, command: CocoonWalletCommand): Cell {
  if (typeof command === 'string') return beginCell().storeUint(0, 32).storeUint(command.charCodeAt(0), 8).endCell();
  if (!Number.isInteger(command.mode) || command.mode < 0 || command.mode > 255) throw new ContractMessageError(`send mode ${command.mode} is not a uint8`);
  if (queryId < 0n || queryId >= 1n << 64n) throw new ContractMessageError(`query_id ${queryId} is not a uint64`);
  return beginCell().storeUint(FORWARDER_OPS.ownerWalletSendMessage, 32).storeUint(queryId, 64).storeUint(command.mode, 8).storeRef(command.body).endCell();
}

/**
 * RelayToCocoonWallet body (the member only): the forwarder sends `command` (cocoonWalletCommand)
 * to the cocoon wallet `wallet` with the message's remaining value, bounceable. Attach the gas of
 * both hops (≈ 0.02 TON; the wallet's "w" reply comes back to the member through the forwarder).
 * @throws ContractMessageError for an out-of-range field.
 */
export function relayToCocoonWalletBody(m: { queryId: bigint; wallet: Address; command: CocoonWalletCommand }): Cell {
  return encodeBody('RelayToCocoonWallet', storeRelayToCocoonWallet({
    $$type: 'RelayToCocoonWallet', queryId: m.queryId, wallet: m.wallet, command: cocoonWalletCommand(m.queryId, m.command),
  }));
}

/**
 * FlushBacklog body (anyone): the forwarder sends its balance above FORWARDER_RESERVE (held
 * before this message) to the pool as MemberBacklog; the sender's value pays the fees and the
 * rest comes back to it as Excesses.
 */
export function flushBacklogBody(m: { queryId: bigint }): Cell {
  return encodeBody('FlushBacklog', storeFlushBacklog({ $$type: 'FlushBacklog', queryId: m.queryId }));
}

/** MemberPayout body (forwarder → pool); for tests of the pool's sender check. `paid` in nanoTON. */
export function memberPayoutBody(m: { queryId: bigint; member: Address; proxy: Address; paid: bigint }): Cell {
  return encodeBody('MemberPayout', storeMemberPayout({ $$type: 'MemberPayout', ...m }));
}

/** MemberBacklog body (forwarder → pool); for tests of the pool's sender check. */
export function memberBacklogBody(m: { queryId: bigint; member: Address }): Cell {
  return encodeBody('MemberBacklog', storeMemberBacklog({ $$type: 'MemberBacklog', ...m }));
}
