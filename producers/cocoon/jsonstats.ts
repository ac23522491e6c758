/**
 * Parser of a Cocoon worker's `GET /jsonstats` body (cocoon runners/worker/WorkerRunner.cpp:663-730
 * @ b75d4447; JSON Schema in tests/fixtures/cocoon/worker-jsonstats.schema.json).
 *
 * Decisions on the format's traps (the reader, tdJson.ts, documents the string rule):
 * - Duplicated key: root_contract_config prints `cached_tokens_price_multiplier` twice, both times
 *   from the same field (RootContractConfig::store_stat, RootContractConfig.cpp:687/689), so the
 *   two values MUST BE EQUAL; a mismatch means the body did not come from that serializer and is
 *   rejected (`duplicate-key-mismatch`). Any other repeated key is rejected (`duplicate-key`).
 * - `stats.*` arrays: [0] is the cumulative total since the worker process started (kept in
 *   `totals`), [1..6] are decayed per-second rates over 1s/10s/1m/10m/1h/1d (kept in `rates`, for
 *   display only: contribution is computed from deltas of [0]).
 * - Addresses: friendly (`UQ…`/`EQ…`, or raw) in, raw `0:<64 lowercase hex>` out (domain/address.ts:
 *   workchain 0 or −1 only, and an input is never rewritten into another address).
 * - Strings: a control character anywhere is refused (`control-character`, tdJson.ts); strings are
 *   capped (`too-long`: model 1024 characters, every other string 256), so one worker's reply can
 *   neither break a read model nor blow up an event.
 * - Hashes: 64 hex digits of either case in, lowercase out.
 * - Integers are exact: nanoTON and token amounts are `bigint`; small counters/ids are `number`
 *   (rejected above 2^53 - 1).
 * - `wallet`, `root_contract_config`, `status.wallet_balance`, `status.ton_last_synced_at` may be
 *   absent (→ null). `status.git_commit`/`git_commit_data` are also accepted absent (→ null): the
 *   worker of b75d4447 prints them, earlier upstream versions did not.
 * - Unknown extra keys are ignored (a newer worker may add fields); missing known keys are rejected.
 */
import Type from 'typebox';
import { AddressError, toRawAddress } from '../../domain/address.ts';
import Compile from 'typebox/compile';
import { readTdJson, TdJsonError, type TdJsonDuplicateKey } from './tdJson.ts';

/** The 11 `stats.*` counters, in the serializer's order, with their camelCase names. */
export const STATS_KEYS = {
  queries: 'queries',
  success: 'success',
  failed: 'failed',
  bytes_received: 'bytesReceived',
  bytes_sent: 'bytesSent',
  time: 'timeSeconds',
  total_adjusted_tokens_used: 'totalAdjustedTokens',
  prompt_adjusted_tokens_used: 'promptAdjustedTokens',
  cached_adjusted_tokens_used: 'cachedAdjustedTokens',
  completion_adjusted_tokens_used: 'completionAdjustedTokens',
  reasoning_adjusted_tokens_used: 'reasoningAdjustedTokens',
} as const;

export type StatsWireKey = keyof typeof STATS_KEYS;
export type StatsKey = (typeof STATS_KEYS)[StatsWireKey];

/** Cumulative totals since the worker process started (`stats.*[0]`); reset to 0 by a restart. */
export type StatsTotals = Record<StatsKey, number>;
/** Decayed per-second rates `stats.*[1..6]`: time constants 1s, 10s, 1m, 10m, 1h, 1d. */
export type Rates6 = [number, number, number, number, number, number];
export type StatsRates = Record<StatsKey, Rates6>;

export interface WorkerStatus {
  /** Cocoon wallet balance in nanoTON; null before the wallet is initialised. */
  walletBalanceNanoton: bigint | null;
  /** The worker's TDX image hash is in the root contract's worker_hashes (true if the check is off). */
  actualImageHash: boolean;
  /** sha256(model) is in the root contract's model_hashes (true if the check is off). */
  actualModel: boolean;
  /** Unix seconds of the last root-contract state read (sync_utime); null before the first one. */
  tonLastSyncedAt: number | null;
  /** Hard-coded `true` by the worker (the real enable flag is only in /stats HTML). */
  enabled: boolean;
  gitCommit: string | null;
  /** git `%ci` date as printed, e.g. `2025-12-19 17:34:11 +0000` (wire key `git_commit_data`, sic). */
  gitCommitDate: string | null;
}

export interface WorkerWallet {
  /** Raw `0:<hex>` address of the worker's Cocoon wallet contract. */
  address: string;
  balanceNanoton: bigint;
  seqno: number;
  pendingTransactions: number;
  activeTransactions: number;
}

export interface WorkerLocalConfig {
  rootAddress: string;
  /** Raw address that Cocoon proxies pay this worker's earnings to (the pool address for a pool). */
  ownerAddress: string;
  /** Full model string, including `@commit:verity`. */
  model: string;
  /** Price coefficient, 1000 = 1.0x. */
  coefficient: number;
  checkProxyHash: boolean;
}

export interface RegisteredProxy {
  seqno: number;
  /** As printed by td::IPAddress, e.g. `[203.0.113.10:11002]` or `[invalid]`. */
  addressForClients: string;
  addressForWorkers: string;
}

export interface RootContractConfig {
  ownerAddress: string;
  proxyHashes: string[];
  registeredProxies: RegisteredProxy[];
  lastProxySeqno: number;
  workerHashes: string[];
  modelHashes: string[];
  version: number;
  structVersion: number;
  paramsVersion: number;
  uniqueId: number;
  isTest: boolean;
  /** nanoTON a client pays per adjusted token. */
  pricePerToken: bigint;
  /** nanoTON a worker earns per adjusted token. */
  workerFeePerToken: bigint;
  /** Multipliers, 10000 = 1.0x. */
  promptTokensPriceMultiplier: number;
  cachedTokensPriceMultiplier: number;
  completionTokensPriceMultiplier: number;
  reasoningTokensPriceMultiplier: number;
  proxyDelayBeforeCloseSeconds: number;
  clientDelayBeforeCloseSeconds: number;
  proxyMinStakeNanoton: bigint;
  clientMinStakeNanoton: bigint;
  proxyCodeHash: string;
  workerCodeHash: string;
  clientCodeHash: string;
}

/** One proxy contract this worker has talked to (WorkerProxyInfo::store_stats). Token counts are adjusted tokens. */
export interface WorkerProxyEntry {
  scInited: boolean;
  proxyScAddress: string;
  proxyPublicKey: string;
  /** Raw address of the worker contract for (this proxy, owner_address). */
  scAddress: string;
  /** Per (owner_address, proxy contract): shared by every worker with the same owner_address. */
  earnedTokensCommittedToBlockchain: bigint;
  earnedTokensCommittedToProxyDb: bigint;
  earnedTokensMaxKnown: bigint;
  /** Wire key `cached_out_tokens` (sic: tokens cashed out, read from the worker contract). */
  cashedOutTokens: bigint;
  /** Wire key `expected_cached_out_tokens` (sic). */
  expectedCashedOutTokens: bigint;
  /** A payout transaction is in flight. */
  runningRequest: boolean;
  paramsVersion: number;
}

/** A parsed `/jsonstats` body. */
export interface WorkerStats {
  status: WorkerStatus;
  totals: StatsTotals;
  rates: StatsRates;
  wallet: WorkerWallet | null;
  localConfig: WorkerLocalConfig;
  rootConfig: RootContractConfig | null;
  proxies: WorkerProxyEntry[];
}

export type JsonStatsErrorReason =
  | 'syntax'
  | 'non-finite'
  | 'duplicate-key'
  | 'duplicate-key-mismatch'
  | 'missing-key'
  | 'wrong-arity'
  | 'wrong-type'
  | 'negative'
  | 'out-of-range'
  | 'bad-hash'
  | 'bad-address'
  | 'control-character'
  | 'too-long';

/** Typed error of {@link parseJsonStats}: `reason` (machine-readable) and `path` (e.g. `stats.queries`). */
export class JsonStatsError extends Error {
  constructor(
    readonly reason: JsonStatsErrorReason,
    readonly path: string,
    message: string,
  ) {
    super(`jsonstats ${reason} at ${path || '<root>'}: ${message}`);
    this.name = 'JsonStatsError';
  }
}

// ---- wire schema (snake_case, as printed) ----

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** An integer literal that fits a JS number (counters, versions, unix seconds). */
const SmallUint = Type.BigInt({ minimum: 0n, maximum: MAX_SAFE });
/** An integer literal kept exact (nanoTON, token amounts: int64/uint64 in the worker). */
const BigUint = Type.BigInt({ minimum: 0n });
const Hash = Type.String({ pattern: '^[0-9A-Fa-f]{64}$' });
/** Any string but the model: git data, addresses, `[ip:port]`. */
const Text = Type.String({ maxLength: 256 });
const Stat = Type.Array(Type.Number({ minimum: 0 }), { minItems: 7, maxItems: 7 });

const WireStats = Type.Object(
  Object.fromEntries(Object.keys(STATS_KEYS).map((k) => [k, Stat])) as Record<StatsWireKey, typeof Stat>,
);

const WireJsonStats = Type.Object({
  status: Type.Object({
    wallet_balance: Type.Optional(BigUint),
    actual_image_hash: Type.Boolean(),
    actual_model: Type.Boolean(),
    ton_last_synced_at: Type.Optional(SmallUint),
    enabled: Type.Boolean(),
    git_commit: Type.Optional(Text),
    git_commit_data: Type.Optional(Text),
  }),
  stats: WireStats,
  wallet: Type.Optional(
    Type.Object({
      address: Text,
      balance: BigUint,
      seqno: SmallUint,
      pending_transactions_cnt: SmallUint,
      active_transactions_cnt: SmallUint,
    }),
  ),
  localconfig: Type.Object({
    root_address: Text,
    owner_address: Text,
    model: Type.String({ maxLength: 1024 }),
    coefficient: SmallUint,
    check_proxy_hash: Type.Boolean(),
  }),
  root_contract_config: Type.Optional(
    Type.Object({
      owner_address: Text,
      proxy_hashes: Type.Array(Hash),
      registered_proxies: Type.Array(
        Type.Object({ seqno: SmallUint, address_for_clients: Text, address_for_workers: Text }),
      ),
      last_proxy_seqno: SmallUint,
      worker_hashes: Type.Array(Hash),
      model_hashes: Type.Array(Hash),
      version: SmallUint,
      struct_version: SmallUint,
      params_version: SmallUint,
      unique_id: SmallUint,
      is_test: Type.Boolean(),
      price_per_token: BigUint,
      worker_fee_per_token: BigUint,
      prompt_tokens_price_multiplier: SmallUint,
      cached_tokens_price_multiplier: SmallUint,
      completion_tokens_price_multiplier: SmallUint,
      reasoning_tokens_price_multiplier: SmallUint,
      proxy_delay_before_close: SmallUint,
      client_delay_before_close: SmallUint,
      proxy_min_stake: BigUint,
      client_min_stake: BigUint,
      proxy_code_hash: Hash,
      worker_code_hash: Hash,
      client_code_hash: Hash,
    }),
  ),
  proxies: Type.Array(
    Type.Object({
      sc_inited: Type.Boolean(),
      proxy_sc_address: Text,
      proxy_public_key: Hash,
      sc_address: Text,
      earned_tokens_committed_to_blockchain: BigUint,
      earned_tokens_committed_to_proxy_db: BigUint,
      earned_tokens_max_known: BigUint,
      cached_out_tokens: BigUint,
      expected_cached_out_tokens: BigUint,
      running_request: Type.Boolean(),
      params_version: SmallUint,
    }),
  ),
});

/** {@link WireJsonStats} compiled once: a poll checks a body against it (10,000 workers: ~1,000 bodies a second). */
const wireValidator = Compile(WireJsonStats);

type Wire = Type.Static<typeof WireJsonStats>;

const ALLOWED_DUPLICATE = 'root_contract_config.cached_tokens_price_multiplier';

/**
 * Parses a worker's `/jsonstats` body (the exact bytes of the HTTP reply, leading "\n" included)
 * into {@link WorkerStats}. See the module comment for every trap and the decision taken.
 *
 * @throws JsonStatsError with `reason`:
 *   `syntax` (not this serializer's JSON), `non-finite` (nan/inf anywhere),
 *   `duplicate-key` / `duplicate-key-mismatch`, `missing-key`, `wrong-arity` (a stats array not of
 *   7 numbers), `wrong-type`, `negative` (any negative count, total, rate or amount),
 *   `out-of-range` (a small integer above 2^53-1), `bad-hash`, `bad-address`, `control-character`,
 *   `too-long` (a string over its cap).
 */
export function parseJsonStats(body: string): WorkerStats {
  let doc;
  try {
    doc = readTdJson(body);
  } catch (e) {
    if (e instanceof TdJsonError) throw new JsonStatsError(e.reason, e.path, e.message);
    throw e;
  }
  for (const dup of doc.duplicateKeys) checkDuplicate(dup);
  const wire = doc.value;
  if (!wireValidator.Check(wire)) throw shapeError(wire);
  return fromWire(wire);
}

function checkDuplicate(dup: TdJsonDuplicateKey): void {
  if (dup.path !== ALLOWED_DUPLICATE) throw new JsonStatsError('duplicate-key', dup.path, 'key printed twice');
  if (dup.first !== dup.second) {
    throw new JsonStatsError(
      'duplicate-key-mismatch',
      dup.path,
      `printed twice with different values (${String(dup.first)} then ${String(dup.second)}); the worker prints the same field twice`,
    );
  }
}

const KEYWORD_REASON: Record<string, JsonStatsErrorReason> = {
  required: 'missing-key',
  minItems: 'wrong-arity',
  maxItems: 'wrong-arity',
  minimum: 'negative',
  maximum: 'out-of-range',
  pattern: 'bad-hash',
  maxLength: 'too-long',
};

function shapeError(wire: unknown): JsonStatsError {
  const errors = wireValidator.Errors(wire);
  // report the most specific error: a missing key or wrong arity explains the rest
  const order = ['required', 'minItems', 'maxItems', 'minimum', 'maximum', 'pattern', 'maxLength'];
  const first = [...errors].sort((a, b) => rank(order, a.keyword) - rank(order, b.keyword))[0];
  if (!first) return new JsonStatsError('wrong-type', '', 'does not match the /jsonstats shape');
  const path = first.instancePath.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replaceAll('/', '.');
  return new JsonStatsError(KEYWORD_REASON[first.keyword] ?? 'wrong-type', path, first.message);
}

function rank(order: string[], keyword: string): number {
  const i = order.indexOf(keyword);
  return i < 0 ? order.length : i;
}

function fromWire(w: Wire): WorkerStats {
  const totals = {} as StatsTotals;
  const rates = {} as StatsRates;
  for (const [wireKey, key] of Object.entries(STATS_KEYS) as [StatsWireKey, StatsKey][]) {
    const [total, ...decayed] = w.stats[wireKey];
    totals[key] = total!;
    rates[key] = decayed as Rates6;
  }
  const rc = w.root_contract_config;
  return {
    status: {
      walletBalanceNanoton: w.status.wallet_balance ?? null,
      actualImageHash: w.status.actual_image_hash,
      actualModel: w.status.actual_model,
      tonLastSyncedAt: w.status.ton_last_synced_at === undefined ? null : Number(w.status.ton_last_synced_at),
      enabled: w.status.enabled,
      gitCommit: w.status.git_commit ?? null,
      gitCommitDate: w.status.git_commit_data ?? null,
    },
    totals,
    rates,
    wallet: w.wallet
      ? {
          address: rawAddress(w.wallet.address, 'wallet.address'),
          balanceNanoton: w.wallet.balance,
          seqno: Number(w.wallet.seqno),
          pendingTransactions: Number(w.wallet.pending_transactions_cnt),
          activeTransactions: Number(w.wallet.active_transactions_cnt),
        }
      : null,
    localConfig: {
      rootAddress: rawAddress(w.localconfig.root_address, 'localconfig.root_address'),
      ownerAddress: rawAddress(w.localconfig.owner_address, 'localconfig.owner_address'),
      model: w.localconfig.model,
      coefficient: Number(w.localconfig.coefficient),
      checkProxyHash: w.localconfig.check_proxy_hash,
    },
    rootConfig: rc
      ? {
          ownerAddress: rawAddress(rc.owner_address, 'root_contract_config.owner_address'),
          proxyHashes: rc.proxy_hashes.map(lower),
          registeredProxies: rc.registered_proxies.map((p) => ({
            seqno: Number(p.seqno),
            addressForClients: p.address_for_clients,
            addressForWorkers: p.address_for_workers,
          })),
          lastProxySeqno: Number(rc.last_proxy_seqno),
          workerHashes: rc.worker_hashes.map(lower),
          modelHashes: rc.model_hashes.map(lower),
          version: Number(rc.version),
          structVersion: Number(rc.struct_version),
          paramsVersion: Number(rc.params_version),
          uniqueId: Number(rc.unique_id),
          isTest: rc.is_test,
          pricePerToken: rc.price_per_token,
          workerFeePerToken: rc.worker_fee_per_token,
          promptTokensPriceMultiplier: Number(rc.prompt_tokens_price_multiplier),
          cachedTokensPriceMultiplier: Number(rc.cached_tokens_price_multiplier),
          completionTokensPriceMultiplier: Number(rc.completion_tokens_price_multiplier),
          reasoningTokensPriceMultiplier: Number(rc.reasoning_tokens_price_multiplier),
          proxyDelayBeforeCloseSeconds: Number(rc.proxy_delay_before_close),
          clientDelayBeforeCloseSeconds: Number(rc.client_delay_before_close),
          proxyMinStakeNanoton: rc.proxy_min_stake,
          clientMinStakeNanoton: rc.client_min_stake,
          proxyCodeHash: lower(rc.proxy_code_hash),
          workerCodeHash: lower(rc.worker_code_hash),
          clientCodeHash: lower(rc.client_code_hash),
        }
      : null,
    proxies: w.proxies.map((p, i) => ({
      scInited: p.sc_inited,
      proxyScAddress: rawAddress(p.proxy_sc_address, `proxies[${i}].proxy_sc_address`),
      proxyPublicKey: lower(p.proxy_public_key),
      scAddress: rawAddress(p.sc_address, `proxies[${i}].sc_address`),
      earnedTokensCommittedToBlockchain: p.earned_tokens_committed_to_blockchain,
      earnedTokensCommittedToProxyDb: p.earned_tokens_committed_to_proxy_db,
      earnedTokensMaxKnown: p.earned_tokens_max_known,
      cashedOutTokens: p.cached_out_tokens,
      expectedCashedOutTokens: p.expected_cached_out_tokens,
      runningRequest: p.running_request,
      paramsVersion: Number(p.params_version),
    })),
  };
}

function lower(hex: string): string {
  return hex.toLowerCase();
}

/** Friendly (`UQ…`/`EQ…`, either base64 alphabet) or raw address → raw `0:<lowercase hex>` (domain/address.ts). */
function rawAddress(text: string, path: string): string {
  try {
    return toRawAddress(text);
  } catch (e) {
    if (e instanceof AddressError) throw new JsonStatsError('bad-address', path, e.message);
    throw e;
  }
}
