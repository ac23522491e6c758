/**
 * Fault injection of the devnet endpoint: the ways a real TON Center (and its v3 indexer) lets a
 * client down, switched on per instance and decided deterministically from a seed, so a test that
 * sets the same faults and makes the same requests sees the same failures.
 *
 * Every rate is a fraction 0..1 (0 or absent = never, 1 = always). Decisions are a hash of
 * (seed, fault, key) compared with the rate, where the key is:
 * - the API request's sequence number (1, 2, …, counted from the last {@link Faults} change) for
 *   `rateLimited`, `timeouts` and `lostSendResponses`;
 * - the v3 page's sequence number for `duplicateRows` and `outOfOrderRows`;
 * - the transaction hash for `lateRows` and `skippedRows`, so the same transactions are hit
 *   whatever the order of requests.
 */
import { createHash } from 'node:crypto';

/** Which faults are on; see the module comment for how each is decided. */
export interface DevnetFaults {
  /** Seed of every decision; default 1. */
  seed?: number;
  /** Requests answered HTTP 429 with TON Center's body `{"ok":false,"result":"Ratelimit exceed","code":429}`. */
  rateLimited?: number;
  /** Requests that hang {@link hangMs} and then have their connection closed without an answer. */
  timeouts?: number;
  /** How long a timed-out request hangs, ms; default 1000. */
  hangMs?: number;
  /** `sendBoc`/`sendBocReturnHash` calls whose message IS run on chain but whose connection is then closed unanswered. */
  lostSendResponses?: number;
  /** Transactions the v3 index shows only {@link lateSeconds} of chain time after their block closed (v2 shows them at once). */
  lateRows?: number;
  /** Delay of a late row, seconds of chain time; default 5. */
  lateSeconds?: number;
  /** v3 pages in which one row appears twice (the page still holds at most `limit` rows). */
  duplicateRows?: number;
  /** v3 pages (of 2 rows or more) in which two adjacent rows are swapped. */
  outOfOrderRows?: number;
  /** Transactions left out of the first v3 page that would hold them (later pages show them). */
  skippedRows?: number;
}

/**
 * Named fault settings for `pool start --chain devnet --devnet-faults <name>`: `none`, and `all`,
 * every fault at once at rates a client must survive without losing or doubling anything (what the
 * pool's own end-to-end test runs).
 */
export const DEVNET_FAULT_PROFILES = {
  none: {},
  all: { seed: 7, rateLimited: 0.1, timeouts: 0.02, hangMs: 500, lostSendResponses: 0.3, lateRows: 0.2, lateSeconds: 2, duplicateRows: 0.3, outOfOrderRows: 0.3, skippedRows: 0.2 },
} as const satisfies Record<string, DevnetFaults>;

/** A name of {@link DEVNET_FAULT_PROFILES}. */
export type DevnetFaultProfile = keyof typeof DEVNET_FAULT_PROFILES;

const RATES = ['rateLimited', 'timeouts', 'lostSendResponses', 'lateRows', 'duplicateRows', 'outOfOrderRows', 'skippedRows'] as const;
type RateName = (typeof RATES)[number];

/**
 * Checks a faults object from a caller (options or the admin route).
 * @returns the problems, empty when it is valid.
 */
export function faultProblems(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return ['faults must be an object'];
  const f = input as Record<string, unknown>;
  const problems: string[] = [];
  const known = new Set<string>([...RATES, 'seed', 'hangMs', 'lateSeconds']);
  for (const key of Object.keys(f)) if (!known.has(key)) problems.push(`unknown fault '${key}'`);
  for (const key of RATES) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) problems.push(`${key} must be a number in 0..1`);
  }
  if (f.seed !== undefined && !Number.isSafeInteger(f.seed)) problems.push('seed must be an integer');
  for (const key of ['hangMs', 'lateSeconds'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) problems.push(`${key} must be a number >= 0`);
  }
  return problems;
}

/** The decisions for one faults setting; replace the instance to change the setting. */
export class Faults {
  private requestSeq = 0;
  private pageSeq = 0;
  /** Hashes (base64) of rows a page has already left out once. */
  private readonly skippedOnce = new Set<string>();

  /** @throws RangeError listing the problems of an invalid setting. */
  constructor(readonly setting: Readonly<DevnetFaults> = {}) {
    const problems = faultProblems(setting);
    if (problems.length) throw new RangeError(`invalid faults: ${problems.join('; ')}`);
  }

  get hangMs(): number {
    return this.setting.hangMs ?? 1000;
  }

  get lateSeconds(): number {
    return this.setting.lateSeconds ?? 5;
  }

  /** What happens to the next API request: answered, 429, or hang then close. */
  nextRequest(): { seq: number; fault: 'rate-limited' | 'timeout' | null } {
    const seq = ++this.requestSeq;
    if (this.hit('rateLimited', `request ${seq}`)) return { seq, fault: 'rate-limited' };
    if (this.hit('timeouts', `request ${seq}`)) return { seq, fault: 'timeout' };
    return { seq, fault: null };
  }

  /** Whether the answer to send request `seq` (from {@link nextRequest}) is lost after the message ran. */
  loseSendResponse(seq: number): boolean {
    return this.hit('lostSendResponses', `request ${seq}`);
  }

  /** Whether the transaction with hash `hashB64` is indexed late. */
  isLate(hashB64: string): boolean {
    return this.hit('lateRows', `tx ${hashB64}`);
  }

  /**
   * Applies the page faults to one v3 page (rows with a base64 `hash`), in this order: rows to skip
   * are left out (each only the first time), then one row may be doubled, then two adjacent rows
   * may be swapped; the result holds at most `limit` rows.
   */
  distortPage<T extends { hash: string }>(rows: readonly T[], limit: number): T[] {
    const seq = ++this.pageSeq;
    const page = rows.filter((row) => {
      if (this.skippedOnce.has(row.hash) || !this.hit('skippedRows', `tx ${row.hash}`)) return true;
      this.skippedOnce.add(row.hash);
      return false;
    });
    if (page.length > 0 && this.hit('duplicateRows', `page ${seq}`)) {
      const i = this.pick(`page ${seq} duplicate`, page.length);
      page.splice(i + 1, 0, page[i]!);
    }
    if (page.length > 1 && this.hit('outOfOrderRows', `page ${seq}`)) {
      const i = this.pick(`page ${seq} swap`, page.length - 1);
      [page[i], page[i + 1]] = [page[i + 1]!, page[i]!];
    }
    return page.slice(0, limit);
  }

  private hit(name: RateName, key: string): boolean {
    const rate = this.setting[name] ?? 0;
    if (rate <= 0) return false;
    return rate >= 1 || this.roll(`${name} ${key}`) < rate;
  }

  /** An index in 0..n-1 decided by `key`. */
  private pick(key: string, n: number): number {
    return Math.min(n - 1, Math.floor(this.roll(key) * n));
  }

  /** A number in [0, 1) from sha256(seed, key). */
  private roll(key: string): number {
    const digest = createHash('sha256').update(`${this.setting.seed ?? 1} ${key}`).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  }
}
