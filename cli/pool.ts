#!/usr/bin/env node
/**
 * The `pool` command line (commander). `npm start` runs `pool start`.
 *
 *   pool start [--epoch-seconds N] [--epochs N --exit-when-settled] [--data-dir DIR] [--port N] …
 *
 * Logs are pino JSON on stdout. With `--exit-when-settled`, once epochs 1..N are settled the pool
 * stops and prints, as its last stdout line, one JSON object:
 *   {"epochs":[{"id","revenueNanoton","operatorFeeNanoton","rewardsNanoton","leafCount","merkleRoot","payoutsConfirmed","status"}]}
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import pino from 'pino';
import { ConfigError, UnreachableError, resolveConfig, type PoolConfig } from '../config/config.ts';
import { AuditError, auditEpoch, auditLogger } from './audit.ts';
import { DataDirLockedError } from './lock.ts';
import { PortUnavailableError } from './port.ts';
import { ChainMismatchError } from '../chain/poolContracts.ts';
import { startPool } from './start.ts';
import { StreamIdentityError } from '../projectors/streamIdentity.ts';
import { sleep } from '../runtime/sleep.ts';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0..65535');
  return n;
}

/** The flag that sets each setting (JSON pointer), named in configuration errors. */
const START_FLAGS: Record<string, string> = {
  '/dataDir': '--data-dir',
  '/epochSeconds': '--epoch-seconds',
  '/pollIntervalSeconds': '--poll-seconds',
  '/api/port': '--port',
  '/emulator/workers': '--workers',
  '/emulator/participants': '--participants',
  '/emulator/basePort': '--worker-base-port',
  '/emulator/seed': '--seed',
  '/emulator/faults': '--no-faults',
};

/** The problem with a pino level, naming where it came from (`--log-level` or `LOG_LEVEL`), or null. */
function logLevelProblem(level: string, source: string | undefined): string | null {
  const levels = [...Object.keys(pino.levels.values), 'silent'];
  if (levels.includes(level)) return null;
  return `${source === 'env' ? 'LOG_LEVEL=' : '--log-level '}${JSON.stringify(level)}: not a log level (one of ${levels.join(', ')})`;
}

/** The configuration, or a ConfigError listing every problem of it and of the log level together. */
function configure(options: Parameters<typeof resolveConfig>[0], logLevel: string, logLevelSource: string | undefined): PoolConfig {
  const problems: string[] = [];
  const levelProblem = logLevelProblem(logLevel, logLevelSource);
  if (levelProblem) problems.push(levelProblem);
  try {
    const config = resolveConfig(options);
    if (!problems.length) return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  throw new ConfigError(problems);
}

interface StartFlags {
  config?: string;
  dataDir?: string;
  epochSeconds?: number;
  epochs?: number;
  exitWhenSettled?: boolean;
  port?: number;
  pollSeconds?: number;
  workers?: number;
  participants?: number;
  workerBasePort?: number;
  seed?: number;
  faults: boolean;
  rebuild?: boolean;
  logLevel: string;
}

async function start(flags: StartFlags, command: Command): Promise<void> {
  const config = configure({
    file: flags.config,
    flagNames: START_FLAGS,
    overrides: {
      dataDir: flags.dataDir,
      epochSeconds: flags.epochSeconds,
      pollIntervalSeconds: flags.pollSeconds,
      api: flags.port !== undefined ? { port: flags.port } : undefined,
      emulator: {
        workers: flags.workers,
        participants: flags.participants,
        basePort: flags.workerBasePort,
        seed: flags.seed,
        faults: flags.faults === false ? false : undefined,
      },
    },
  }, flags.logLevel, command.getOptionValueSource('logLevel'));
  const logger = pino({ level: flags.logLevel, base: { service: 'cocoon-pool' } });
  if (flags.exitWhenSettled && !flags.epochs) throw new InvalidArgumentError('--exit-when-settled needs --epochs N');

  const ctl = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      logger.info({ signal: sig }, 'stopping');
      ctl.abort();
    });
  }
  const pool = await startPool(config, logger, ctl.signal, { rebuild: flags.rebuild });

  if (!flags.exitWhenSettled) {
    await pool.stopped;
    return;
  }
  const wanted = flags.epochs!;
  const settled = async () =>
    pool.db.db.selectFrom('epochs').selectAll().where('epoch_id', '<=', wanted).orderBy('epoch_id').execute();
  let rows = await settled();
  while (!ctl.signal.aborted && !(rows.length === wanted && rows.every((r) => r.status === 'settled'))) {
    await sleep(500, ctl.signal);
    rows = await settled();
  }
  const result = {
    epochs: rows.map((r) => ({
      id: r.epoch_id,
      revenueNanoton: r.revenue_nanoton,
      operatorFeeNanoton: r.operator_fee_nanoton,
      rewardsNanoton: r.rewards_nanoton,
      leafCount: r.leaf_count,
      merkleRoot: r.merkle_root,
      payoutsConfirmed: r.payouts_confirmed,
      status: r.status,
    })),
  };
  const complete = rows.length === wanted && rows.every((r) => r.status === 'settled');
  logger.info({ epochs: wanted, complete }, complete ? 'epochs settled; stopping' : 'stopped before the epochs settled');
  ctl.abort();
  await pool.stopped;
  logger.flush();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!complete) process.exitCode = 1;
}

async function audit(flags: { epoch: number; dataDir?: string; config?: string; databaseUrl?: string; logLevel: string }, command: Command): Promise<void> {
  const config = configure({ file: flags.config, flagNames: { '/dataDir': '--data-dir' }, overrides: { dataDir: flags.dataDir } }, flags.logLevel, command.getOptionValueSource('logLevel'));
  const report = await auditEpoch(config, resolve(config.dataDir), flags.epoch, auditLogger(flags.logLevel), flags.databaseUrl);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (!report.ok) process.exitCode = 2;
}

const program = new Command('pool').description('Cocoon pool ledger: event-sourced accounting and TON payouts for a Cocoon GPU pool');

program
  .command('start')
  .description('run the pool (embedded NATS, PostgreSQL and local TON chain unless NATS_URL / DATABASE_URL are set)')
  .option('--config <file>', 'JSON configuration file (see config/config.ts)')
  .option('--data-dir <dir>', 'where the embedded stores live (default ./var, env POOL_DATA_DIR)')
  .option('--epoch-seconds <n>', 'epoch length in seconds (default 604800 = 7 days)', positiveNumber)
  .option('--epochs <n>', 'with --exit-when-settled: how many epochs to settle', positiveNumber)
  .option('--exit-when-settled', 'stop once epochs 1..N are settled and print them as JSON')
  .option('--port <n>', 'read API port (default 8080, env PORT; 0 = any free port)', port)
  .option('--poll-seconds <n>', '/jsonstats poll interval in seconds (default 2)', positiveNumber)
  .option('--workers <n>', 'number of emulated workers (default 8)', positiveNumber)
  .option('--participants <n>', 'number of emulated participants (default 5)', positiveNumber)
  .option('--worker-base-port <n>', 'first emulated worker port; worker i uses base+10·i (default 12000; 0 = free ports)', port)
  .option('--seed <n>', 'seed of the emulated workers', positiveNumber)
  .option('--no-faults', 'emulated workers never restart, stall or go offline')
  .option('--rebuild', 'drop the read models and replay the event stream from its first event (e.g. after pointing DATABASE_URL at a database built from another stream)')
  .addOption(new Option('--log-level <level>', 'pino level: fatal, error, warn, info, debug, trace, silent').env('LOG_LEVEL').default('info'))
  .action(start);

program
  .command('audit')
  .description('replay every event into fresh read models, recompute an epoch and compare it with what was recorded and what is on chain (exit 2 on any difference)')
  .requiredOption('--epoch <n>', 'epoch id', positiveNumber)
  .option('--config <file>', 'JSON configuration file')
  .option('--data-dir <dir>', 'the pool\'s data directory (default ./var, env POOL_DATA_DIR); the pool must be stopped')
  .option('--database-url <url>', 'an empty PostgreSQL database for the replay (default: a scratch embedded PostgreSQL server)')
  .addOption(new Option('--log-level <level>', 'pino level (logs go to stderr)').env('LOG_LEVEL').default('warn'))
  .action(audit);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const known =
    err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof InvalidArgumentError || err instanceof AuditError || err instanceof PortUnavailableError || err instanceof UnreachableError ||
    err instanceof ChainMismatchError || err instanceof StreamIdentityError;
  process.stderr.write(`pool: ${known ? (err as Error).message : (err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
