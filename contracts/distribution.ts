/**
 * Typed layer over the generated RewardDistribution wrapper: message bodies for the sagas,
 * the payout body decoder for the chain indexer, deployment data and exit codes.
 * Formats: contracts/reward_distribution.tact (the fixed interface in contracts/README.md).
 */
import { type Address, beginCell, type Cell, contractAddress, Dictionary, type StateInit, type Transaction } from '@ton/core';
import {
  dictValueParserSettledEpoch,
  loadRewardPayout,
  RewardDistribution,
  storeClaimReward,
  storeCommitEpochRoot,
  storeLedger,
  storePause,
  storePayoutBatch,
  storeResume,
  storeTopUp,
  storeWithdrawOperatorFee,
  type ClaimReward,
  type CommitEpochRoot,
  type PayoutBatch,
  type WithdrawOperatorFee,
} from './build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import * as generated from './build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { ContractMessageError, decodeBody, encodeBody } from './codec.ts';
import { FORWARDER_OPS, memberForwarderAddressSync } from './forwarder.ts';

export { RewardDistribution };

/** Fields of a message without the generated `$$type` tag. */
type Fields<T> = Omit<T, '$$type'>;

/** Op codes (uint32) of the messages RewardDistribution receives and sends. */
export const DISTRIBUTION_OPS = {
  cocoonPayout: 0xc59a7cd3,
  memberPayout: FORWARDER_OPS.memberPayout,
  memberBacklog: FORWARDER_OPS.memberBacklog,
  topUp: 0x50c0e008,
  commitEpochRoot: 0x50c0e001,
  payoutBatch: 0x50c0e002,
  claimReward: 0x50c0e003,
  withdrawOperatorFee: 0x50c0e004,
  pause: 0x50c0e005,
  resume: 0x50c0e006,
  rewardPayout: 0x50c0e0f1,
  operatorFeePayout: 0x50c0e0f2,
  excesses: 0xd53276db,
} as const;

/** Exit codes of RewardDistribution (README "Exit codes"). */
export const DISTRIBUTION_EXIT = {
  notOwner: Number(generated.E_NOT_OWNER),
  paused: Number(generated.E_PAUSED),
  alreadyPaused: Number(generated.E_ALREADY_PAUSED),
  notPaused: Number(generated.E_NOT_PAUSED),
  epochSequence: Number(generated.E_EPOCH_SEQUENCE),
  epochShape: Number(generated.E_EPOCH_SHAPE),
  insufficientFunds: Number(generated.E_INSUFFICIENT_FUNDS),
  openLeavesLimit: Number(generated.E_OPEN_LEAVES_LIMIT),
  epochNotOpen: Number(generated.E_EPOCH_NOT_OPEN),
  indexRange: Number(generated.E_INDEX_RANGE),
  batchSize: Number(generated.E_BATCH_SIZE),
  valueTooLow: Number(generated.E_VALUE_TOO_LOW),
  alreadyClaimed: Number(generated.E_ALREADY_CLAIMED),
  nothingToPay: Number(generated.E_NOTHING_TO_PAY),
  epochOverpaid: Number(generated.E_EPOCH_OVERPAID),
  feeExceedsWithdrawable: Number(generated.E_FEE_EXCEEDS_WITHDRAWABLE),
  /** a MemberPayout / MemberBacklog whose sender is not the forwarder of (this contract, member) */
  notForwarder: Number(generated.E_NOT_FORWARDER),
  notMerkleProof: Number(generated.E_NOT_MERKLE_PROOF),
  proofRootMismatch: Number(generated.E_PROOF_ROOT_MISMATCH),
  leafNotInTree: Number(generated.E_LEAF_NOT_IN_TREE),
} as const;

/** Contract limits and constants the backend plans with (nanoTON, counts, gas units). */
export const DISTRIBUTION_LIMITS = {
  maxBatchPayouts: Number(generated.MAX_BATCH_PAYOUTS),
  maxOpenLeaves: Number(generated.MAX_OPEN_LEAVES),
  storageReserve: generated.STORAGE_RESERVE,
  batchGasBase: generated.BATCH_GAS_BASE,
  batchGasPerPayout: generated.BATCH_GAS_PER_PAYOUT,
  claimGas: generated.CLAIM_GAS,
  claimChangeMin: generated.CLAIM_CHANGE_MIN,
  /** gas of a CocoonPayout's intake; the getter revenueIntakeCost prices it (README "Revenue intake") */
  revenueIntakeGas: generated.REVENUE_INTAKE_GAS,
} as const;

/** A committed root (32-byte cell hash, e.g. RewardsTree.root) as the uint256 the contract stores. */
export function rootToUint(root: Buffer): bigint {
  if (root.length !== 32) throw new ContractMessageError(`a root is 32 bytes, got ${root.length}`);
  return BigInt('0x' + root.toString('hex'));
}

/**
 * CocoonPayout body (op 0xc59a7cd3, query_id:uint64; cocoon-contracts.derived.tlb `cocoon_payout`):
 * what a Cocoon proxy sends; for tests and emulators. The contract reads only the op.
 * @throws ContractMessageError when queryId is not a uint64.
 */
export function cocoonPayoutBody(m: { queryId: bigint }): Cell {
  if (m.queryId < 0n || m.queryId >= 1n << 64n) throw new ContractMessageError(`query_id ${m.queryId} is not a uint64`);
  return beginCell().storeUint(DISTRIBUTION_OPS.cocoonPayout, 32).storeUint(m.queryId, 64).endCell();
}

/** TopUp body (owner only): adds balance for gas, not revenue. */
export function topUpBody(m: Fields<generated.TopUp>): Cell {
  return encodeBody('TopUp', storeTopUp({ $$type: 'TopUp', ...m }));
}

/**
 * CommitEpochRoot body (owner only). `root` is the uint256 of the rewards dictionary's root cell
 * hash (rootToUint), `total` and `operatorFee` nanoTON. Epoch ids start at 1 and go up by one.
 */
export function commitEpochRootBody(m: Fields<CommitEpochRoot>): Cell {
  return encodeBody('CommitEpochRoot', storeCommitEpochRoot({ $$type: 'CommitEpochRoot', ...m }));
}

/**
 * PayoutBatch body (owner only): pays the unpaid leaves in [fromIndex, fromIndex + count),
 * 1 ≤ count ≤ 250, `proof` = Merkle-proof cell covering at least those leaves
 * (RewardsTree.proofForRange). Attach at least batchValue(count) nanoTON; the rest comes back.
 */
export function payoutBatchBody(m: Fields<PayoutBatch>): Cell {
  return encodeBody('PayoutBatch', storePayoutBatch({ $$type: 'PayoutBatch', ...m }));
}

/** ClaimReward body (anyone): pays leaf `index` to its address; `proof` = RewardsTree.proof([index]). */
export function claimRewardBody(m: Fields<ClaimReward>): Cell {
  return encodeBody('ClaimReward', storeClaimReward({ $$type: 'ClaimReward', ...m }));
}

/** WithdrawOperatorFee body (owner only): `amount` nanoTON ≤ the withdrawable fee, sent to `to`. */
export function withdrawOperatorFeeBody(m: Fields<WithdrawOperatorFee>): Cell {
  return encodeBody('WithdrawOperatorFee', storeWithdrawOperatorFee({ $$type: 'WithdrawOperatorFee', ...m }));
}

/** Pause body (owner only): refuses commits, payouts, claims and fee withdrawals; revenue still counts. */
export function pauseBody(m: Fields<generated.Pause>): Cell {
  return encodeBody('Pause', storePause({ $$type: 'Pause', ...m }));
}

/** Resume body (owner only). */
export function resumeBody(m: Fields<generated.Resume>): Cell {
  return encodeBody('Resume', storeResume({ $$type: 'Resume', ...m }));
}

/** A leaf payment as read from its message body. */
export interface RewardPayoutBody {
  epochId: bigint;
  index: bigint;
}

/**
 * Decodes the body of a leaf payment (op 0x50c0e0f1 epoch_id:uint32 index:uint32); the value of
 * that message is the leaf amount. Throws ContractDecodeError for any other body.
 */
export function decodeRewardPayout(body: Cell): RewardPayoutBody {
  const { epochId, index } = decodeBody('RewardPayout', body, loadRewardPayout);
  return { epochId, index };
}

/** A revenue message of RewardDistribution as its transaction shows it (README "Revenue intake"). */
export interface RevenueIntake {
  /** `cocoon_payout`: op 0xc59a7cd3; `transfer`: an empty or shorter-than-32-bit body, or op 0 (a text comment) */
  kind: 'cocoon_payout' | 'transfer';
  sender: Address;
  /** the in-message value, nanoTON */
  amount: bigint;
  /** the payout's query_id when its body carries one (transfers: null) */
  queryId: bigint | null;
  /**
   * true: the intake ran and the value is in the contract's `totals.revenue`; false: the
   * transaction failed (the value bought less gas than the intake: exit −14, or the compute
   * phase skipped below the flat gas price) and the value stayed on the balance, uncounted
   */
  countedByContract: boolean;
}

/**
 * The revenue that RewardDistribution transaction `tx` received, read from its in-message (the
 * contract emits no event for it): an internal, not bounced message whose body the contract routes
 * to a revenue receiver (op 0xc59a7cd3; an empty body, one under 32 bits or op 0), whether or not
 * the intake ran, unless the transaction bounced the value back. Null for every other transaction.
 */
export function revenueIntake(tx: Transaction): RevenueIntake | null {
  const message = tx.inMessage;
  if (!message || message.info.type !== 'internal' || message.info.bounced) return null;
  const body = message.body.beginParse();
  let kind: RevenueIntake['kind'];
  let queryId: bigint | null = null;
  const op = body.remainingBits >= 32 ? body.loadUint(32) : 0;
  if (op === 0) kind = 'transfer';
  else if (op === DISTRIBUTION_OPS.cocoonPayout) {
    kind = 'cocoon_payout';
    if (body.remainingBits >= 64) queryId = body.loadUintBig(64);
  } else return null;
  const d = tx.description;
  if (d.type !== 'generic') return null;
  if (d.aborted && d.bouncePhase?.type === 'ok') return null; // sent back: nothing kept
  return { kind, sender: message.info.src, amount: message.info.value.coins, queryId, countedByContract: !d.aborted };
}

/** A member's revenue message of RewardDistribution as its transaction shows it (README "Member revenue intake"). */
export interface MemberRevenueIntake {
  /** `payout`: MemberPayout (op 0x50c0e00a), a forwarded Cocoon payout; `backlog`: MemberBacklog (op 0x50c0e00b), a flush */
  kind: 'payout' | 'backlog';
  /** the in-message sender: the member's MemberForwarder (checked) */
  forwarder: Address;
  /** the member's wallet, from the body */
  member: Address;
  /** the Cocoon proxy that paid the forwarder (payout only; backlog: null) — a claim of the body, not checked here */
  proxy: Address | null;
  /** nanoTON the proxy paid the forwarder (payout only; backlog: null); `amount` is that minus the forwarder's fees */
  paid: bigint | null;
  /** the in-message value, nanoTON */
  amount: bigint;
  queryId: bigint;
  /**
   * true: the intake ran and the value is in the contract's `totals.revenue`; false: the
   * transaction failed for want of gas (the value bought less gas than the intake: exit −14, or
   * the compute phase skipped) and the value stayed on the balance, uncounted
   */
  countedByContract: boolean;
}

/**
 * The member revenue that RewardDistribution transaction `tx` received, read from its in-message
 * (the contract emits no event for it): an internal, not bounced MemberPayout or MemberBacklog
 * whose sender is the MemberForwarder of (the transaction's account = the in-message destination,
 * the body's member), recomputed here as the contract does (memberForwarderAddressSync), whether
 * or not the intake ran, unless the transaction refused it (exit 1150) or bounced the value back.
 * Null for every other transaction, for a malformed body and for a forged sender — also when the
 * forged message failed without bouncing (the contract never reached its own check).
 */
export function memberRevenueIntake(tx: Transaction): MemberRevenueIntake | null {
  const message = tx.inMessage;
  if (!message || message.info.type !== 'internal' || message.info.bounced) return null;
  const body = message.body.beginParse();
  if (body.remainingBits < 32) return null;
  const op = body.loadUint(32);
  if (op !== FORWARDER_OPS.memberPayout && op !== FORWARDER_OPS.memberBacklog) return null;
  let queryId: bigint;
  let member: Address;
  let proxy: Address | null = null;
  let paid: bigint | null = null;
  try {
    queryId = body.loadUintBig(64);
    member = body.loadAddress();
    if (op === FORWARDER_OPS.memberPayout) {
      proxy = body.loadAddress();
      paid = body.loadCoins();
    }
  } catch {
    return null; // the contract cannot parse it either (exit 9)
  }
  const pool = message.info.dest;
  if (!memberForwarderAddressSync(pool, member).equals(message.info.src)) return null;
  const d = tx.description;
  if (d.type !== 'generic') return null;
  if (d.computePhase.type === 'vm' && d.computePhase.exitCode === DISTRIBUTION_EXIT.notForwarder) return null;
  if (d.aborted && d.bouncePhase?.type === 'ok') return null; // sent back: nothing kept
  return {
    kind: op === FORWARDER_OPS.memberPayout ? 'payout' : 'backlog',
    forwarder: message.info.src,
    member,
    proxy,
    paid,
    amount: message.info.value.coins,
    queryId,
    countedByContract: !d.aborted,
  };
}

/**
 * Least value (nanoTON) a PayoutBatch of `count` leaves must carry under the fee prices
 * `gasPrice` (nanoTON per gas unit) and `forwardFee` (nanoTON per one-cell message), both read
 * from config params 21 and 25; mirrors the contract's own check (flat gas parts ignored).
 */
export function batchValue(count: number, gasPrice: bigint, forwardFee: bigint): bigint {
  const gas = DISTRIBUTION_LIMITS.batchGasBase + BigInt(count) * DISTRIBUTION_LIMITS.batchGasPerPayout;
  return gas * gasPrice + BigInt(count + 2) * forwardFee;
}

/**
 * The RewardDistribution of (`owner`, `poolId`) with its initial data (the contract's parameters:
 * owner, not paused, revenue 0, paid 0, no open epoch, a Ledger holding `poolId` and zeros), not
 * yet opened on a chain: its `init` deploys it, its address is fixed by the pair.
 * @throws ContractMessageError when poolId is not a uint32.
 */
export async function rewardDistributionFor(owner: Address, poolId: bigint): Promise<RewardDistribution> {
  if (poolId < 0n || poolId >= 1n << 32n) throw new ContractMessageError(`pool id ${poolId} is not a uint32`);
  const ledger = beginCell()
    .store(storeLedger({
      $$type: 'Ledger', poolId, lastEpochId: 0n, toppedUp: 0n, committed: 0n, released: 0n, feeAccrued: 0n, feeWithdrawn: 0n, openLeaves: 0n,
      settled: Dictionary.empty(Dictionary.Keys.Uint(32), dictValueParserSettledEpoch()),
    }))
    .endCell();
  return RewardDistribution.fromInit(owner, false, 0n, 0n, null, ledger);
}

/**
 * Code, data and address of the RewardDistribution of (`owner`, `poolId`), for a deploy message
 * (any message with `init`; an empty body counts as revenue, TopUp does not).
 */
export async function rewardDistributionDeployment(owner: Address, poolId: bigint): Promise<{ address: Address; init: StateInit }> {
  const init = (await rewardDistributionFor(owner, poolId)).init!;
  return { address: contractAddress(0, init), init };
}
