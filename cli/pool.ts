#!/usr/bin/env node
/**
 * The `pool` command line (commander). `npm start` runs `pool start`.
 *
 *   pool start [--chain local|devnet|testnet|mainnet] [--epoch-seconds N] [--epochs N --exit-when-settled] [--data-dir DIR] [--port N] …
 *   pool wallet [--chain devnet|testnet|mainnet] [--config FILE]     the operator wallet to fund, and balances
 *   pool deploy --network devnet|testnet|mainnet --config FILE        deploy the contracts, write their addresses to FILE
 *   pool claim --epoch N --address A [--api URL]                     a participant's ClaimReward message and ton:// link
 *
 * Logs are pino JSON on stdout. With `--exit-when-settled`, once epochs 1..N are settled the pool
 * stops and prints, as its last stdout line, one JSON object:
 *   {"epochs":[{"id","revenueNanoton","operatorFeeNanoton","rewardsNanoton","leafCount","merkleRoot","payoutsConfirmed","status"}]}
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pino from 'pino';
import { ChainUnavailableError, SendRejectedError } from '../chain/client.ts';
import { KeyError, SECRET_LOG_PATHS } from '../chain/keys.ts';
import { ConfigError, NETWORKS, UnreachableError, resolveConfig, type Network, type PoolConfig } from '../config/config.ts';
import { AuditError, auditEpoch, auditLogger, auditVerdict } from './audit.ts';
import { DataDirLockedError } from './lock.ts';
import { PortUnavailableError } from './port.ts';
import { ChainMismatchError, PoolContractsError } from '../chain/poolContracts.ts';
import { ChainPortError } from './chainPort.ts';
import { deployCommand } from './deploy.ts';
import { walletCommand } from './wallet.ts';
import { formatStartupSummary, POOL_ROLES, startPool, type PoolRole } from './start.ts';
import { memberAddressCommand, MemberAddressError, poolDistribution } from './member.ts';
import { claimCommand } from './claim.ts';
import { ClaimError } from '../contracts/claim.ts';
import { runDevnet } from './devnet.ts';
import { HIGHLOAD_V3_DEFAULT_SUBWALLET_ID } from '../chain/wallet/highloadV3.ts';
import { StreamIdentityError } from '../projectors/streamIdentity.ts';
import { sleep } from '../runtime/sleep.ts';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0..65535');
  return n;
}

/** `--role`: a comma-separated list of producers, projections, sagas, api, or `all`. */
function roleList(value: string): PoolRole[] {
  const roles = value.split(',').map((r) => r.trim());
  if (roles.length === 1 && roles[0] === 'all') return [...POOL_ROLES];
  for (const role of roles) {
    if (!(POOL_ROLES as readonly string[]).includes(role)) throw new InvalidArgumentError(`${JSON.stringify(role)} is not a role: use all, or a comma-separated list of ${POOL_ROLES.join(', ')}`);
  }
  return [...new Set(roles as PoolRole[])];
}

function network(value: string): Network {
  if (!(NETWORKS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${NETWORKS.join(', ')}`);
  return value as Network;
}

/** TON as nanoTON: a decimal with at most 9 fractional digits. */
function ton(value: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be an amount of TON, e.g. 10 or 0.5');
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** The pool's logger: pino JSON to `destination` (stdout for start, stderr for the other commands), secrets censored. */
function poolLogger(level: string, destination: 1 | 2 = 1) {
  return pino({ level, base: { service: 'cocoon-pool' }, redact: { paths: [...SECRET_LOG_PATHS], censor: '(hidden)' } }, pino.destination({ fd: destination, sync: true }));
}

/** The flag that sets each setting (JSON pointer), named in configuration errors. */
const START_FLAGS: Record<string, string> = {
  '/chain/network': '--chain',
  '/chain/devnet/faults': '--devnet-faults',
  '/dataDir': '--data-dir',
  '/epochSeconds': '--epoch-seconds',
  '/pollIntervalSeconds': '--poll-seconds',
  '/api/port': '--port',
  '/emulator/workers': '--workers',
  '/emulator/participants': '--participants',
  '/emulator/basePort': '--worker-base-port',
  '/emulator/seed': '--seed',
  '/emulator/faults': '--no-faults',
  '/emulator/autoPayThresholdNanoton': '--auto-pay-threshold',
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
  chain?: Network;
  devnetFaults?: string;
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
  autoPayThreshold?: bigint;
  rebuild?: boolean;
  role?: PoolRole[];
  logLevel: string;
}

async function start(flags: StartFlags, command: Command): Promise<void> {
  const config = configure({
    file: flags.config,
    flagNames: START_FLAGS,
    requireContracts: true,
    overrides: {
      chain: { network: flags.chain, devnet: flags.devnetFaults !== undefined ? { faults: flags.devnetFaults as 'none' | 'all' } : undefined },
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
        autoPayThresholdNanoton: flags.autoPayThreshold === undefined ? undefined : Number(flags.autoPayThreshold),
      },
    },
  }, flags.logLevel, command.getOptionValueSource('logLevel'));
  const logger = poolLogger(flags.logLevel);
  if (flags.exitWhenSettled && !flags.epochs) throw new InvalidArgumentError('--exit-when-settled needs --epochs N');

  const ctl = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      logger.info({ signal: sig }, 'stopping');
      ctl.abort();
    });
  }
  const pool = await startPool(config, logger, ctl.signal, { rebuild: flags.rebuild, roles: flags.role });
  process.stderr.write(formatStartupSummary(pool.summary));

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
  const progress = (line: string) => void process.stderr.write(`audit: ${line}\n`);
  const report = await auditEpoch(config, resolve(config.dataDir), flags.epoch, auditLogger(flags.logLevel), flags.databaseUrl, progress);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`${auditVerdict(report)}\n`);
  if (!report.ok) process.exitCode = 2;
}

async function wallet(flags: { chain?: Network; config?: string; dataDir?: string; logLevel: string }, command: Command): Promise<void> {
  const config = configure({ file: flags.config, flagNames: { '/chain/network': '--chain', '/dataDir': '--data-dir' }, overrides: { chain: { network: flags.chain }, dataDir: flags.dataDir } }, flags.logLevel, command.getOptionValueSource('logLevel'));
  await walletCommand(config, poolLogger(flags.logLevel, 2), (line) => process.stdout.write(`${line}\n`));
}

async function memberAddress(wallet: string, flags: { chain?: Network; config?: string; distribution?: string; logLevel: string }, command: Command): Promise<void> {
  const config = configure({ file: flags.config, flagNames: { '/chain/network': '--chain' }, overrides: { chain: { network: flags.chain } } }, flags.logLevel, command.getOptionValueSource('logLevel'));
  await memberAddressCommand(config, wallet, await poolDistribution(config, flags.distribution), (line) => process.stdout.write(`${line}\n`));
}

async function claim(
  flags: { epoch: number; address: string; api?: string; distribution?: string; amount?: bigint; root?: string; chain?: Network; config?: string; logLevel: string },
  command: Command,
): Promise<void> {
  const config = configure({ file: flags.config, flagNames: { '/chain/network': '--chain' }, overrides: { chain: { network: flags.chain } } }, flags.logLevel, command.getOptionValueSource('logLevel'));
  await claimCommand(config, flags, await poolDistribution(config, flags.distribution), (line) => process.stdout.write(`${line}\n`));
}

async function deploy(flags: { network: Network; config: string; distributionValue?: bigint; logLevel: string }, command: Command): Promise<void> {
  const config = configure({ file: flags.config, flagNames: { '/chain/network': '--network' }, overrides: { chain: { network: flags.network } } }, flags.logLevel, command.getOptionValueSource('logLevel'));
  const ctl = new AbortController();
  process.once('SIGINT', () => ctl.abort());
  await deployCommand(config, flags.config, poolLogger(flags.logLevel, 2), (line) => process.stdout.write(`${line}\n`), { distributionValue: flags.distributionValue, signal: ctl.signal });
}

/** The package's version (package.json), for `pool --version`. */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command('pool')
  .description('Cocoon pool ledger: event-sourced accounting and TON payouts for a Cocoon GPU pool')
  .version(VERSION, '-V, --version', 'print the version of the pool (package.json) and exit');

program
  .command('start')
  .description('run the pool (embedded NATS, PostgreSQL and local TON chain unless NATS_URL / DATABASE_URL are set)')
  .option('--config <file>', 'JSON configuration file (see config/config.ts)')
  .option('--chain <network>', 'local (default: @ton/sandbox in-process), devnet (the pool\'s own TON Center-compatible endpoint), testnet, mainnet (TON Center); env POOL_CHAIN', network)
  .option('--data-dir <dir>', 'where the embedded stores live (default ./var, env POOL_DATA_DIR)')
  .option('--epoch-seconds <n>', 'epoch length in seconds (default 604800 = 7 days)', positiveNumber)
  .option('--epochs <n>', 'with --exit-when-settled: how many epochs to settle', positiveNumber)
  .option('--exit-when-settled', 'stop once epochs 1..N are settled and print them as JSON')
  .option('--port <n>', 'read API port (default 8080, env PORT; 0 = any free port)', port)
  .option('--poll-seconds <n>', '/jsonstats poll interval in seconds (default 2)', positiveNumber)
  .option('--workers <n>', 'number of emulated workers (default 8)', positiveNumber)
  .option('--participants <n>', 'number of emulated participants (default 5)', positiveNumber)
  .option('--worker-base-port <n>', 'the emulated workers\' one port: worker i at http://127.0.0.1:<n>/w<i> (default 12000; 0 = a free port)', port)
  .option('--seed <n>', 'seed of the emulated workers', positiveNumber)
  .option('--no-faults', 'emulated workers never restart, stall or go offline')
  .option('--auto-pay-threshold <TON>', 'the emulated proxy pays an owner unasked once it owes this much (default 10, as Cocoon\'s proxy; a worker\'s /request/payout pays at once)', ton)
  .option('--devnet-faults <profile>', 'with --chain devnet: the endpoint\'s fault injection, none (default) or all (429s, timeouts, lost send responses, late, duplicate, out-of-order and skipped rows)')
  .option('--role <roles>', `what this instance runs: all (default), or a comma-separated list of ${POOL_ROLES.join(', ')}; any number of instances per role, one active per single-writer piece (a lease), the others stand by (needs NATS_URL, DATABASE_URL and a shared chain)`, roleList)
  .option('--rebuild', 'drop the read models and replay the event stream from its first event (e.g. after pointing DATABASE_URL at a database built from another stream)')
  .addOption(new Option('--log-level <level>', 'pino level: fatal, error, warn, info, debug, trace, silent').env('LOG_LEVEL').default('info'))
  .action(start);

program
  .command('wallet')
  .description('print the operator\'s highload v3 wallet (the address to fund) and the pool\'s contracts, with states and balances, on the configured network')
  .option('--chain <network>', 'devnet, testnet or mainnet (env POOL_CHAIN)', network)
  .option('--config <file>', 'JSON configuration file')
  .addOption(new Option('--log-level <level>', 'pino level (logs go to stderr)').env('LOG_LEVEL').default('warn'))
  .action(wallet);

program
  .command('member')
  .description('a member\'s side of the pool')
  .command('address <wallet>')
  .description('print the member\'s forwarder for the pool\'s distribution contract: the owner_address to set in the member\'s Cocoon workers')
  .option('--distribution <address>', 'the pool\'s RewardDistribution (default: chain.contracts.distribution of the config; on the local chain the one pool start deploys)')
  .option('--chain <network>', 'local, devnet, testnet or mainnet (env POOL_CHAIN): the address form printed and where the distribution comes from', network)
  .option('--config <file>', 'JSON configuration file')
  .addOption(new Option('--log-level <level>', 'pino level (logs go to stderr)').env('LOG_LEVEL').default('warn'))
  .action(memberAddress);

program
  .command('claim')
  .description('a participant claims its reward of an epoch without the operator: fetches the proof from the pool\'s read API, verifies it, and prints the ClaimReward message (base64 BoC) and a ton://transfer link for a wallet app; nothing is sent. Exit 2 when the proof does not verify, 3 when the epoch is not settled yet (try later), 4 for no such epoch, no reward or a reward already paid, 5 when the API is unreachable, 1 for bad input')
  .requiredOption('--epoch <n>', 'epoch id', positiveInteger)
  .requiredOption('--address <address>', 'the participant\'s wallet (raw 0:<hex> or user-friendly): the leaf to claim, paid to that address')
  .option('--api <url>', 'the pool\'s read API (default http://<api.host>:<api.port> of the config, http://127.0.0.1:8080)')
  .option('--distribution <address>', 'the pool\'s RewardDistribution (default: chain.contracts.distribution of the config; on the local chain the one pool start deploys)')
  .option('--amount <TON>', 'TON the message carries for gas and fees (default 0.05; at least 0.014; above the claim\'s cost + 0.01 TON the rest comes back)', ton)
  .option('--root <root>', 'the epoch\'s Merkle root as you got it elsewhere, 64 hex digits or the decimal of the contract\'s epoch(id) getter in an explorer: refuse a proof for another root')
  .option('--chain <network>', 'local, devnet, testnet or mainnet (env POOL_CHAIN): the address form printed and where the distribution comes from', network)
  .option('--config <file>', 'JSON configuration file')
  .addOption(new Option('--log-level <level>', 'pino level (logs go to stderr)').env('LOG_LEVEL').default('warn'))
  .action(claim);

program
  .command('deploy')
  .description('deploy the pool\'s contracts from the operator wallet, wait until they are final, and write their addresses into the config file')
  .requiredOption('--network <network>', 'devnet, testnet or mainnet', network)
  .requiredOption('--config <file>', 'JSON configuration file to write chain.network and chain.contracts into (created when missing)')
  .option('--distribution-value <TON>', 'TON the distribution contract is deployed with: its storage and gas reserve, not revenue (default 10)', ton)
  .addOption(new Option('--log-level <level>', 'pino level (logs go to stderr)').env('LOG_LEVEL').default('warn'))
  .action(deploy);

program
  .command('audit')
  .description('replay every event into fresh read models, recompute an epoch and compare it with what was recorded and what is on chain; progress and a one-line verdict on stderr, the report (JSON) on stdout; exit 2 on any difference, 3 when the epoch is not settled yet, 1 when there is no such epoch or no pool data')
  .requiredOption('--epoch <n>', 'epoch id', positiveNumber)
  .option('--config <file>', 'JSON configuration file')
  .option('--data-dir <dir>', 'the pool\'s data directory (default ./var, env POOL_DATA_DIR); the pool must be stopped')
  .option('--database-url <url>', 'an empty PostgreSQL database for the replay (default: a scratch embedded PostgreSQL server)')
  .addOption(new Option('--log-level <level>', 'pino level (logs go to stderr)').env('LOG_LEVEL').default('warn'))
  .action(audit);

program
  .command('devnet')
  .description('serve a TON Center API v2/v3-compatible endpoint over the local chain in <data-dir>/chain, for any TON tool (TonClient endpoint <url>/api/v2/jsonRPC)')
  .option('--port <n>', 'port (default 8081; 0 = any free port)', port, 8081)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--data-dir <dir>', 'data directory whose chain/ is served (default ./var, env POOL_DATA_DIR); not while `pool start` uses it')
  .option('--finality-lag <seconds>', 'seconds between a masterchain block closing and it being final', nonNegativeNumber, 0)
  .option('--block-seconds <n>', 'length of a synthetic masterchain block, whole seconds', positiveInteger, 1)
  .option('--fund <address|mnemonic-file...>', 'top up these wallets (a mnemonic file: its highload v3 and v5r1 wallets)', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--fund-ton <n>', 'balance each funded wallet is topped up to, TON', positiveNumber, 1000)
  .option('--subwallet-id <n>', 'highload v3 subwallet id of a funded mnemonic', positiveInteger, HIGHLOAD_V3_DEFAULT_SUBWALLET_ID)
  .option('--highload-timeout <seconds>', 'highload v3 timeout of a funded mnemonic', positiveInteger, 3600)
  .option('--faults <json>', 'faults to inject from the start, e.g. \'{"rateLimited":0.1,"skippedRows":0.05}\' (see devnet/faults.ts)')
  .addOption(new Option('--log-level <level>', 'pino level').env('LOG_LEVEL').default('info'))
  .action(runDevnet);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const known =
    err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof InvalidArgumentError || err instanceof AuditError || err instanceof PortUnavailableError || err instanceof UnreachableError ||
    err instanceof ChainMismatchError || err instanceof StreamIdentityError || err instanceof KeyError || err instanceof PoolContractsError || err instanceof ChainPortError ||
    err instanceof SendRejectedError || err instanceof ChainUnavailableError || err instanceof MemberAddressError || err instanceof ClaimError;
  process.stderr.write(`pool: ${known ? (err as Error).message : (err as Error).stack ?? String(err)}\n`);
  // an epoch not settled yet is no fault of the data: 3, so a script can tell it and try again later
  // pool claim: its own codes (cli/claim.ts CLAIM_EXIT; 3 = not settled yet, as audit's)
  process.exit(err instanceof AuditError && err.kind === 'not-settled' ? 3 : err instanceof ClaimError ? err.exitCode : 1);
}
