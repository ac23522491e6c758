/**
 * TypeScript layer of the MemberForwarder (issue 11; contracts/member_forwarder.fc, FunC): its code
 * and StateInit, its address, the bodies of its messages, op codes, exit codes and gas figures.
 * The constants mirror member_forwarder.fc (tests/contracts/forwarder.test.ts checks each one on
 * the real TVM). Formats: contracts/README.md "MemberForwarder"; Cocoon's wallet commands from
 * cocoon-contracts `contracts/cocoon_wallet.fc`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Address, beginCell, Cell, contractAddress, type StateInit } from '@ton/core';
import { ContractMessageError } from './codec.ts';

/** Op codes (uint32) of the messages a MemberForwarder receives and sends. */
export const FORWARDER_OPS = {
  /** Cocoon proxy → forwarder (cocoon opcodes.json `payout`): `query_id:uint64` */
  cocoonPayout: 0xc59a7cd3,
  /** forwarder → pool: `query_id:uint64 member:MsgAddress proxy:MsgAddress paid:Coins` */
  memberPayout: 0x50c0e00a,
  /** forwarder → pool: `query_id:uint64 member:MsgAddress` */
  memberBacklog: 0x50c0e00b,
  /** member → forwarder: `query_id:uint64 wallet:MsgAddress command:^Cell` */
  relayToCocoonWallet: 0x50c0e00c,
  /** anyone → forwarder: `query_id:uint64` */
  flushBacklog: 0x50c0e00d,
  /** forwarder → the flusher: its change (TEP-74 excesses) `query_id:uint64` */
  excesses: 0xd53276db,
  /** cocoon_wallet.fc `op::owner_wallet_send_message`: `query_id:uint64 mode:uint8 body:^Cell` */
  ownerWalletSendMessage: 0x9c69f376,
} as const;

/** Exit codes of MemberForwarder (README "Exit codes"). */
export const FORWARDER_EXIT = {
  /** a relay not sent by the member */
  notMember: 1401,
  /** a relay whose destination is the pool */
  relayToPool: 1402,
  /** a relay whose command is not "w", "b", "u" or owner_wallet_send_message */
  commandNotAllowed: 1403,
} as const;

/**
 * Gas figures of the forwarder (gas units of its compute phase), measured in @ton/sandbox and
 * asserted (exactly) by tests/contracts/forwarder.test.ts and bench/contracts.bench.ts.
 */
export const FORWARDER_GAS = {
  /** forwarding one Cocoon payout to the pool as MemberPayout (target ≤ 3,000) */
  forward: 2854,
  /** RewardDistribution booking one MemberPayout (forwarder address recomputed, revenue += value) */
  memberPayoutIntake: 3758,
  /** a FlushBacklog with a backlog (MemberBacklog to the pool, reserve, change to the flusher) */
  flush: 4922,
  /** RewardDistribution booking one MemberBacklog */
  memberBacklogIntake: 3956,
  /** a relayed "w": the forwarder's relay transaction plus its transaction passing the wallet's reply on to the member */
  relayRoundTrip: 7149,
} as const;

/** Value (nanoTON) a flush leaves on the forwarder for storage rent (member_forwarder.fc FORWARDER_RESERVE). */
export const FORWARDER_RESERVE = 10_000_000n;

/** The forwarder code cell of this build (contracts/build.ts compiles member_forwarder.fc). */
export const MEMBER_FORWARDER_CODE: Cell = Cell.fromBoc(readFileSync(join(import.meta.dirname, 'build', 'MemberForwarder', 'MemberForwarder.code.boc')))[0]!;

/**
 * The StateInit of the MemberForwarder of `member` (the member's wallet) in the pool whose
 * RewardDistribution is `pool`: this build's forwarder code and the data
 * `pool:MsgAddress member:MsgAddress` (member_forwarder.fc).
 */
export async function memberForwarderInit(pool: Address, member: Address): Promise<StateInit> {
  return forwarderInit(pool, member);
}

/**
 * The address of the MemberForwarder of (`pool`, `member`): basechain, hash of its StateInit
 * (memberForwarderInit). Anyone recomputes it from the member's wallet, the pool's
 * RewardDistribution address and the published forwarder code; the RewardDistribution does the
 * same before booking a MemberPayout or MemberBacklog, and the registry deploys it on joining.
 * It is the `owner_address` a member sets in its Cocoon workers' config.
 */
export async function memberForwarderAddress(pool: Address, member: Address): Promise<Address> {
  return memberForwarderAddressSync(pool, member);
}

/** memberForwarderAddress without the promise (for synchronous readers such as memberRevenueIntake). */
export function memberForwarderAddressSync(pool: Address, member: Address): Address {
  return contractAddress(0, forwarderInit(pool, member));
}

function forwarderInit(pool: Address, member: Address): StateInit {
  return { code: MEMBER_FORWARDER_CODE, data: beginCell().storeAddress(pool).storeAddress(member).endCell() };
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

function uint64(name: string, v: bigint): bigint {
  if (v < 0n || v >= 1n << 64n) throw new ContractMessageError(`${name}: query_id ${v} is not a uint64`);
  return v;
}

/**
 * RelayToCocoonWallet body (the member only): the forwarder sends `command` (cocoonWalletCommand)
 * to the cocoon wallet `wallet` with the message's remaining value, bounceable. Attach the gas of
 * both hops (0.05 TON is plenty; what the wallet does not use comes back to the member with its
 * reply, through the forwarder).
 * @throws ContractMessageError for an out-of-range field.
 */
export function relayToCocoonWalletBody(m: { queryId: bigint; wallet: Address; command: CocoonWalletCommand }): Cell {
  return beginCell().storeUint(FORWARDER_OPS.relayToCocoonWallet, 32).storeUint(uint64('RelayToCocoonWallet', m.queryId), 64)
    .storeAddress(m.wallet).storeRef(cocoonWalletCommand(m.queryId, m.command)).endCell();
}

/**
 * FlushBacklog body (anyone): the forwarder sends its balance above FORWARDER_RESERVE (held
 * before this message) to the pool as MemberBacklog; the sender's value pays the fees (and tops
 * the reserve up when the balance was below it), the rest comes back to it as Excesses.
 * @throws ContractMessageError when queryId is not a uint64.
 */
export function flushBacklogBody(m: { queryId: bigint }): Cell {
  return beginCell().storeUint(FORWARDER_OPS.flushBacklog, 32).storeUint(uint64('FlushBacklog', m.queryId), 64).endCell();
}

/** MemberPayout body (forwarder → pool); for tests of the pool's sender check. `paid` in nanoTON. */
export function memberPayoutBody(m: { queryId: bigint; member: Address; proxy: Address; paid: bigint }): Cell {
  if (m.paid < 0n) throw new ContractMessageError(`MemberPayout: paid ${m.paid} is negative`);
  return beginCell().storeUint(FORWARDER_OPS.memberPayout, 32).storeUint(uint64('MemberPayout', m.queryId), 64)
    .storeAddress(m.member).storeAddress(m.proxy).storeCoins(m.paid).endCell();
}

/** MemberBacklog body (forwarder → pool); for tests of the pool's sender check. */
export function memberBacklogBody(m: { queryId: bigint; member: Address }): Cell {
  return beginCell().storeUint(FORWARDER_OPS.memberBacklog, 32).storeUint(uint64('MemberBacklog', m.queryId), 64).storeAddress(m.member).endCell();
}
