/**
 * Continuity of an account's transaction chain. On TON every transaction names the one before it
 * on the same account (TL-B `Transaction`: `prev_trans_hash`, `prev_trans_lt`; the account's first
 * transaction names lt 0 and a zero hash), so a reader can prove it missed none: each transaction
 * must link to the previous one it saw. Used by the TON Center reader (chain/toncenter/) on the
 * rows an indexer gives it, and by the chain indexer (producers/chain/indexer.ts) on what any
 * ChainReader returns.
 */
import type { Transaction } from '@ton/core';

/** One transaction's identity: lt and hash (64 lowercase hex digits, the cell hash of the transaction). */
export interface TxRef {
  lt: bigint;
  hash: string;
}

/** A transaction's identity and the identity of the one before it on the same account. */
export interface TxLink extends TxRef {
  /** lt 0 (and a zero hash) for the account's first transaction. */
  prev: TxRef;
}

/** The link of a decoded transaction (`hash()` and `prevTransactionLt`/`prevTransactionHash`). */
export function txLink(tx: Transaction): TxLink {
  return {
    lt: tx.lt,
    hash: tx.hash().toString('hex'),
    prev: { lt: tx.prevTransactionLt, hash: tx.prevTransactionHash.toString(16).padStart(64, '0') },
  };
}

/**
 * True when `link` comes right after `before` on its account: its prev is `before`, or, when
 * `before` is null (nothing seen yet), it is the account's first transaction (prev lt 0).
 */
export function linksTo(link: TxLink, before: TxRef | null): boolean {
  if (before === null) return link.prev.lt === 0n;
  return link.prev.lt === before.lt && link.prev.hash === before.hash;
}

/**
 * Index of the first link in `links` (oldest first) that does not follow the one before it, the
 * first compared with `before` (see {@link linksTo}; `undefined` = unknown, the first is not
 * checked); -1 when the whole run links.
 */
export function firstBreak(links: readonly TxLink[], before: TxRef | null | undefined): number {
  for (let i = 0; i < links.length; i++) {
    const prev = i === 0 ? before : links[i - 1]!;
    if (prev !== undefined && !linksTo(links[i]!, prev)) return i;
  }
  return -1;
}
