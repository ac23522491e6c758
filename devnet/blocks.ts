/**
 * Synthetic masterchain blocks of the devnet endpoint, derived from chain time alone (nothing is
 * persisted for them, so a restarted endpoint reports the same blocks for the same transactions).
 *
 * The rule, with `b` = `blockSeconds` (a positive integer) and G = {@link GENESIS_UNIX}:
 * - masterchain block `s` (s ≥ 1) has `gen_utime` G + (s − 1)·b and holds every transaction whose
 *   `now` lies in [gen_utime(s), gen_utime(s) + b); a transaction's `mc_block_seqno` is therefore
 *   {@link blockOfTime}(tx.now) (times before G fall in block 1);
 * - at chain time T the LATEST block is {@link latestBlock}(T) = blockOfTime(T): the block being
 *   produced, which holds every transaction run so far (the account states the endpoint serves are
 *   as of it); it may still receive transactions until its second(s) are over;
 * - a block CLOSES at gen_utime + b and is FINAL `lagSeconds` after it closed:
 *   {@link finalBlock}(T) = blockOfTime(T − lag) − 1, so even with no lag the final block is a
 *   closed one, whose transactions can no longer change.
 *
 * On TON a masterchain block is final once the validators have signed it; TON Center reports the
 * newest block most of its liteservers agree on as the "consensus block" (API v2
 * `getConsensusBlock`), and its v3 index serves only blocks it has indexed (`masterchainInfo.last`).
 * The lag stands for that distance between the newest block and the one a reader may act on.
 */
import { createHash } from 'node:crypto';

/** Unix time of masterchain block 1 (2023-11-14T22:13:20Z): keeps seqnos near mainnet's magnitude. */
export const GENESIS_UNIX = 1_700_000_000;

/** TON's masterchain shard as tonlib prints it (int64 0x8000000000000000, signed decimal). */
export const MASTERCHAIN_SHARD = '-9223372036854775808';
/** The basechain's only shard in the v3 index's hex form. */
export const BASECHAIN_SHARD_HEX = '8000000000000000';

/**
 * Masterchain block holding a transaction with `now` = `unixSeconds`.
 * @throws RangeError when `blockSeconds` is not a positive integer.
 */
export function blockOfTime(unixSeconds: number, blockSeconds: number): number {
  checkBlockSeconds(blockSeconds);
  return Math.max(1, Math.floor((unixSeconds - GENESIS_UNIX) / blockSeconds) + 1);
}

/** `gen_utime` of block `seqno` (unix seconds). */
export function blockTime(seqno: number, blockSeconds: number): number {
  checkBlockSeconds(blockSeconds);
  return GENESIS_UNIX + (seqno - 1) * blockSeconds;
}

/** The masterchain block being produced at chain time `now` (see the module comment). */
export function latestBlock(now: number, blockSeconds: number): number {
  return blockOfTime(now, blockSeconds);
}

/**
 * The newest final masterchain block at chain time `now`: closed `lagSeconds` (>= 0) ago or more.
 * 0 while no block is final yet.
 * @throws RangeError for a negative or non-finite lag.
 */
export function finalBlock(now: number, blockSeconds: number, lagSeconds: number): number {
  if (!Number.isFinite(lagSeconds) || lagSeconds < 0) throw new RangeError(`finality lag must be >= 0 seconds, got ${lagSeconds}`);
  if (now - lagSeconds < GENESIS_UNIX) return 0;
  return blockOfTime(Math.floor(now - lagSeconds), blockSeconds) - 1;
}

/** Root and file hash of a synthetic block (32 bytes each): sha256 of its name, stable across restarts. */
export function blockHashes(workchain: number, seqno: number): { rootHash: Buffer; fileHash: Buffer } {
  const h = (kind: string) => createHash('sha256').update(`devnet ${kind} ${workchain}:${seqno}`).digest();
  return { rootHash: h('root'), fileHash: h('file') };
}

function checkBlockSeconds(blockSeconds: number): void {
  if (!Number.isSafeInteger(blockSeconds) || blockSeconds <= 0) throw new RangeError(`block interval must be a positive integer of seconds, got ${blockSeconds}`);
}
