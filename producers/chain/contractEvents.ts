/**
 * Turns one transaction of a pool contract (RewardDistribution, ParticipantRegistry, PoolOperator)
 * into pool events: each external-out event (contracts/events.ts) becomes its chain event; a
 * RewardBatchPaid is completed with the leaves it paid, read from the transaction's internal
 * out-messages (body op 0x50c0e0f1 epoch, index; value = amount); governance and bookkeeping events
 * of the operator and registry become PoolGovernanceChanged; an aborted transaction becomes
 * ChainTransactionFailed. A revenue message of the distribution contract (contracts/distribution.ts
 * `revenueIntake`) becomes PoolRevenueReceived from the in-message, also when its transaction failed
 * (the value was too small to run the intake and stayed on the balance: countedByContract false).
 * A Cocoon payout is proxy revenue (`knownProxy`) only when its sender is a genuine Cocoon proxy,
 * as checked once per sender against the Cocoon root (producers/chain/proxyAuthenticity.ts, asked
 * before through {@link cocoonPayoutSender}); a cocoon wallet's bounceable "w" reply is not revenue
 * but the member's float: CocoonWalletFloatReturned (domain/revenue.ts).
 * A member's forward (contracts/distribution.ts `memberRevenueIntake`: a MemberPayout or
 * MemberBacklog from the member's forwarder, whose address was recomputed) becomes
 * MemberRevenueReceived: for a payout, `knownProxy` and `workerFeePerTokenNanoton` come from the
 * recorded verdict on the proxy the forwarder tagged (asked before, like a direct payout's sender),
 * and `verifiedTokens` = floor(paid / fee) when both are known; a forged or refused forward is no
 * revenue (its failed transaction is ChainTransactionFailed).
 * The event id is the transaction hash (`<hash>:<n>` for the n-th of several; a failed revenue
 * transaction: the failure `<hash>`, the revenue `<hash>:1`).
 */
import { Address, type Cell, type Transaction } from '@ton/core';
import { normalizedMessageHash } from '../../chain/messageHash.ts';
import { OP_INTERNAL_TRANSFER } from '../../chain/wallet/highloadV3.ts';
import { decodeRewardPayout, memberRevenueIntake, revenueIntake, type MemberRevenueIntake, type RevenueIntake } from '../../contracts/distribution.ts';
import { ContractDecodeError } from '../../contracts/codec.ts';
import { transactionEvents, type PoolEvent as ContractEvent } from '../../contracts/events.ts';
import { isCocoonWalletWithdrawReply } from '../../domain/revenue.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';

const hex256 = (n: bigint) => n.toString(16).padStart(64, '0');

export interface ChainContext {
  /** the contract whose transactions these are */
  contract: Address;
  /**
   * Whether the sender of a Cocoon payout is a genuine Cocoon proxy: its recorded verdict
   * (ProxyAuthenticity.verdict() === 'genuine'); asked only for senders of {@link cocoonPayoutSender}.
   */
  genuineProxy(sender: Address): boolean;
  /**
   * The genuine proxy `sender`'s recorded worker_fee_per_token (nanoTON per adjusted token), null
   * when not known (ProxyAuthenticity.info()); absent: never known.
   */
  workerFeePerToken?(sender: Address): bigint | null;
  /** the contract takes the pool's revenue (RewardDistribution): its revenue messages are booked */
  revenueIntake: boolean;
}

/**
 * The revenue a distribution transaction brings, read once per transaction (the indexer asks
 * {@link cocoonPayoutSender} and then maps it; recomputing the forwarder's address is the costly part).
 */
const intakes = new WeakMap<Transaction, { revenue: RevenueIntake | null; member: MemberRevenueIntake | null }>();
function intakesOf(tx: Transaction): { revenue: RevenueIntake | null; member: MemberRevenueIntake | null } {
  let found = intakes.get(tx);
  if (!found) {
    const revenue = revenueIntake(tx);
    found = { revenue, member: revenue ? null : memberRevenueIntake(tx) };
    intakes.set(tx, found);
  }
  return found;
}

function txFacts(tx: Transaction, contract: Address) {
  return { contract: contract.toRawString(), txHash: tx.hash().toString('hex'), lt: String(tx.lt), chainTime: tx.now };
}

/** The leaves a batch transaction paid, from its internal out-messages. */
function payoutsOf(tx: Transaction, epochId: bigint) {
  const out: { index: number; address: string; amountNanoton: string }[] = [];
  for (const m of tx.outMessages.values()) {
    if (m.info.type !== 'internal') continue;
    let body;
    try {
      body = decodeRewardPayout(m.body);
    } catch (err) {
      if (err instanceof ContractDecodeError) continue; // excesses and other messages
      throw err;
    }
    if (body.epochId !== epochId) continue;
    out.push({ index: Number(body.index), address: m.info.dest.toRawString(), amountNanoton: String(m.info.value.coins) });
  }
  return out.sort((a, b) => a.index - b.index);
}

function revenueEvent(r: RevenueIntake, tx: Transaction, ctx: ChainContext): { type: 'PoolRevenueReceived' | 'CocoonWalletFloatReturned'; data: unknown } {
  const info = tx.inMessage!.info;
  if (r.kind === 'transfer' && info.type === 'internal' && isCocoonWalletWithdrawReply(tx.inMessage!.body, info.bounce)) {
    return {
      type: 'CocoonWalletFloatReturned',
      data: { ...txFacts(tx, ctx.contract), wallet: r.sender.toRawString(), amountNanoton: String(r.amount), countedByContract: r.countedByContract },
    };
  }
  return {
    type: 'PoolRevenueReceived',
    data: {
      ...txFacts(tx, ctx.contract),
      kind: r.kind,
      sender: r.sender.toRawString(),
      amountNanoton: String(r.amount),
      queryId: r.queryId === null ? null : String(r.queryId),
      knownProxy: r.kind === 'cocoon_payout' && ctx.genuineProxy(r.sender),
      countedByContract: r.countedByContract,
    },
  };
}

function memberRevenueEvent(m: MemberRevenueIntake, tx: Transaction, ctx: ChainContext): { type: 'MemberRevenueReceived'; data: unknown } {
  const knownProxy = m.kind === 'payout' && m.proxy !== null && ctx.genuineProxy(m.proxy);
  const fee = knownProxy ? (ctx.workerFeePerToken?.(m.proxy!) ?? null) : null;
  const verifiedTokens = fee !== null && fee > 0n && m.paid !== null ? String(m.paid / fee) : null;
  return {
    type: 'MemberRevenueReceived',
    data: {
      ...txFacts(tx, ctx.contract),
      kind: m.kind,
      member: m.member.toRawString(),
      forwarder: m.forwarder.toRawString(),
      proxy: m.proxy === null ? null : m.proxy.toRawString(),
      paidNanoton: m.paid === null ? null : String(m.paid),
      amountNanoton: String(m.amount),
      queryId: String(m.queryId),
      knownProxy,
      workerFeePerTokenNanoton: fee === null ? null : String(fee),
      verifiedTokens,
      countedByContract: m.countedByContract,
    },
  };
}

function mapEvent(e: ContractEvent, tx: Transaction, ctx: ChainContext): { type: PoolEvent['type']; data: unknown } {
  const base = txFacts(tx, ctx.contract);
  switch (e.$$type) {
    case 'EpochRootCommitted':
      return {
        type: 'EpochRootCommitted',
        data: {
          ...base, queryId: String(e.queryId), epochId: Number(e.epochId), merkleRoot: hex256(e.root), leafCount: Number(e.leafCount),
          totalNanoton: String(e.total), operatorFeeNanoton: String(e.operatorFee),
        },
      };
    case 'RewardBatchPaid':
      return {
        type: 'RewardBatchPaid',
        data: {
          ...base, queryId: String(e.queryId), epochId: Number(e.epochId), fromIndex: Number(e.fromIndex), count: Number(e.count),
          paidCount: Number(e.paidCount), paidAmountNanoton: String(e.paidAmount), payouts: payoutsOf(tx, e.epochId),
        },
      };
    case 'RewardClaimed':
      return {
        type: 'RewardClaimed',
        data: { ...base, queryId: String(e.queryId), epochId: Number(e.epochId), index: Number(e.index), address: e.recipient.toRawString(), amountNanoton: String(e.amount) },
      };
    case 'OperatorFeeWithdrawn':
      return { type: 'OperatorFeeWithdrawn', data: { ...base, queryId: String(e.queryId), amountNanoton: String(e.amount), to: e.to.toRawString() } };
    case 'Paused':
      return { type: 'DistributionPaused', data: { ...base, queryId: String(e.queryId) } };
    case 'Resumed':
      return { type: 'DistributionResumed', data: { ...base, queryId: String(e.queryId) } };
    case 'ToppedUp':
      return { type: 'GasToppedUp', data: { ...base, queryId: String(e.queryId), amountNanoton: String(e.amount) } };
    case 'ParticipantRegistered':
      return {
        type: 'ParticipantRegistered',
        data: {
          ...base, queryId: String(e.queryId), participant: e.participant.toRawString(), stakeNanoton: String(e.stake),
          gpuSpecHash: hex256(e.gpuSpecHash), gpuCount: Number(e.gpuCount), worker: e.worker ? e.worker.toRawString() : null,
        },
      };
    case 'StakeIncreased':
      return {
        type: 'StakeDeposited',
        data: { ...base, queryId: String(e.queryId), participant: e.participant.toRawString(), amountNanoton: String(e.amount), stakeNanoton: String(e.stake), status: Number(e.status) },
      };
    case 'WithdrawalRequested':
      return {
        type: 'WithdrawalRequested',
        data: { ...base, queryId: String(e.queryId), participant: e.participant.toRawString(), amountNanoton: String(e.amount), unlockAt: Number(e.unlockAt) },
      };
    case 'WithdrawalCompleted':
      return {
        type: 'WithdrawalCompleted',
        data: { ...base, queryId: String(e.queryId), participant: e.participant.toRawString(), amountNanoton: String(e.amount), stakeNanoton: String(e.stake) },
      };
    case 'ParticipantSlashed':
      return {
        type: 'ParticipantSlashed',
        data: {
          ...base, queryId: String(e.queryId), participant: e.participant.toRawString(), amountNanoton: String(e.amount),
          reason: Number(e.reason), stakeNanoton: String(e.stake), status: Number(e.status),
        },
      };
    default:
      return { type: 'PoolGovernanceChanged', data: { ...base, event: e.$$type, fields: flatFields(e) } };
  }
}

/** An event's fields as strings: numbers decimal, addresses raw, nested structs as `a.b`. */
function flatFields(value: object, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$$type') continue;
    const key = prefix + k;
    if (v instanceof Address) out[key] = v.toRawString();
    else if (v !== null && typeof v === 'object') Object.assign(out, flatFields(v, `${key}.`));
    else out[key] = v === null ? '' : String(v);
  }
  return out;
}

/** What an aborted transaction tried: op and query_id of its in-message when it has them. */
function failed(tx: Transaction, ctx: ChainContext): PoolEvent | null {
  const d = tx.description;
  if (d.type !== 'generic') return null;
  const computeFailed = d.computePhase.type === 'vm' && !d.computePhase.success;
  if (!d.aborted && !computeFailed) return null;
  const info = tx.inMessage?.info;
  if (!info || info.type !== 'internal' || info.bounced) return null;
  const s = tx.inMessage!.body.beginParse();
  const op = s.remainingBits >= 32 ? s.loadUint(32) : null;
  const queryId = op !== null && op !== 0 && s.remainingBits >= 64 ? String(s.loadUintBig(64)) : null;
  const hash = tx.hash().toString('hex');
  return {
    type: 'ChainTransactionFailed',
    version: 1,
    id: hash,
    data: {
      ...txFacts(tx, ctx.contract),
      sender: info.src.toRawString(),
      op: op === null ? null : `0x${op.toString(16).padStart(8, '0')}`,
      queryId,
      exitCode: d.computePhase.type === 'vm' ? d.computePhase.exitCode : -1,
      valueNanoton: String(info.value.coins),
    },
  };
}

/**
 * The sender of the Cocoon payout (op 0xc59a7cd3) that transaction `tx` brings as revenue: the
 * in-message sender of a direct payout, or the proxy a member's forwarder tagged in a MemberPayout
 * (the forwarder's code sets it to the payout's sender). Its authenticity
 * {@link ChainContext.genuineProxy} must know before the transaction is mapped; null when it brings
 * none (or `revenueIntake` is off).
 */
export function cocoonPayoutSender(tx: Transaction, revenueIntakeOn: boolean): Address | null {
  if (!revenueIntakeOn) return null;
  const { revenue, member } = intakesOf(tx);
  if (revenue) return revenue.kind === 'cocoon_payout' ? revenue.sender : null;
  return member?.kind === 'payout' ? member.proxy : null;
}

/**
 * The pool events of one pool-contract transaction, in emission order.
 * @throws ContractDecodeError for an event body the contract layer does not know (the caller
 *   quarantines the transaction).
 */
export function contractTransactionEvents(tx: Transaction, ctx: ChainContext): PoolEvent[] {
  const { revenue: intake, member } = ctx.revenueIntake ? intakesOf(tx) : { revenue: null, member: null };
  const revenue = intake ? [revenueEvent(intake, tx, ctx)] : member ? [memberRevenueEvent(member, tx, ctx)] : [];
  const hash = tx.hash().toString('hex');
  const failure = failed(tx, ctx);
  if (failure) return [failure, ...revenue.map((m) => ({ ...m, version: 1, id: `${hash}:1` }) as PoolEvent)];
  const mapped = [...revenue, ...transactionEvents(tx).map((e) => mapEvent(e, tx, ctx))];
  return mapped.map((m, i) => ({ ...m, version: 1, id: mapped.length === 1 ? hash : `${hash}:${i}` }) as PoolEvent);
}

/** The wallet query_id (23 bits) in a highload v3 external body: signature:bits512 ^[subwallet_id:uint32 ^msg send_mode:uint8 query_id:uint23 …]. */
function externalQueryId(body: Cell): number | null {
  try {
    const s = body.beginParse();
    s.skip(512);
    const inner = s.loadRef().beginParse();
    inner.skip(32 + 8);
    return inner.loadUint(23);
  } catch {
    return null;
  }
}

/**
 * The pool events of one transaction of the operator's highload wallet v3 (chain/wallet/highloadV3.ts):
 * - an external-in message → OperatorMessageProcessed (TEP-467 normalized hash, wallet query_id,
 *   aborted, how many messages it sent: the internal_transfer to itself);
 * - the internal_transfer from itself (op 0xae42e5a4, query_id:uint64) → OperatorTransferExecuted
 *   (whether its all-or-nothing action list went out);
 * - anything else (funding, excesses, bounces) → nothing. The event id is the transaction hash.
 */
export function walletTransactionEvents(tx: Transaction, wallet: Address): PoolEvent[] {
  const m = tx.inMessage;
  const d = tx.description;
  if (!m || d.type !== 'generic') return [];
  const base = { ...txFacts(tx, wallet), aborted: d.aborted, outMessages: tx.outMessagesCount };
  const id = tx.hash().toString('hex');
  if (m.info.type === 'external-in') {
    return [{
      type: 'OperatorMessageProcessed', version: 1, id,
      data: { ...base, normalizedHash: normalizedMessageHash(m).toString('hex'), walletQueryId: externalQueryId(m.body) },
    }];
  }
  if (m.info.type !== 'internal' || !m.info.src.equals(wallet) || m.info.bounced) return [];
  const s = m.body.beginParse();
  if (s.remainingBits < 96 || s.loadUint(32) !== OP_INTERNAL_TRANSFER) return [];
  const queryId = s.loadUintBig(64);
  if (queryId >= 1n << 23n) return [];
  return [{
    type: 'OperatorTransferExecuted', version: 1, id,
    data: { ...base, walletQueryId: Number(queryId), actionResultCode: d.actionPhase?.resultCode ?? null },
  }];
}
