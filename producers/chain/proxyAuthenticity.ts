/**
 * Is the sender of a Cocoon payout (op 0xc59a7cd3) a genuine Cocoon proxy? Its code hash must be
 * the Cocoon root's `proxy_sc_hash` for a params version the root has had (issue 10 "Revenue
 * authenticity"; cocoon/code-hashes.json: root get-method `get_cur_params` → (params_version,
 * unique_id, is_test, price_per_token, worker_fee_per_token, cached_tokens_price_multiplier,
 * reasoning_tokens_price_multiplier, proxy_delay_before_close, client_delay_before_close,
 * min_proxy_stake, min_client_stake, proxy_sc_hash, worker_sc_hash, client_sc_hash)).
 *
 * Each sender is checked once: its account's code hash (`ChainReader.getAccount`), compared with
 * the proxy code hashes of the root seen so far; only when it matches none is the root read again
 * (one `get_cur_params`: a new params version may have new proxy code). The verdict becomes a
 * CocoonProxyChecked event on `pool.chain.proxies`; the cache is those events, loaded from the
 * stream at start, so a verdict is never asked of the chain twice and a replay needs no chain.
 * A refusal is final, like a grant: a proxy whose code hash the root never published while the
 * pool watched stays refused (its payouts still count as revenue of another kind).
 *
 * A genuine verdict also records the proxy's `worker_fee_per_token` (nanoTON per adjusted token,
 * result 4 of get_cur_params): that of the highest params version whose proxy code hash matched
 * (a fee change is a new params version with the same proxy code; a proxy deployed under an older
 * version keeps that version's fee, which the root no longer shows, so the fee is a best reading).
 * It is null when refused, or when the matched version's fee was never read (it was learnt from
 * checks recorded before the fee was); checks recorded without the field read as null.
 */
import type { Address } from '@ton/core';
import type { ChainReader } from '../../chain/client.ts';
import { proxyVerdict, type ProxyVerdict } from '../../domain/revenue.ts';
import { subjectFor, type EventData, type PoolEvent } from '../../schemas/catalog.ts';
import type { EventStore, ReadOptions } from '../../streams/eventStore.ts';

/** Subject of the proxy checks. */
export const PROXY_CHECKS_SUBJECT = subjectFor('chain', 'proxies');

/** Index of `worker_fee_per_token` in the results of `get_cur_params` (0-based; the 5th of 14). */
const WORKER_FEE_PER_TOKEN_INDEX = 4;
/** Index of `proxy_sc_hash` in the results of `get_cur_params` (0-based; the 12th of 14); `worker_sc_hash` follows it. */
const PROXY_SC_HASH_INDEX = 11;

/** What the pool reads of a Cocoon root's current params. Hashes are hex; the fee nanoTON per adjusted token. */
export interface CocoonRootParams {
  paramsVersion: number;
  workerFeePerToken: bigint;
  proxyCodeHash: string;
  workerCodeHash: string;
}

/**
 * Runs the root's `get_cur_params` (ONE chain call) and returns its params version, worker fee and
 * proxy and worker code hashes (../shared/cocoon/code-hashes.json `get_methods.root`).
 * @throws CocoonRootError when the get-method fails or has another shape; ChainUnavailableError.
 */
export async function readCocoonRootParams(reader: Pick<ChainReader, 'runGetMethod'>, root: Address): Promise<CocoonRootParams> {
  const r = await reader.runGetMethod(root, 'get_cur_params');
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new CocoonRootError(`Cocoon root ${root.toString()}: get_cur_params failed with exit code ${r.exitCode}`);
  try {
    const paramsVersion = r.stack.readNumber();
    r.stack.skip(WORKER_FEE_PER_TOKEN_INDEX - 1);
    const workerFeePerToken = r.stack.readBigNumber();
    r.stack.skip(PROXY_SC_HASH_INDEX - WORKER_FEE_PER_TOKEN_INDEX - 1);
    const proxyCodeHash = hex(r.stack.readBigNumber());
    const workerCodeHash = hex(r.stack.readBigNumber());
    if (workerFeePerToken < 0n) throw new Error(`worker_fee_per_token ${workerFeePerToken} is negative`);
    return { paramsVersion, workerFeePerToken, proxyCodeHash, workerCodeHash };
  } catch (err) {
    throw new CocoonRootError(`Cocoon root ${root.toString()}: get_cur_params returned no params (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** A recorded verdict on a payout sender, with the fee it recorded. */
export interface ProxyInfo {
  verdict: ProxyVerdict;
  /** the proxy's worker_fee_per_token, nanoTON per adjusted token; null when refused or not known */
  workerFeePerToken: bigint | null;
}

/** The root's get-method did not answer with params (exit code, or a stack of another shape). */
export class CocoonRootError extends Error {
  override name = 'CocoonRootError';
}

type Check = EventData<'CocoonProxyChecked'>;

const hex = (b: Buffer | bigint) => (typeof b === 'bigint' ? b.toString(16).padStart(64, '0') : b.toString('hex'));

/** See the module comment. Create with {@link openProxyAuthenticity}. */
export class ProxyAuthenticity {
  /** verdict and fee per sender (raw address), from recorded checks */
  private readonly verdicts = new Map<string, ProxyInfo>();
  /** proxy code hash (hex) per params version of the root, from recorded checks and root reads */
  private readonly rootHashes = new Map<number, string>();
  /** worker_fee_per_token (nanoTON) per params version, where known (root reads, recorded genuine checks) */
  private readonly rootFees = new Map<number, bigint>();

  /** Use {@link openProxyAuthenticity}. */
  constructor(
    private readonly reader: Pick<ChainReader, 'getAccount' | 'runGetMethod' | 'chainTime'>,
    readonly root: Address,
  ) {}

  /** The recorded verdict for `sender`, or undefined when it was never checked. */
  verdict(sender: Address): ProxyVerdict | undefined {
    return this.verdicts.get(sender.toRawString())?.verdict;
  }

  /** The recorded verdict for `sender` with its fee (see the module comment), or undefined when never checked. */
  info(sender: Address): ProxyInfo | undefined {
    return this.verdicts.get(sender.toRawString());
  }

  /** The highest params version whose proxy code hash is `codeHash`, or null. */
  private matchedVersion(codeHash: string | null): number | null {
    let best: number | null = null;
    for (const [version, hash] of this.rootHashes) if (hash === codeHash && (best === null || version > best)) best = version;
    return best;
  }

  /**
   * Checks `sender` on chain (it must not have a verdict yet) and returns the CocoonProxyChecked
   * event to append; the verdict counts only once {@link remember}ed (after the append succeeded).
   * `txHash` (hex) is the payout transaction that asked.
   * @throws CocoonRootError when the root's get_cur_params fails or has another shape (the root
   *   address is wrong, or the root changed: loud, the indexer stops on it).
   * @throws ChainUnavailableError from the reader (retry later).
   */
  async check(sender: Address, txHash: string): Promise<Extract<PoolEvent, { type: 'CocoonProxyChecked' }>> {
    const account = await this.reader.getAccount(sender);
    const codeHash = account.codeHash ? hex(account.codeHash) : null;
    const known = this.matchedVersion(codeHash);
    if (known === null || !this.rootFees.has(known)) await this.readRoot();
    const verdict = proxyVerdict(codeHash, new Set(this.rootHashes.values()));
    const matched = verdict === 'genuine' ? this.matchedVersion(codeHash) : null;
    const rootProxyHashes = [...this.rootHashes].sort(([a], [b]) => a - b).map(([paramsVersion, proxyCodeHash]) => ({ paramsVersion, proxyCodeHash }));
    const data: Check = {
      root: this.root.toRawString(),
      sender: sender.toRawString(),
      verdict,
      accountState: account.state,
      codeHash,
      rootProxyHashes,
      workerFeePerTokenNanoton: matched === null ? null : (this.rootFees.get(matched)?.toString() ?? null),
      txHash,
      checkedAtChainTime: await this.reader.chainTime(),
    };
    return { type: 'CocoonProxyChecked', version: 1, id: `proxy-check:${data.root}:${data.sender}`, data };
  }

  /** Takes a recorded check into the cache (checks of another root are ignored). */
  remember(check: Check): void {
    if (check.root !== this.root.toRawString()) return;
    const fee = check.workerFeePerTokenNanoton == null ? null : BigInt(check.workerFeePerTokenNanoton);
    this.verdicts.set(check.sender, { verdict: check.verdict, workerFeePerToken: check.verdict === 'genuine' ? fee : null });
    for (const h of check.rootProxyHashes) this.rootHashes.set(h.paramsVersion, h.proxyCodeHash);
    const matched = check.verdict === 'genuine' ? this.matchedVersion(check.codeHash) : null;
    if (fee !== null && matched !== null && !this.rootFees.has(matched)) this.rootFees.set(matched, fee);
  }

  /** Reads the root unless a proxy code hash of it is known already. @throws as {@link check} */
  async knowRoot(): Promise<void> {
    if (!this.rootHashes.size) await this.readRoot();
  }

  /** Reads the root's current params: adds its (params_version, proxy_sc_hash, worker_fee_per_token). */
  private async readRoot(): Promise<void> {
    const params = await readCocoonRootParams(this.reader, this.root);
    this.rootHashes.set(params.paramsVersion, params.proxyCodeHash);
    this.rootFees.set(params.paramsVersion, params.workerFeePerToken);
  }
}

/**
 * A {@link ProxyAuthenticity} for the Cocoon root `root`, its cache loaded from the checks already
 * recorded in `store` (subject {@link PROXY_CHECKS_SUBJECT}). When none is recorded yet the root is
 * read now, so a wrong root address fails here rather than at the first payout.
 * @throws CocoonRootError, ChainUnavailableError (only when no check is recorded yet)
 */
export async function openProxyAuthenticity(options: {
  reader: Pick<ChainReader, 'getAccount' | 'runGetMethod' | 'chainTime'>;
  root: Address;
  store: EventStore;
  /** for a stored message that is not a valid event (default: throw); see ReadOptions.onInvalid */
  onInvalid?: ReadOptions['onInvalid'];
}): Promise<ProxyAuthenticity> {
  const authenticity = new ProxyAuthenticity(options.reader, options.root);
  for (const e of await options.store.readSubject(PROXY_CHECKS_SUBJECT, { onInvalid: options.onInvalid })) {
    if (e.type === 'CocoonProxyChecked') authenticity.remember(e.data);
  }
  await authenticity.knowRoot();
  return authenticity;
}
