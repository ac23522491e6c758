/**
 * What TON received by the distribution contract is, for the pool's books (issue 10, "Revenue
 * authenticity"). Pure: the verdicts it reads are recorded in the stream by the chain indexer
 * (producers/chain/proxyAuthenticity.ts), so replaying the stream classifies alike.
 *
 * - `cocoon_payout`: a Cocoon payout (op 0xc59a7cd3) whose sender is a genuine Cocoon proxy: its
 *   code hash is the Cocoon root's `proxy_sc_hash` for a params version the root has had
 *   (cocoon/code-hashes.json notes; root get-method `get_cur_params`). The pool's proxy revenue.
 * - `unverified_payout`: the same op from any other sender (a wallet, a contract with other code):
 *   revenue of the pool like a transfer, never proxy revenue.
 * - `transfer`: any other revenue message (empty body, text comment).
 * The cocoon wallet's "w" reply is not revenue at all (a member's float): see {@link isCocoonWalletWithdrawReply}.
 */
import type { Cell } from '@ton/core';

/**
 * How a revenue transaction is booked: a PoolRevenueReceived ({@link revenueKind}) or a member's
 * revenue relayed by its forwarder ({@link memberRevenueKind}).
 */
export type RevenueKind = 'cocoon_payout' | 'unverified_payout' | 'transfer' | 'member_payout' | 'member_backlog';

/**
 * The kind of a PoolRevenueReceived from its data: `kind` is the message shape ('cocoon_payout'
 * = op 0xc59a7cd3), `knownProxy` whether its sender is a genuine proxy (events recorded before the
 * root check existed: whether it was in the configured proxy list, the check of their time).
 */
export function revenueKind(data: { kind: 'cocoon_payout' | 'transfer'; knownProxy: boolean }): RevenueKind {
  if (data.kind === 'transfer') return 'transfer';
  return data.knownProxy ? 'cocoon_payout' : 'unverified_payout';
}

/**
 * The kind of a MemberRevenueReceived: `member_payout` (one Cocoon payout the member's forwarder
 * relayed) or `member_backlog` (what the forwarder held, flushed to the pool).
 */
export function memberRevenueKind(data: { kind: 'payout' | 'backlog' }): RevenueKind {
  return data.kind === 'payout' ? 'member_payout' : 'member_backlog';
}

/** Text command "w" (withdraw) of a cocoon wallet: op 0 then the byte 119 (cocoon_wallet.tolk `TextCommand`). */
export const COCOON_WALLET_WITHDRAW = 119;

/**
 * True for a cocoon wallet's reply to its owner's "w": a bounceable message whose body is op 0
 * (32 bits) and the one byte 'w', nothing else (cocoon-contracts cocoon_wallet `TextCommand` 119:
 * it sends its whole balance but 0.01 TON, mode 128, body `TextCommand { action: 119 }`).
 */
export function isCocoonWalletWithdrawReply(body: Cell, bounceable: boolean): boolean {
  if (!bounceable || body.refs.length !== 0 || body.bits.length !== 40) return false;
  const s = body.beginParse();
  return s.loadUint(32) === 0 && s.loadUint(8) === COCOON_WALLET_WITHDRAW;
}

/** A Cocoon proxy check's verdict for one sender, as recorded in CocoonProxyChecked. */
export type ProxyVerdict = 'genuine' | 'refused';

/**
 * Verdict for a sender with code hash `codeHash` (hex; null: no code, the account is not active)
 * given the proxy code hashes the root has published (hex, any params version).
 */
export function proxyVerdict(codeHash: string | null, rootProxyHashes: ReadonlySet<string>): ProxyVerdict {
  return codeHash !== null && rootProxyHashes.has(codeHash) ? 'genuine' : 'refused';
}

/**
 * To whom a returned float is owed: the participants bound to the workers (owned by the pool) that
 * report the wallet. Exactly one: that participant; none: unattributed; several: disputed (the
 * pool cannot tell, it holds the float until an operator decides).
 */
export function floatOwner(participants: readonly (string | null)[]): { status: 'owed'; participant: string } | { status: 'unattributed' | 'disputed'; participant: null } {
  const distinct = [...new Set(participants.filter((p): p is string => p !== null))];
  if (distinct.length === 1) return { status: 'owed', participant: distinct[0]! };
  return { status: distinct.length === 0 ? 'unattributed' : 'disputed', participant: null };
}

/** Why a worker's claimed `cached_out_tokens` is not what its worker contract holds (WorkerTokensDiverged). */
export type WorkerTokensDivergence = 'claims-more-than-paid' | 'not-genuine-contract' | 'not-its-contract';

/**
 * A Cocoon worker contract as read on chain: `deployed` (account state active) and, when its code
 * hash is a root `worker_sc_hash` and `get_cocoon_worker_data` answered, that answer's owner and
 * proxy (raw addresses) and `tokens` (adjusted tokens); `data` is null otherwise.
 */
export interface WorkerContractReading {
  deployed: boolean;
  data: { owner: string; proxy: string; tokens: bigint } | null;
}

/** What one claim proves against its worker contract (WorkerTokensChecked's genuine, onChainTokens, consistent). */
export interface WorkerTokensVerdict {
  /** the contract is Cocoon's worker contract of this worker's owner_address and of the proxy it names */
  genuine: boolean;
  /** the contract's tokens; 0 for an account not deployed; null for a deployed account that proves nothing */
  onChainTokens: bigint | null;
  /** null when the claim is consistent, else the first reason in the order of {@link WorkerTokensDivergence} */
  divergence: WorkerTokensDivergence | null;
}

/**
 * Judges a worker's `/jsonstats` `cached_out_tokens` claim (`claimedTokens`, for `proxy`, by a
 * worker whose owner_address is `ownerAddress`) against its Cocoon worker contract as read on chain
 * after the sample (producers/chain/workerTokens.ts). Tokens never decrease on chain, so an honest
 * claim is at most the contract's tokens (plus `toleranceTokens`); a claim of 0 against a contract
 * not deployed yet is consistent (Cocoon deploys it with the first payout). A contract with other
 * code, or whose owner or proxy is another, proves nothing whatever it claims.
 */
export function judgeWorkerTokens(c: { claimedTokens: bigint; ownerAddress: string; proxy: string; contract: WorkerContractReading; toleranceTokens: bigint }): WorkerTokensVerdict {
  const { deployed, data } = c.contract;
  const genuine = data !== null && data.owner === c.ownerAddress && data.proxy === c.proxy;
  const onChainTokens = data ? data.tokens : deployed ? null : 0n;
  let divergence: WorkerTokensDivergence | null;
  if (!deployed) divergence = c.claimedTokens > c.toleranceTokens ? 'claims-more-than-paid' : null;
  else if (data === null) divergence = 'not-genuine-contract';
  else if (!genuine) divergence = 'not-its-contract';
  else divergence = c.claimedTokens > data.tokens + c.toleranceTokens ? 'claims-more-than-paid' : null;
  return { genuine, onChainTokens, divergence };
}
