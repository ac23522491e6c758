/**
 * TON Center API v3 answers, checked and put in order (pure: no I/O). Every answer is a claim:
 * a row that is not a well-formed transaction of the asked account makes the whole answer
 * malformed ({@link MalformedAnswerError}).
 *
 * Shapes (TON Center v3 = toncenter/ton-indexer, `ton-index-go/index/models`):
 * - `GET /api/v3/transactions` → `{ transactions: Transaction[] }`, a `Transaction` carrying
 *   `account` (raw `0:HEX`), `hash` (base64), `lt` (decimal string), `mc_block_seqno` (the
 *   masterchain block that committed its shard block; null while pending), `prev_trans_hash`,
 *   `prev_trans_lt`, `emulated` (true for a pending, emulated trace) and, in newer versions,
 *   `finality` ('pending' | 'confirmed' | 'finalized'). It carries no BoC of the transaction.
 * - `GET /api/v3/masterchainInfo` → `{ last: Block, first: Block }`, `Block.seqno`, `Block.gen_utime`.
 *
 * Finality rule: a row is final when it is not emulated, its `finality` (when given) is
 * 'finalized', and its `mc_block_seqno` is set and ≤ the seqno of `masterchainInfo.last` (TON
 * masterchain blocks are final once committed: a shard block referenced by a committed
 * masterchain block, and every transaction in it, is final). One account's transactions run in
 * lt order and their blocks in seqno order, so the first non-final row ends what may be acted on.
 */
import { Address } from '@ton/core';
import type { TxLink } from '../continuity.ts';

/** One v3 transaction row as the reader uses it. */
export interface V3Row extends TxLink {
  /** masterchain seqno of the block that committed it; null while pending */
  mcSeqno: number | null;
  emulated: boolean;
  /** as given by newer TON Center versions; undefined when absent */
  finality: string | undefined;
}

/** The latest final masterchain block. */
export interface FinalBlock {
  seqno: number;
  /** unix seconds */
  time: number;
}

/** The endpoint answered something that is not what the API documents. */
export class MalformedAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedAnswerError';
  }
}

/**
 * A 32-byte hash as TON Center gives it (base64, base64url or 64 hex digits) → 64 lowercase hex.
 * @throws MalformedAnswerError for anything else.
 */
export function hashHex(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new MalformedAnswerError(`${what} is not a string`);
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  const bytes = Buffer.from(value, /[-_]/.test(value) ? 'base64url' : 'base64');
  if (bytes.length !== 32 || !/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) throw new MalformedAnswerError(`${what} is not a 32-byte hash: ${JSON.stringify(value)}`);
  return bytes.toString('hex');
}

function ltOf(value: unknown, what: string): bigint {
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^\d+$/.test(String(value))) {
    throw new MalformedAnswerError(`${what} is not an lt: ${JSON.stringify(value)}`);
  }
  return BigInt(value);
}

/**
 * Checks a `/api/v3/transactions` answer for `account`.
 * @throws MalformedAnswerError when it is not `{ transactions: [...] }` of well-formed rows of that account.
 */
export function parseV3Transactions(body: unknown, account: Address): V3Row[] {
  const list = (body as { transactions?: unknown } | null)?.transactions;
  if (!Array.isArray(list)) throw new MalformedAnswerError('v3 transactions answer has no transactions array');
  return list.map((row: Record<string, unknown>, i) => {
    const what = `v3 transactions[${i}]`;
    if (row === null || typeof row !== 'object') throw new MalformedAnswerError(`${what} is not an object`);
    let rowAccount: Address;
    try {
      rowAccount = Address.parse(String(row.account));
    } catch {
      throw new MalformedAnswerError(`${what}.account is not an address: ${JSON.stringify(row.account)}`);
    }
    if (!rowAccount.equals(account)) throw new MalformedAnswerError(`${what} is of account ${rowAccount.toRawString()}, not ${account.toRawString()}`);
    const mc = row.mc_block_seqno;
    if (mc !== null && mc !== undefined && !(Number.isSafeInteger(mc) && (mc as number) >= 0)) throw new MalformedAnswerError(`${what}.mc_block_seqno is not a seqno: ${JSON.stringify(mc)}`);
    return {
      lt: ltOf(row.lt, `${what}.lt`),
      hash: hashHex(row.hash, `${what}.hash`),
      prev: { lt: ltOf(row.prev_trans_lt, `${what}.prev_trans_lt`), hash: hashHex(row.prev_trans_hash, `${what}.prev_trans_hash`) },
      mcSeqno: (mc as number | null | undefined) ?? null,
      emulated: row.emulated === true,
      finality: typeof row.finality === 'string' ? row.finality : undefined,
    };
  });
}

/**
 * Checks a `/api/v3/masterchainInfo` answer.
 * @throws MalformedAnswerError when `last.seqno` / `last.gen_utime` are missing or not integers.
 */
export function parseMasterchainInfo(body: unknown): FinalBlock {
  const last = (body as { last?: { seqno?: unknown; gen_utime?: unknown } } | null)?.last;
  const seqno = last?.seqno;
  const time = Number(last?.gen_utime);
  if (!Number.isSafeInteger(seqno) || (seqno as number) < 0 || !Number.isSafeInteger(time) || time < 0) {
    throw new MalformedAnswerError(`v3 masterchainInfo answer has no last block seqno and gen_utime: ${JSON.stringify(last)}`);
  }
  return { seqno: seqno as number, time };
}

/** True when `row` may be acted on with `final` the latest final block (module comment: the finality rule). */
export function isFinal(row: V3Row, final: FinalBlock): boolean {
  return !row.emulated && (row.finality === undefined || row.finality === 'finalized') && row.mcSeqno !== null && row.mcSeqno > 0 && row.mcSeqno <= final.seqno;
}

/**
 * The rows after `afterLt` (all when undefined), each once, in lt order. Duplicates (same lt and
 * hash) are dropped, whatever order they came in.
 * @throws MalformedAnswerError for two different rows at one lt (one account cannot have them).
 */
export function orderRows(rows: readonly V3Row[], afterLt: bigint | undefined): V3Row[] {
  const byLt = new Map<bigint, V3Row>();
  for (const row of rows) {
    if (afterLt !== undefined && row.lt <= afterLt) continue;
    const seen = byLt.get(row.lt);
    if (seen !== undefined && seen.hash !== row.hash) throw new MalformedAnswerError(`two transactions at lt ${row.lt}: ${seen.hash} and ${row.hash}`);
    byLt.set(row.lt, row);
  }
  return [...byLt.values()].sort((a, b) => (a.lt < b.lt ? -1 : a.lt > b.lt ? 1 : 0));
}

/** The leading final rows of `ordered` (lt order): everything up to the first non-final row. */
export function finalPrefix(ordered: readonly V3Row[], final: FinalBlock): V3Row[] {
  const cut = ordered.findIndex((row) => !isFinal(row, final));
  return cut < 0 ? [...ordered] : ordered.slice(0, cut);
}
