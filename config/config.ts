/**
 * The pool's configuration: embedded defaults (a newcomer's `npm start` needs nothing), then an
 * optional JSON file (`--config`), then the environment (NATS_URL, NATS_USER, NATS_PASSWORD,
 * DATABASE_URL, PORT, POOL_DATA_DIR, POOL_WORKER_BASE_PORT), then command-line flags. The result is
 * validated as a whole; bad values stop the start with one message listing every one of them, each
 * naming its setting and value.
 */
import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import Compile from 'typebox/compile';
import { toRawAddress } from '../domain/address.ts';
import { DEFAULT_REWARD_PARAMS } from '../domain/rewards.ts';
import { DEFAULT_TELEMETRY_LIMITS } from '../domain/telemetry.ts';

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

export const PoolConfigSchema = Type.Object(
  {
    /** where the embedded stores live: nats/, pg/, chain/, workers/ */
    dataDir: Type.String({ minLength: 1 }),
    /** an existing nats-server (>= 2.12); null = start our own */
    natsUrl: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    /** credentials for natsUrl (infra/nats/accounts.conf user `pool`) */
    natsUser: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    natsPassword: Type.Union([Type.String(), Type.Null()]),
    /** PostgreSQL for read models; null = the embedded PostgreSQL server on <dataDir>/pg (db/embedded.ts) */
    databaseUrl: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    api: Type.Object({ host: Type.String(), port: Port }, { additionalProperties: false }),
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
    /** real workers to poll; empty = run emulated ones */
    workers: Type.Array(WorkerEntry),
    emulator: Type.Object(
      {
        workers: Type.Integer({ minimum: 1, maximum: 1000 }),
        participants: Type.Integer({ minimum: 1, maximum: 1000 }),
        /** first worker port (worker i listens on basePort + 10·i); 0 = free ports */
        basePort: Port,
        seed: Type.Integer({ minimum: 0 }),
        /** mean completed requests per second per worker */
        requestsPerSecond: Type.Number({ minimum: 0 }),
        /** restarts, stalls and offline periods */
        faults: Type.Boolean(),
        /** nanoTON the emulated proxy pays per adjusted token */
        workerFeePerToken: Type.Integer({ minimum: 1 }),
        /** how often the emulated proxy pays owed earnings, seconds */
        proxyPayIntervalSeconds: Type.Number({ exclusiveMinimum: 0 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type PoolConfig = Static<typeof PoolConfigSchema>;

export const DEFAULT_CONFIG: PoolConfig = {
  dataDir: './var',
  natsUrl: null,
  natsUser: null,
  natsPassword: null,
  databaseUrl: null,
  api: { host: '127.0.0.1', port: 8080 },
  epochSeconds: 7 * 24 * 3600,
  pollIntervalSeconds: 2,
  offlineAfterMisses: 3,
  telemetry: { ...DEFAULT_TELEMETRY_LIMITS },
  rewards: { ...DEFAULT_REWARD_PARAMS },
  payouts: { batchSize: 200, maxBatchesInFlight: 4, resubmitAfterSeconds: 30, maxRefusedAttempts: 3 },
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
  },
};

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

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

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

/** The environment variables the configuration reads, by the setting (JSON pointer) each one sets. */
const ENV_SETTINGS: Record<string, string> = {
  '/natsUrl': 'NATS_URL',
  '/natsUser': 'NATS_USER',
  '/natsPassword': 'NATS_PASSWORD',
  '/databaseUrl': 'DATABASE_URL',
  '/dataDir': 'POOL_DATA_DIR',
  '/api/port': 'PORT',
  '/emulator/basePort': 'POOL_WORKER_BASE_PORT',
};
const SECRET_SETTINGS = new Set(['/natsPassword']);

/** NATS_URL schemes nats.js connects with (a comma-separated list of servers is allowed). */
const NATS_SCHEMES = new Set(['nats:', 'tls:']);
const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:']);

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

/**
 * Resolves the configuration: defaults ← file ← environment ← `overrides` (flags).
 * `flagNames` maps a setting's JSON pointer (`/api/port`) to the flag that set it, for messages.
 * @throws ConfigError listing every invalid setting (its name, its value, the rule), or an unreadable file.
 */
export function resolveConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: DeepPartial<PoolConfig>; flagNames?: Record<string, string> } = {}): PoolConfig {
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
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.POOL_DATA_DIR || undefined,
    api: envPort(env.PORT) !== undefined ? { port: envPort(env.PORT) as number } : undefined,
    emulator: basePort !== undefined ? { basePort: basePort as number } : undefined,
  };
  const config = merge(merge(merge(DEFAULT_CONFIG, fromFile), fromEnv), options.overrides);

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
      const rule = e.keyword === 'boolean' ? 'is not a setting (unknown key)' : e.message;
      problems.push(`${setting(e.instancePath)}: ${rule}`);
    }
  }
  if (typeof config.natsUrl === 'string' && config.natsUrl) for (const p of urlProblems(config.natsUrl, NATS_SCHEMES, 'nats://host:4222')) problems.push(`${setting('/natsUrl').split('=')[0]}: ${p}`);
  if (typeof config.databaseUrl === 'string' && config.databaseUrl) for (const p of urlProblems(config.databaseUrl, POSTGRES_SCHEMES, 'postgres://user:password@host:5432/database')) problems.push(`${setting('/databaseUrl').split('=')[0]}: ${p}`);
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
  if (problems.length) throw new ConfigError(problems);
  return config;
}
