/**
 * The pool's configuration: embedded defaults (a newcomer's `npm start` needs nothing), then an
 * optional JSON file (`--config`), then the environment (NATS_URL, NATS_USER, NATS_PASSWORD,
 * DATABASE_URL, PORT, POOL_DATA_DIR, POOL_WORKER_BASE_PORT, POOL_CHAIN, POOL_OPERATOR_MNEMONIC_FILE),
 * then command-line flags. The defaults of `chain` depend on the network chosen (TON Center URLs,
 * Cocoon root, request rate: {@link networkDefaults}). The result is validated as a whole; bad
 * values stop the start with one message listing every one of them, each naming its setting and value.
 *
 * No secret is ever part of the configuration: it names the environment variable (or file) that
 * holds the TON Center API key and the operator mnemonic, read where they are used (chain/keys.ts).
 */
import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import Compile from 'typebox/compile';
import { Settings } from 'typebox/system';
import { toRawAddress } from '../domain/address.ts';
import { DEFAULT_REWARD_PARAMS } from '../domain/rewards.ts';
import { DEFAULT_DIVERGENCE_PARAMS } from '../domain/rewardsV2.ts';
import { DEFAULT_TELEMETRY_LIMITS } from '../domain/telemetry.ts';
import { DEFAULT_POOL_ID, poolNames } from '../streams/names.ts';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

const WorkerEntry = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    /** base URL of the worker's HTTP port, e.g. http://10.0.0.5:12000 */
    url: Type.String({ pattern: '^https?://' }),
    /** participant wallet the worker's contribution counts for (any address form) */
    participant: Type.String(),
    /** the worker runner's log file (task completion lines) */
    logPath: Type.Optional(Type.String()),
    accessHash: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Which TON the pool runs on: `local` (@ton/sandbox in-process), `devnet` (the pool's own TON Center-compatible endpoint over @ton/sandbox, devnet/), `testnet`, `mainnet` (TON Center). */
export const NETWORKS = ['local', 'devnet', 'testnet', 'mainnet'] as const;
export type Network = (typeof NETWORKS)[number];

/** An environment variable's name (POSIX: letters, digits, underscore, not starting with a digit). */
const EnvName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' });
/** A TON address in any form; checked with toRawAddress. */
const AddressOrNull = Type.Union([Type.String(), Type.Null()]);

const ChainConfig = Type.Object(
  {
    network: Type.Enum([...NETWORKS]),
    /** uint32 the contracts' addresses derive from, with the operator wallet (chain/poolContracts.ts) */
    poolId: Type.Integer({ minimum: 0, maximum: 4294967295 }),
    tonCenter: Type.Object(
      {
        /**
         * base URL of a TON Center instance serving API v2 at `<url>/api/v2` (TonClient: sends,
         * get-methods, account states) and API v3 at `<url>/api/v3` (transactions, masterchain
         * info), e.g. https://toncenter.com; null on local, and on devnet for the pool's own endpoint
         */
        url: Type.Union([Type.String(), Type.Null()]),
        /** NAME of the environment variable holding the API key (the key itself is never configured) */
        apiKeyEnv: EnvName,
        /** request rate the client keeps to; TON Center allows 1 without a key, 10/25/100 with one by plan */
        requestsPerSecond: Type.Number({ exclusiveMinimum: 0 }),
      },
      { additionalProperties: false },
    ),
    /** the pool's contracts on testnet/mainnet (written by `pool deploy`); any address form */
    contracts: Type.Object({ distribution: AddressOrNull, operator: AddressOrNull, registry: AddressOrNull }, { additionalProperties: false }),
    /** the Cocoon root contract (proxy code hashes for revenue authenticity); null = none known */
    cocoonRoot: AddressOrNull,
    /** the operator's hot wallet: owner of the contracts, sender of root commits and payouts */
    wallet: Type.Object(
      {
        kind: Type.Enum(['highload-v3']),
        /** highload wallet v3 subwallet id (uint32; part of the wallet's address) */
        subwalletId: Type.Integer({ minimum: 0, maximum: 4294967295 }),
        /** highload wallet v3 timeout, seconds (< 2^22): how long a signed message stays valid */
        timeoutSeconds: Type.Integer({ minimum: 1, maximum: 4194303 }),
        /** NAME of the environment variable holding the 24-word mnemonic */
        mnemonicEnv: EnvName,
        /** a file holding the mnemonic instead (mode 0600 or stricter); null = use mnemonicEnv */
        mnemonicFile: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    devnet: Type.Object(
      {
        /** seconds a block waits before it is final (the endpoint's synthetic masterchain) */
        finalityLagSeconds: Type.Number({ minimum: 0 }),
        /** fault injection of the pool's own endpoint (devnet/faults.ts DEVNET_FAULT_PROFILES): `none`, or `all` at once */
        faults: Type.Union([Type.Literal('none'), Type.Literal('all')]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const PoolConfigSchema = Type.Object(
  {
    /** where the embedded stores live: nats/, pg/, chain/, workers/ */
    dataDir: Type.String({ minLength: 1 }),
    /**
     * the pool's id on NATS: its stream, buckets, subject prefix, inboxes and users derive from it
     * (streams/names.ts), so pools can share a cluster; `pool` (default) keeps the names of every
     * earlier release. Not the chain's pool id (`chain.poolId`).
     */
    poolId: Type.String({ pattern: '^[a-z][a-z0-9-]{0,30}$' }),
    /** an existing nats-server (>= 2.12); null = start our own */
    natsUrl: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    /**
     * replicas of the pool's streams and buckets on natsUrl's cluster: 3 on the 3-node cluster of
     * infra/nats/cluster-node*.conf (appends acknowledged at quorum); 1 on a single server (and on
     * the pool's own child server, whatever this says)
     */
    natsReplicas: Type.Union([Type.Literal(1), Type.Literal(3), Type.Literal(5)]),
    /** credentials for natsUrl (infra/nats/accounts.conf user `pool`) */
    natsUser: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    natsPassword: Type.Union([Type.String(), Type.Null()]),
    /** PostgreSQL for read models; null = the embedded PostgreSQL server on <dataDir>/pg (db/embedded.ts) */
    databaseUrl: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    api: Type.Object(
      {
        host: Type.String(),
        port: Port,
        /**
         * browser origins allowed to call the read API (CORS): exact origins `https://pool.example`
         * (scheme, host, optional port; no path) or `*` for any; [] sends no CORS header
         */
        cors: Type.Object({ origins: Type.Array(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
    epochSeconds: Type.Number({ minimum: 1 }),
    pollIntervalSeconds: Type.Number({ exclusiveMinimum: 0 }),
    /** consecutive failed polls before WorkerWentOffline is raised */
    offlineAfterMisses: Type.Integer({ minimum: 1 }),
    telemetry: Type.Object(
      {
        /**
         * Per-worker ceiling: adjusted tokens per second of wall time since the worker's last accepted
         * sample; a sample claiming more is an anomaly and credits nothing (domain/telemetry.ts).
         */
        maxAdjustedTokensPerSecond: Type.Number({ exclusiveMinimum: 0 }),
        /**
         * adjusted tokens a worker's `/jsonstats` `cached_out_tokens` may exceed its worker contract's
         * on-chain `tokens` by before a WorkerTokensDiverged (producers/chain/workerTokens.ts); default 0:
         * the chain is read after the sample and never decreases
         */
        cashedOutToleranceTokens: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    rewards: Type.Object(
      {
        operatorFeeBps: Type.Integer({ minimum: 0, maximum: 10000 }),
        minUptimeBps: Type.Integer({ minimum: 0, maximum: 10000 }),
        weightTokensBps: Type.Integer({ minimum: 0, maximum: 10000 }),
        weightUptimeBps: Type.Integer({ minimum: 0, maximum: 10000 }),
        weightTasksBps: Type.Integer({ minimum: 0, maximum: 10000 }),
        weightQualityBps: Type.Integer({ minimum: 0, maximum: 10000 }),
        maxTaskSeconds: Type.Integer({ minimum: 1 }),
        /**
         * reward formula: 1 (claimed telemetry, domain/rewards.ts) or 2 (tokens capped by what the network
         * paid each member through its forwarder, domain/rewardsV2.ts); recorded in each RewardsComputed
         */
        formulaVersion: Type.Union([Type.Literal(1), Type.Literal(2)]),
        /** v2: share of a member's cumulative claim that may stay unpaid before a ContributionDivergenceDetected, basis points */
        divergenceToleranceBps: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
        /** v2: unpaid claimed tokens always tolerated (payout lag), adjusted tokens (domain/rewardsV2.ts) */
        divergenceGraceTokens: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    payouts: Type.Object(
      {
        batchSize: Type.Integer({ minimum: 1, maximum: 200 }),
        maxBatchesInFlight: Type.Integer({ minimum: 1, maximum: 64 }),
        resubmitAfterSeconds: Type.Number({ minimum: 1 }),
        /** refusals by the distribution contract of one root commit or batch before its epoch halts (EpochHalted) */
        maxRefusedAttempts: Type.Integer({ minimum: 1, maximum: 255 }),
      },
      { additionalProperties: false },
    ),
    /** operator alerts delivered to webhooks (read-api/alerts.ts, alerts/dispatcher.ts) */
    alerts: Type.Object(
      {
        /** the variable holding the operator's bearer token for /api/v1/alerts (unset: those routes answer 503) */
        operatorTokenEnv: EnvName,
        /** attempts of one webhook delivery before it is recorded failed */
        attempts: Type.Integer({ minimum: 1, maximum: 20 }),
        /** deadline of one attempt, seconds */
        attemptTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 120 }),
        /** wait before the first retry, seconds; doubled before each next one */
        firstRetrySeconds: Type.Number({ minimum: 0, maximum: 600 }),
      },
      { additionalProperties: false },
    ),
    /** participants' tax exports (GET /api/v1/participants/:address/export, read-api/routes/exports.ts) */
    exports: Type.Object(
      {
        /**
         * optional CSV `date,price` (one row per UTC day YYYY-MM-DD, price of 1 TON in `fiatCurrency`) the
         * operator supplies; nothing is fetched. Read and checked at start; null = no fiat column values
         */
        pricesFile: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
        /** ISO 4217 code of the price file's currency (Koinly Net Worth Currency) */
        fiatCurrency: Type.String({ pattern: '^[A-Z]{3}$' }),
      },
      { additionalProperties: false },
    ),
    /** real workers to poll; empty = run emulated ones */
    workers: Type.Array(WorkerEntry),
    emulator: Type.Object(
      {
        /** emulated workers, all served by one HTTP server in the emulator process (emulator/workerServer.ts) */
        workers: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        /** emulated participants (the workers are spread over them); the pool's registry admits its maxParticipants (default 1,000) */
        participants: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        /** the emulated workers' one port (worker i at http://127.0.0.1:<basePort>/w<i>); 0 = a free port */
        basePort: Port,
        seed: Type.Integer({ minimum: 0 }),
        /** mean completed requests per second per worker */
        requestsPerSecond: Type.Number({ minimum: 0 }),
        /** restarts, stalls and offline periods */
        faults: Type.Boolean(),
        /** nanoTON the emulated proxy pays per adjusted token */
        workerFeePerToken: Type.Integer({ minimum: 1 }),
        /** how often the emulated proxy looks at owed earnings, seconds */
        proxyPayIntervalSeconds: Type.Number({ exclusiveMinimum: 0 }),
        /**
         * nanoTON an owner's owed earnings must reach for the emulated proxy to pay them unasked; default
         * 10 TON, Cocoon's proxy `min_worker_payout_sum` (ProxyRunner.hpp:35-37, compared in
         * ProxyWorkerInfo.cpp:50; ../shared/cocoon/runtime-constants.json). A worker's `/request/payout` pays at once.
         */
        autoPayThresholdNanoton: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    chain: ChainConfig,
  },
  { additionalProperties: false },
);

export type PoolConfig = Static<typeof PoolConfigSchema>;

export const DEFAULT_CONFIG: PoolConfig = {
  dataDir: './var',
  poolId: DEFAULT_POOL_ID,
  natsUrl: null,
  natsReplicas: 1,
  natsUser: null,
  natsPassword: null,
  databaseUrl: null,
  api: { host: '127.0.0.1', port: 8080, cors: { origins: [] } },
  epochSeconds: 7 * 24 * 3600,
  pollIntervalSeconds: 2,
  offlineAfterMisses: 3,
  telemetry: { ...DEFAULT_TELEMETRY_LIMITS, cashedOutToleranceTokens: 0 },
  rewards: { ...DEFAULT_REWARD_PARAMS, formulaVersion: 2, ...DEFAULT_DIVERGENCE_PARAMS },
  payouts: { batchSize: 200, maxBatchesInFlight: 4, resubmitAfterSeconds: 30, maxRefusedAttempts: 3 },
  alerts: { operatorTokenEnv: 'POOL_OPERATOR_TOKEN', attempts: 5, attemptTimeoutSeconds: 10, firstRetrySeconds: 1 },
  exports: { pricesFile: null, fiatCurrency: 'USD' },
  workers: [],
  emulator: {
    workers: 8,
    participants: 5,
    basePort: 12000,
    seed: 1,
    requestsPerSecond: 2,
    faults: true,
    workerFeePerToken: 1000,
    proxyPayIntervalSeconds: 3,
    autoPayThresholdNanoton: 10_000_000_000,
  },
  chain: {
    network: 'local',
    poolId: 1,
    tonCenter: { url: null, apiKeyEnv: 'TONCENTER_API_KEY', requestsPerSecond: 1 },
    contracts: { distribution: null, operator: null, registry: null },
    cocoonRoot: null,
    wallet: { kind: 'highload-v3', subwalletId: 0x10ad, timeoutSeconds: 3600, mnemonicEnv: 'POOL_OPERATOR_MNEMONIC', mnemonicFile: null },
    devnet: { finalityLagSeconds: 2, faults: 'none' },
  },
};

/** The mainnet Cocoon root (TelegramMessenger/cocoon scripts/dist-worker/worker.conf.example; ../shared/cocoon/code-hashes.json). */
export const MAINNET_COCOON_ROOT = 'EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k';

/** TON Center's public instances (API v2 at https://toncenter.com/api/v2/, v3 at https://toncenter.com/api/v3/). */
const TONCENTER_URLS: Record<'testnet' | 'mainnet', string> = { mainnet: 'https://toncenter.com', testnet: 'https://testnet.toncenter.com' };

/**
 * The defaults of `chain` that depend on the network: TON Center's URLs on testnet/mainnet, the
 * Cocoon root on mainnet, and the request rate: 1 per second without an API key in the environment
 * variable `apiKeyEnv`, 10 with one (TON Center's free key; a paid plan raises it through
 * `chain.tonCenter.requestsPerSecond`), 50 on devnet (the pool's own endpoint).
 */
export function networkDefaults(network: Network, apiKeyPresent: boolean): DeepPartial<PoolConfig> {
  const requestsPerSecond = network === 'devnet' ? 50 : apiKeyPresent ? 10 : 1;
  if (network === 'testnet' || network === 'mainnet') {
    return { chain: { tonCenter: { url: TONCENTER_URLS[network], requestsPerSecond }, cocoonRoot: network === 'mainnet' ? MAINNET_COCOON_ROOT : null } };
  }
  return { chain: { tonCenter: { requestsPerSecond } } };
}

/**
 * Thrown for a configuration that fails validation or cannot be read. `problems` lists every
 * problem found, each naming its setting (`PORT`, `--port`, `workers[1] (id "gpu2") in pool.json`)
 * and the value it had; the message holds them all, one per line.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? `invalid configuration: ${problems[0]}` : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * A configured server that does not answer: names the setting and its value (password removed)
 * with the underlying reason, e.g. `DATABASE_URL postgres://pool@db:5432/pool: cannot connect (getaddrinfo ENOTFOUND db)`.
 */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  constructor(setting: string, value: string, cause: unknown) {
    const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code && !cause.message.includes((cause as NodeJS.ErrnoException).code!) ? `${(cause as NodeJS.ErrnoException).code}: ${cause.message}` : cause.message) : String(cause);
    super(`${setting} ${withoutPassword(value)}: cannot connect (${reason || 'no reason given'})`, { cause });
  }
}

/** `url` as written with its password replaced by `***` (each of a comma-separated list); unparsable input is returned as is. */
export function withoutPassword(url: string): string {
  return url
    .split(',')
    .map((one) => {
      // the input as written, only the password replaced (URL.toString() would rewrite it: a trailing /, case)
      const password = URL.canParse(one) ? new URL(one).password : '';
      return password ? one.replace(`:${password}@`, ':***@') : one;
    })
    .join(',');
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function merge<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (!over) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = b && typeof b === 'object' && !Array.isArray(b) && v && typeof v === 'object' && !Array.isArray(v) ? merge(b, v as never) : v;
  }
  return out as T;
}

const validator = Compile(PoolConfigSchema);
// TypeBox stops collecting errors after `maxErrors` (default 8, each union counting one per branch):
// the configuration's message lists every problem, so let it collect them all.
if (Settings.Get().maxErrors < 1000) Settings.Set({ maxErrors: 1000 });

/** The environment variables the configuration reads, by the setting (JSON pointer) each one sets. */
const ENV_SETTINGS: Record<string, string> = {
  '/natsUrl': 'NATS_URL',
  '/natsReplicas': 'NATS_REPLICAS',
  '/natsUser': 'NATS_USER',
  '/natsPassword': 'NATS_PASSWORD',
  '/databaseUrl': 'DATABASE_URL',
  '/dataDir': 'POOL_DATA_DIR',
  '/poolId': 'POOL_ID',
  '/api/port': 'PORT',
  '/emulator/basePort': 'POOL_WORKER_BASE_PORT',
  '/chain/network': 'POOL_CHAIN',
  '/chain/wallet/mnemonicFile': 'POOL_OPERATOR_MNEMONIC_FILE',
};
const SECRET_SETTINGS = new Set(['/natsPassword']);

/** NATS_URL schemes nats.js connects with (a comma-separated list of servers is allowed). */
const NATS_SCHEMES = new Set(['nats:', 'tls:']);
const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:']);
const HTTP_SCHEMES = new Set(['http:', 'https:']);

function valueAt(config: unknown, pointer: string): unknown {
  let v: unknown = config;
  for (const key of pointer.split('/').slice(1)) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** A port from the environment: digits only, so `0x50` or ` 80` are refused instead of read as 80. */
function envPort(value: string | undefined): number | string | undefined {
  if (value === undefined || value === '') return undefined;
  return /^[0-9]{1,5}$/.test(value) ? Number(value) : value;
}

/** Problems of a URL setting's syntax: parsable, a known scheme, a host. */
function urlProblems(value: string, schemes: Set<string>, example: string): string[] {
  const problems: string[] = [];
  for (const one of value.split(',')) {
    let u: URL;
    try {
      u = new URL(one.trim());
    } catch {
      problems.push(`${JSON.stringify(withoutPassword(one))} is not a URL (expected ${example})`);
      continue;
    }
    if (!schemes.has(u.protocol)) problems.push(`${JSON.stringify(withoutPassword(one))} has scheme ${u.protocol.slice(0, -1)}: expected ${[...schemes].map((x) => x.slice(0, -1)).join(' or ')} (${example})`);
    else if (!u.hostname && !u.searchParams.get('host')) problems.push(`${JSON.stringify(withoutPassword(one))} has no host (expected ${example})`);
  }
  return problems;
}

export interface ResolveOptions {
  /** the JSON file (`--config`) */
  file?: string;
  /** default process.env */
  env?: NodeJS.ProcessEnv;
  /** the flags' values */
  overrides?: DeepPartial<PoolConfig>;
  /** JSON pointer → flag name, for messages */
  flagNames?: Record<string, string>;
  /**
   * `pool start`: on testnet/mainnet (and devnet with `chain.tonCenter.url`) refuse a configuration
   * without the three contract addresses (`pool deploy` writes them), and without real workers wherever the emulated Cocoon side cannot
   * run (it pays through the local chain: local, and devnet with the pool's own endpoint)
   */
  requireContracts?: boolean;
}

/**
 * Resolves the configuration: defaults ← network defaults ← file ← environment ← `overrides` (flags).
 * `flagNames` maps a setting's JSON pointer (`/api/port`) to the flag that set it, for messages.
 * @throws ConfigError listing every invalid setting (its name, its value, the rule), or an unreadable file.
 */
export function resolveConfig(options: ResolveOptions = {}): PoolConfig {
  const env = options.env ?? process.env;
  let fromFile: DeepPartial<PoolConfig> | undefined;
  if (options.file) {
    try {
      fromFile = JSON.parse(readFileSync(options.file, 'utf8')) as DeepPartial<PoolConfig>;
    } catch (err) {
      throw new ConfigError([`config file ${options.file} cannot be read: ${(err as Error).message}`]);
    }
    if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError([`config file ${options.file} must hold one JSON object`]);
  }
  const basePort = envPort(env.POOL_WORKER_BASE_PORT);
  const fromEnv: DeepPartial<PoolConfig> = {
    natsUrl: env.NATS_URL || undefined,
    natsReplicas: env.NATS_REPLICAS ? (Number(env.NATS_REPLICAS) as 1 | 3 | 5) : undefined,
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.POOL_DATA_DIR || undefined,
    poolId: env.POOL_ID || undefined,
    api: envPort(env.PORT) !== undefined ? { port: envPort(env.PORT) as number } : undefined,
    emulator: basePort !== undefined ? { basePort: basePort as number } : undefined,
    chain: {
      network: (env.POOL_CHAIN || undefined) as Network | undefined,
      wallet: env.POOL_OPERATOR_MNEMONIC_FILE ? { mnemonicFile: env.POOL_OPERATOR_MNEMONIC_FILE } : undefined,
    },
  };
  const explicit = merge(merge(fromFile ?? {}, fromEnv), options.overrides);
  const network = explicit.chain?.network ?? DEFAULT_CONFIG.chain.network;
  const apiKeyEnv = explicit.chain?.tonCenter?.apiKeyEnv ?? DEFAULT_CONFIG.chain.tonCenter.apiKeyEnv;
  const defaults = (NETWORKS as readonly string[]).includes(network) ? merge(DEFAULT_CONFIG, networkDefaults(network, !!(typeof apiKeyEnv === 'string' && env[apiKeyEnv]))) : DEFAULT_CONFIG;
  const config = merge(merge(merge(defaults, fromFile), fromEnv), options.overrides);

  /** `<setting>=<value>`: the flag, variable or file entry the value came from. */
  const setting = (pointer: string): string => {
    const shown = (v: unknown) => (SECRET_SETTINGS.has(pointer) ? '(hidden)' : typeof v === 'string' ? JSON.stringify(withoutPassword(v)) : JSON.stringify(v) ?? 'undefined');
    const flag = Object.entries(options.flagNames ?? {}).find(([p]) => pointer === p || pointer.startsWith(`${p}/`));
    if (flag && valueAt(options.overrides, flag[0]) !== undefined) return `${flag[1]} ${shown(valueAt(config, pointer))}`;
    const variable = ENV_SETTINGS[pointer];
    if (variable && valueAt(fromEnv, pointer) !== undefined) return `${variable}=${SECRET_SETTINGS.has(pointer) ? '(hidden)' : JSON.stringify(withoutPassword(String(env[variable])))}`;
    const worker = /^\/workers\/(\d+)(\/.*)?$/.exec(pointer);
    const where = options.file && valueAt(fromFile, pointer) !== undefined ? ` in ${options.file}` : '';
    if (worker) {
      const entry = config.workers[Number(worker[1])] as { id?: unknown } | undefined;
      const id = entry && typeof entry === 'object' && typeof entry.id === 'string' ? ` (id ${JSON.stringify(entry.id)})` : '';
      const field = worker[2] ? `.${worker[2].slice(1).replaceAll('/', '.')}=${shown(valueAt(config, pointer))}` : '';
      return `workers[${worker[1]}]${id}${where}${field}`;
    }
    return `${pointer.slice(1).replaceAll('/', '.') || 'configuration'}${where}=${shown(valueAt(config, pointer))}`;
  };

  const problems: string[] = [];
  if (!validator.Check(config)) {
    const seen = new Set<string>();
    for (const e of validator.Errors(config)) {
      // a union with null (natsUrl: string | null) reports each branch and the union: keep the first branch
      if (e.keyword === 'anyOf' || (e.keyword === 'type' && (e.params as { type?: string }).type === 'null')) continue;
      if (e.keyword === 'additionalProperties') continue; // each unknown key is also reported at its own path
      if (seen.has(e.instancePath)) continue;
      seen.add(e.instancePath);
      const rule = e.keyword === 'boolean' ? 'is not a setting (unknown key)' : e.keyword === 'enum' ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : e.message;
      problems.push(`${setting(e.instancePath)}: ${rule}`);
    }
  }
  if (typeof config.poolId === 'string' && !problems.some((p) => p.startsWith(setting('/poolId')))) {
    try {
      poolNames(config.poolId);
    } catch (err) {
      problems.push(`${setting('/poolId')}: ${(err as Error).message}`);
    }
  }
  if (typeof config.natsUrl === 'string' && config.natsUrl) for (const p of urlProblems(config.natsUrl, NATS_SCHEMES, 'nats://host:4222')) problems.push(`${setting('/natsUrl').split('=')[0]}: ${p}`);
  if (typeof config.databaseUrl === 'string' && config.databaseUrl) for (const p of urlProblems(config.databaseUrl, POSTGRES_SCHEMES, 'postgres://user:password@host:5432/database')) problems.push(`${setting('/databaseUrl').split('=')[0]}: ${p}`);
  if (Array.isArray(config.api?.cors?.origins)) {
    config.api.cors.origins.forEach((o, i) => {
      if (typeof o === 'string' && o && o !== '*' && !(URL.canParse(o) && /^https?:$/.test(new URL(o).protocol) && new URL(o).origin === o)) {
        problems.push(`${setting(`/api/cors/origins/${i}`)}: must be * or an origin such as https://pool.example (http or https, host, optional port, no path or trailing slash)`);
      }
    });
  }
  if (Array.isArray(config.workers)) {
    const ids = new Map<unknown, number>();
    config.workers.forEach((w, i) => {
      if (!w || typeof w !== 'object') return;
      if (typeof w.url === 'string' && /^https?:\/\//.test(w.url) && !URL.canParse(w.url)) problems.push(`${setting(`/workers/${i}/url`)}: is not a URL`);
      if (typeof w.participant === 'string') {
        try {
          toRawAddress(w.participant);
        } catch (err) {
          problems.push(`${setting(`/workers/${i}/participant`)}: ${(err as Error).message}`);
        }
      }
      if (ids.has(w.id)) problems.push(`${setting(`/workers/${i}`)}: id ${JSON.stringify(w.id)} is also workers[${ids.get(w.id)}]`);
      else ids.set(w.id, i);
    });
  }
  if (config.chain && typeof config.chain === 'object') {
    problems.push(...chainProblems(config.chain, setting, options.requireContracts ?? false));
    const ownChain = config.chain.network === 'local' || (config.chain.network === 'devnet' && config.chain.tonCenter?.url === null);
    if (options.requireContracts && !ownChain && Array.isArray(config.workers) && !config.workers.length) {
      problems.push(`workers=[]: required on ${config.chain.network}${config.chain.network === 'devnet' ? ' with chain.tonCenter.url' : ''} (the emulated Cocoon workers and proxy run only on local and on the pool's own devnet)`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Problems of `chain` beyond its schema: URLs, addresses, what testnet/mainnet need. `setting` names a pointer's source and value. */
function chainProblems(chain: PoolConfig['chain'], setting: (pointer: string) => string, requireContracts: boolean): string[] {
  const problems: string[] = [];
  const name = (pointer: string) => setting(pointer).split('=')[0];
  const tonCenter = chain.tonCenter && typeof chain.tonCenter === 'object' ? chain.tonCenter : undefined;
  if (typeof tonCenter?.url === 'string') {
    for (const p of urlProblems(tonCenter.url, HTTP_SCHEMES, 'https://toncenter.com')) problems.push(`${name('/chain/tonCenter/url')}: ${p}`);
    if (/\/api\/v[23]\/?/.test(tonCenter.url)) problems.push(`${setting('/chain/tonCenter/url')}: must be the instance's base URL, without /api/v2 or /api/v3 (e.g. https://toncenter.com)`);
  }
  const address = (pointer: string, value: unknown) => {
    if (typeof value !== 'string') return;
    try {
      toRawAddress(value);
    } catch (err) {
      problems.push(`${setting(pointer)}: ${(err as Error).message}`);
    }
  };
  const contracts = chain.contracts && typeof chain.contracts === 'object' ? chain.contracts : undefined;
  for (const key of ['distribution', 'operator', 'registry'] as const) address(`/chain/contracts/${key}`, contracts?.[key]);
  address('/chain/cocoonRoot', chain.cocoonRoot);
  const real = chain.network === 'testnet' || chain.network === 'mainnet';
  if (real && tonCenter && tonCenter.url === null) problems.push(`${setting('/chain/tonCenter/url')}: required on ${chain.network}`);
  // the pool deploys only on its own chains: local, and devnet with its own endpoint
  const external = real || (chain.network === 'devnet' && typeof tonCenter?.url === 'string');
  if (external && requireContracts && contracts) {
    const where = chain.network === 'devnet' ? 'devnet with chain.tonCenter.url' : chain.network;
    for (const key of ['distribution', 'operator', 'registry'] as const) {
      if (contracts[key] === null) problems.push(`${setting(`/chain/contracts/${key}`)}: required on ${where} (\`pool deploy --network ${chain.network} --config <file>\` deploys the contracts and writes their addresses)`);
    }
  }
  return problems;
}
