/**
 * How the TON Center reader reads one account's final transactions without missing or repeating
 * one, over a {@link TransactionSource} (the reader gives it TON Center; tests give it rows made
 * from a real chain, with faults).
 *
 * In segments, from the last transaction returned (`afterLt`):
 *  1. one v3 page: `start_lt = afterLt + 1`, `sort=asc`, at most the page size (never `offset`);
 *  2. its rows deduplicated and put in lt order, cut at the first non-final row (rows.ts);
 *  3. v3 rows carry no BoC, so the transactions themselves come from v2, walking back from the
 *     newest final row by lt+hash down to `afterLt`. The walk follows each transaction's own
 *     `prev_trans_lt`/`prev_trans_hash` and checks each one's cell hash, so a transaction that
 *     the v3 rows skipped (a late row, a page with a hole) is fetched here: the gap is refilled
 *     before anything past it is returned, and a v3 row that is not on the account's chain is
 *     dropped;
 *  4. the first transaction of the segment must link to the last one returned before it.
 * Returned: oldest first, each once, all final (older than a final row of the same account).
 */
import type { Transaction } from '@ton/core';
import { linksTo, txLink, type TxRef } from '../continuity.ts';
import { finalPrefix, MalformedAnswerError, orderRows, type FinalBlock, type V3Row } from './rows.ts';

/** Where {@link walkFinal} reads from. */
export interface TransactionSource {
  /** v3 rows with lt ≥ `startLt` in ascending order (as the endpoint gave them), at most `limit`. */
  page(startLt: bigint, limit: number): Promise<V3Row[]>;
  /** The latest final masterchain block, fetched again when the one known is older than `atLeast`. */
  finalBlock(atLeast: number): Promise<FinalBlock>;
  /** Decoded transactions from `from` (included) back, newest first, at most `limit` (v2 getTransactions by lt+hash). */
  history(from: TxRef, limit: number): Promise<Transaction[]>;
}

export interface WalkOptions {
  /** return transactions with lt > afterLt; all when undefined */
  afterLt?: bigint;
  /** at most this many; all when undefined */
  limit?: number;
  /**
   * The transaction at `afterLt` when known (the last one returned before), so the first one
   * returned now is checked to link to it; undefined when unknown. Ignored without `afterLt`
   * (then the first must be the account's first transaction).
   */
  anchor?: TxRef;
  /** v3 rows per page */
  pageSize: number;
  /** v2 transactions per walk-back request */
  historyPageSize: number;
}

export interface WalkResult {
  transactions: Transaction[];
  /** transactions the v3 rows lacked, fetched by walking back with v2 */
  refilled: TxRef[];
  /** final v3 rows that are not on the account's chain (dropped) */
  phantoms: TxRef[];
}

/**
 * The transaction at the anchor is not on the account's chain any more: what was returned
 * before is contradicted by the endpoint. Not retryable by waiting; an operator must look.
 */
export class HistoryMismatchError extends Error {
  constructor(readonly anchor: TxRef, readonly found: TxRef) {
    super(`the transaction returned before at lt ${anchor.lt} (${anchor.hash}) is not on the chain: the next one links to lt ${found.lt} (${found.hash})`);
    this.name = 'HistoryMismatchError';
  }
}

/**
 * Reads final transactions after `afterLt` (module comment).
 * @throws HistoryMismatchError when the first one does not link to `anchor`.
 * @throws MalformedAnswerError when v2 does not give the transaction asked for, or rows contradict.
 * @throws whatever the source throws (ChainUnavailableError).
 */
export async function walkFinal(source: TransactionSource, opts: WalkOptions): Promise<WalkResult> {
  const out: WalkResult = { transactions: [], refilled: [], phantoms: [] };
  let cursorLt = opts.afterLt;
  let anchor: TxRef | null | undefined = opts.afterLt === undefined ? null : opts.anchor;
  while (opts.limit === undefined || out.transactions.length < opts.limit) {
    const want = Math.min(opts.pageSize, opts.limit === undefined ? opts.pageSize : opts.limit - out.transactions.length);
    const page = await source.page(cursorLt === undefined ? 0n : cursorLt + 1n, want);
    const ordered = orderRows(page, cursorLt);
    const seqnos = ordered.map((r) => r.mcSeqno ?? 0);
    if (!ordered.length || !seqnos[0]) break;
    const final = finalPrefix(ordered, await source.finalBlock(Math.max(...seqnos)));
    if (!final.length) break;
    const chain = await walkBack(source, final[final.length - 1]!, cursorLt, final.length, opts.historyPageSize);
    const links = chain.map(txLink);
    if (anchor !== undefined && !linksTo(links[0]!, anchor)) throw new HistoryMismatchError(anchor ?? { lt: 0n, hash: '0'.repeat(64) }, links[0]!.prev) // null: cannot fail, walkBack stops at lt 0;
    const onChain = new Set(links.map((l) => l.hash));
    const listed = new Set(final.map((r) => r.hash));
    out.refilled.push(...links.filter((l) => !listed.has(l.hash)).map(({ lt, hash }) => ({ lt, hash })));
    out.phantoms.push(...final.filter((r) => !onChain.has(r.hash)).map(({ lt, hash }) => ({ lt, hash })));
    const room = opts.limit === undefined ? chain.length : opts.limit - out.transactions.length;
    const taken = chain.slice(0, room);
    out.transactions.push(...taken);
    const last = links[taken.length - 1]!;
    cursorLt = last.lt;
    anchor = { lt: last.lt, hash: last.hash };
    if (taken.length < chain.length || final.length < ordered.length || page.length < want) break;
  }
  return out;
}

/**
 * The account's transactions from `newest` back to just after `downTo` (to its first when
 * undefined), oldest first, each checked to be the one its successor names.
 */
async function walkBack(source: TransactionSource, newest: TxRef, downTo: bigint | undefined, expected: number, pageSize: number): Promise<Transaction[]> {
  const collected: Transaction[] = [];
  let want: TxRef = { lt: newest.lt, hash: newest.hash };
  for (;;) {
    // first as many as the rows promise and a few more (a small gap costs no extra request); past
    // that, a gap of unknown size: whole pages
    const batch = await source.history(want, collected.length ? pageSize : Math.min(pageSize, expected + 4));
    if (!batch.length) throw new MalformedAnswerError(`v2 has no transaction at lt ${want.lt} (${want.hash})`);
    for (const tx of batch) {
      const link = txLink(tx);
      if (link.lt !== want.lt || link.hash !== want.hash) {
        throw new MalformedAnswerError(`v2 gave lt ${link.lt} (${link.hash}) where the chain has lt ${want.lt} (${want.hash})`);
      }
      collected.push(tx);
      if (link.prev.lt === 0n || (downTo !== undefined && link.prev.lt <= downTo)) return collected.reverse();
      want = link.prev;
    }
  }
}
