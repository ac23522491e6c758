/**
 * Writes a worker's `/jsonstats` body byte for byte as the real worker does:
 * WorkerRunner::http_generate_json_stats (cocoon runners/worker/WorkerRunner.cpp:663-730 @ b75d4447)
 * through SimpleJsonSerializer (runners/helpers/SimpleJsonSerializer.hpp): every element on its
 * own line after `",\n"`/`"\n"` and 2-space indentation (so the body starts with "\n" and has no
 * trailing newline), strings raw (never escaped), doubles `%.6f`, hashes uppercase, addresses
 * user-friendly non-bounceable mainnet (`UQ…`, block::StdAddress::rserialize(true)), and
 * `cached_tokens_price_multiplier` printed twice (RootContractConfig.cpp:687/689).
 */
import { Address } from '@ton/core';
import { STATS_KEYS, type WorkerStats } from '../producers/cocoon/jsonstats.ts';
import { printfFixed } from './printfFixed.ts';

/** The same layout rules as cocoon's SimpleJsonSerializer. */
class LayoutWriter {
  private out = '';
  private offset = 0;
  private readonly hasElements: boolean[] = [false];

  private comma(): void {
    const last = this.hasElements.length - 1;
    this.out += this.hasElements[last] ? ',\n' : '\n';
    this.hasElements[last] = true;
    this.out += ' '.repeat(this.offset);
  }

  open(bracket: '{' | '[', name?: string): void {
    this.comma();
    this.out += name === undefined ? bracket : `"${name}": ${bracket}`;
    this.offset += 2;
    this.hasElements.push(false);
  }

  close(bracket: '}' | ']'): void {
    this.offset -= 2;
    this.out += `\n${' '.repeat(this.offset)}${bracket}`;
    this.hasElements.pop();
  }

  /** An element whose value is already printed (`raw`), named inside objects. */
  element(name: string | undefined, raw: string): void {
    this.comma();
    this.out += name === undefined ? raw : `"${name}": ${raw}`;
  }

  text(): string {
    return this.out;
  }
}

const str = (s: string): string => `"${s}"`; // not escaped, like the worker
const int = (n: number | bigint): string => n.toString();
const hash = (hex: string): string => str(hex.toUpperCase());
const addr = (raw: string): string =>
  str(Address.parse(raw).toString({ urlSafe: true, bounceable: false, testOnly: false }));

/**
 * Serializes {@link WorkerStats} (the shape `parseJsonStats` returns) into the worker's `/jsonstats`
 * body. Null `walletBalanceNanoton`/`tonLastSyncedAt`/`gitCommit`/`gitCommitDate`/`wallet`/
 * `rootConfig` are omitted like the worker omits them. Round trip:
 * `serializeJsonStats(parseJsonStats(body)) === body` for any body the worker of b75d4447 prints
 * with mainnet non-bounceable addresses.
 *
 * @throws RangeError if a stats value is not finite; Error from @ton/core for an invalid address.
 */
export function serializeJsonStats(stats: WorkerStats): string {
  const w = new LayoutWriter();
  const { status } = stats;
  w.open('{');

  w.open('{', 'status');
  if (status.walletBalanceNanoton !== null) w.element('wallet_balance', int(status.walletBalanceNanoton));
  w.element('actual_image_hash', String(status.actualImageHash));
  w.element('actual_model', String(status.actualModel));
  if (status.tonLastSyncedAt !== null) w.element('ton_last_synced_at', int(status.tonLastSyncedAt));
  w.element('enabled', String(status.enabled));
  if (status.gitCommit !== null) w.element('git_commit', str(status.gitCommit));
  if (status.gitCommitDate !== null) w.element('git_commit_data', str(status.gitCommitDate));
  w.close('}');

  w.open('{', 'stats');
  for (const [wireKey, key] of Object.entries(STATS_KEYS) as [string, keyof typeof stats.totals][]) {
    w.open('[', wireKey);
    for (const v of [stats.totals[key], ...stats.rates[key]]) w.element(undefined, printfFixed(v, 6));
    w.close(']');
  }
  w.close('}');

  if (stats.wallet) {
    const wallet = stats.wallet;
    w.open('{', 'wallet');
    w.element('address', addr(wallet.address));
    w.element('balance', int(wallet.balanceNanoton));
    w.element('seqno', int(wallet.seqno));
    w.element('pending_transactions_cnt', int(wallet.pendingTransactions));
    w.element('active_transactions_cnt', int(wallet.activeTransactions));
    w.close('}');
  }

  const lc = stats.localConfig;
  w.open('{', 'localconfig');
  w.element('root_address', addr(lc.rootAddress));
  w.element('owner_address', addr(lc.ownerAddress));
  w.element('model', str(lc.model));
  w.element('coefficient', int(lc.coefficient));
  w.element('check_proxy_hash', String(lc.checkProxyHash));
  w.close('}');

  const rc = stats.rootConfig;
  if (rc) {
    w.open('{', 'root_contract_config');
    w.element('owner_address', addr(rc.ownerAddress));
    w.open('[', 'proxy_hashes');
    for (const h of rc.proxyHashes) w.element(undefined, hash(h));
    w.close(']');
    w.open('[', 'registered_proxies');
    for (const p of rc.registeredProxies) {
      w.open('{');
      w.element('seqno', int(p.seqno));
      w.element('address_for_clients', str(p.addressForClients));
      w.element('address_for_workers', str(p.addressForWorkers));
      w.close('}');
    }
    w.close(']');
    w.element('last_proxy_seqno', int(rc.lastProxySeqno));
    w.open('[', 'worker_hashes');
    for (const h of rc.workerHashes) w.element(undefined, hash(h));
    w.close(']');
    w.open('[', 'model_hashes');
    for (const h of rc.modelHashes) w.element(undefined, hash(h));
    w.close(']');
    w.element('version', int(rc.version));
    w.element('struct_version', int(rc.structVersion));
    w.element('params_version', int(rc.paramsVersion));
    w.element('unique_id', int(rc.uniqueId));
    w.element('is_test', String(rc.isTest));
    w.element('price_per_token', int(rc.pricePerToken));
    w.element('worker_fee_per_token', int(rc.workerFeePerToken));
    w.element('prompt_tokens_price_multiplier', int(rc.promptTokensPriceMultiplier));
    w.element('cached_tokens_price_multiplier', int(rc.cachedTokensPriceMultiplier));
    w.element('completion_tokens_price_multiplier', int(rc.completionTokensPriceMultiplier));
    w.element('cached_tokens_price_multiplier', int(rc.cachedTokensPriceMultiplier));
    w.element('reasoning_tokens_price_multiplier', int(rc.reasoningTokensPriceMultiplier));
    w.element('proxy_delay_before_close', int(rc.proxyDelayBeforeCloseSeconds));
    w.element('client_delay_before_close', int(rc.clientDelayBeforeCloseSeconds));
    w.element('proxy_min_stake', int(rc.proxyMinStakeNanoton));
    w.element('client_min_stake', int(rc.clientMinStakeNanoton));
    w.element('proxy_code_hash', hash(rc.proxyCodeHash));
    w.element('worker_code_hash', hash(rc.workerCodeHash));
    w.element('client_code_hash', hash(rc.clientCodeHash));
    w.close('}');
  }

  w.open('[', 'proxies');
  for (const p of stats.proxies) {
    w.open('{');
    w.element('sc_inited', String(p.scInited));
    w.element('proxy_sc_address', addr(p.proxyScAddress));
    w.element('proxy_public_key', hash(p.proxyPublicKey));
    w.element('sc_address', addr(p.scAddress));
    w.element('earned_tokens_committed_to_blockchain', int(p.earnedTokensCommittedToBlockchain));
    w.element('earned_tokens_committed_to_proxy_db', int(p.earnedTokensCommittedToProxyDb));
    w.element('earned_tokens_max_known', int(p.earnedTokensMaxKnown));
    w.element('cached_out_tokens', int(p.cashedOutTokens));
    w.element('expected_cached_out_tokens', int(p.expectedCashedOutTokens));
    w.element('running_request', String(p.runningRequest));
    w.element('params_version', int(p.paramsVersion));
    w.close('}');
  }
  w.close(']');

  w.close('}');
  return w.text();
}
