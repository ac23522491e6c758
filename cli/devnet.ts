/**
 * `pool devnet`: serves the devnet endpoint (devnet/server.ts, TON Center API v2/v3) alone over the
 * persistent local chain in `<data-dir>/chain` (the directory `pool start` uses, guarded by the
 * same data-dir lock), so any TON tool can be pointed at it offline:
 *
 *   pool devnet [--port 8081] [--host 127.0.0.1] [--data-dir ./var] [--finality-lag S]
 *               [--block-seconds N] [--fund <address|mnemonic-file> …] [--fund-ton 1000]
 *               [--faults '{"rateLimited":0.1}']
 *
 * `--fund` takes addresses (raw or user-friendly) and files holding a 24-word mnemonic; a mnemonic
 * funds the highload wallet v3 of its key (subwallet `--subwallet-id`, timeout `--highload-timeout`,
 * the pool's defaults 0x10ad and 3600 s) and its @ton/ton WalletContractV5R1 (workchain 0). Each is
 * topped up to `--fund-ton` TON with the chain's faucet (LocalChain.mint), so a restart adds
 * nothing to a wallet that still holds that much. The words are never printed.
 *
 * Logs are pino JSON on stdout; the first line after start-up, "devnet listening", carries the URL
 * (`tonCenter`, and `jsonRpc` = the TonClient endpoint) and the funded addresses. Stops on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Address, toNano } from '@ton/core';
import { mnemonicToPrivateKey, mnemonicValidate } from '@ton/crypto';
import { WalletContractV5R1 } from '@ton/ton';
import { InvalidArgumentError } from 'commander';
import pino from 'pino';
import { openLocalChain } from '../chain/localChain.ts';
import { highloadV3Address } from '../chain/wallet/highloadV3.ts';
import { faultProblems, type DevnetFaults } from '../devnet/faults.ts';
import { startDevnet } from '../devnet/server.ts';
import { lockDataDir } from './lock.ts';
import { listenError } from './port.ts';

/** Flags of `pool devnet` (cli/pool.ts parses them). */
export interface DevnetFlags {
  port: number;
  host: string;
  dataDir?: string;
  finalityLag: number;
  blockSeconds: number;
  fund: string[];
  fundTon: number;
  subwalletId: number;
  highloadTimeout: number;
  faults?: string;
  logLevel: string;
}

/** One address to fund and where it came from (`address`, or `<file> highload-v3` / `<file> v5r1`). */
export interface FundTarget {
  address: Address;
  source: string;
}

/**
 * The addresses `--fund` names: an address as given; for a mnemonic file its highload v3 and
 * v5r1 wallet addresses.
 * @throws InvalidArgumentError for a value that is neither an address nor a readable file holding
 *   a valid TON mnemonic (the message never quotes the file's content).
 */
export async function fundTargets(values: readonly string[], highload: { subwalletId: number; timeout: number }): Promise<FundTarget[]> {
  const targets: FundTarget[] = [];
  for (const value of values) {
    let address: Address | undefined;
    try {
      address = Address.parse(value);
    } catch {
      address = undefined;
    }
    if (address) {
      targets.push({ address, source: 'address' });
      continue;
    }
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      throw new InvalidArgumentError(`--fund ${value}: not an address, and not a readable mnemonic file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    const words = text.trim().split(/\s+/);
    if (words.length !== 24 || !(await mnemonicValidate(words))) throw new InvalidArgumentError(`--fund ${value}: the file does not hold a valid 24-word TON mnemonic`);
    const { publicKey } = await mnemonicToPrivateKey(words);
    targets.push({ address: highloadV3Address({ publicKey, subwalletId: highload.subwalletId, timeout: highload.timeout }), source: `${value} highload-v3` });
    targets.push({ address: WalletContractV5R1.create({ workchain: 0, publicKey }).address, source: `${value} v5r1` });
  }
  return targets;
}

/**
 * Runs `pool devnet` until SIGINT/SIGTERM.
 * @throws InvalidArgumentError for bad --fund or --faults; DataDirLockedError when the data
 *   directory is in use (e.g. by `pool start`); PortUnavailableError when the port is taken.
 */
export async function runDevnet(flags: DevnetFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel, base: { service: 'cocoon-devnet' } });
  let faults: DevnetFaults = {};
  if (flags.faults !== undefined) {
    try {
      faults = JSON.parse(flags.faults) as DevnetFaults;
    } catch {
      throw new InvalidArgumentError(`--faults: not JSON: ${flags.faults}`);
    }
    const problems = faultProblems(faults);
    if (problems.length) throw new InvalidArgumentError(`--faults: ${problems.join('; ')}`);
  }
  const targets = await fundTargets(flags.fund, { subwalletId: flags.subwalletId, timeout: flags.highloadTimeout });
  const dataDir = resolve(flags.dataDir ?? process.env.POOL_DATA_DIR ?? './var');
  const release = await lockDataDir(dataDir);
  const chain = await openLocalChain({ dir: join(dataDir, 'chain') }).catch(async (error) => {
    await release();
    throw error;
  });
  try {
    const want = toNano(flags.fundTon);
    const funded: { address: string; source: string; balanceNanoton: string }[] = [];
    for (const t of targets) {
      const balance = await chain.getBalance(t.address);
      if (balance < want) await chain.mint(t.address, want - balance);
      funded.push({ address: t.address.toString({ bounceable: false }), source: t.source, balanceNanoton: (await chain.getBalance(t.address)).toString() });
    }
    let devnet;
    try {
      devnet = await startDevnet({ chain, port: flags.port, host: flags.host, finalityLagSeconds: flags.finalityLag, blockSeconds: flags.blockSeconds, faults, logger: logger.child({ component: 'devnet' }) });
    } catch (error) {
      throw listenError(error, flags.host, flags.port);
    }
    logger.info({ tonCenter: devnet.url, jsonRpc: `${devnet.url}/api/v2/jsonRPC`, chainDir: join(dataDir, 'chain'), finalityLagSeconds: flags.finalityLag, blockSeconds: flags.blockSeconds, faults, funded }, 'devnet listening');
    await new Promise<void>((done) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => done());
    });
    logger.info('devnet stopping');
    await devnet.close();
  } finally {
    await chain.close();
    await release();
  }
}
