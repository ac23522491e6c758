/**
 * The pool's configuration: embedded defaults (a newcomer's `npm start` needs nothing), then an
 * optional JSON file (`--config`), then the environment (NATS_URL, NATS_USER, NATS_PASSWORD,
 * DATABASE_URL, PORT, POOL_DATA_DIR), then command-line flags. The result is validated as a whole; a bad value stops
 * the start with a message naming it.
 */
import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import Compile from 'typebox/compile';
import { DEFAULT_REWARD_PARAMS } from '../domain/rewards.ts';

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
    /** PostgreSQL for read models; null = embedded PGlite in <dataDir>/pg */
    databaseUrl: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    api: Type.Object({ host: Type.String(), port: Port }, { additionalProperties: false }),
    epochSeconds: Type.Number({ minimum: 1 }),
    pollIntervalSeconds: Type.Number({ exclusiveMinimum: 0 }),
    /** consecutive failed polls before WorkerWentOffline is raised */
    offlineAfterMisses: Type.Integer({ minimum: 1 }),
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

/** Thrown for a configuration that fails validation or cannot be read. */
export class ConfigError extends Error {
  override name = 'ConfigError';
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

/**
 * Resolves the configuration: defaults ← file ← environment ← `overrides` (flags).
 * @throws ConfigError naming the first invalid field, or an unreadable file.
 */
export function resolveConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: DeepPartial<PoolConfig> } = {}): PoolConfig {
  const env = options.env ?? process.env;
  let fromFile: DeepPartial<PoolConfig> | undefined;
  if (options.file) {
    try {
      fromFile = JSON.parse(readFileSync(options.file, 'utf8')) as DeepPartial<PoolConfig>;
    } catch (err) {
      throw new ConfigError(`cannot read config file ${options.file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: DeepPartial<PoolConfig> = {
    natsUrl: env.NATS_URL || undefined,
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.POOL_DATA_DIR || undefined,
    api: env.PORT !== undefined && env.PORT !== '' ? { port: Number(env.PORT) } : undefined,
  };
  const config = merge(merge(merge(DEFAULT_CONFIG, fromFile), fromEnv), options.overrides);
  if (!validator.Check(config)) {
    const e = validator.Errors(config)[0];
    throw new ConfigError(`invalid configuration at ${e?.instancePath || '/'}: ${e?.message ?? 'invalid'}`);
  }
  return config;
}
