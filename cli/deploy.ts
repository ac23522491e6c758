/**
 * `pool deploy --network testnet|mainnet|devnet --config FILE`: deploys the pool's three contracts
 * of (operator wallet, `chain.poolId`) from the operator's highload v3 wallet through the network's
 * ChainSender (chain/poolContracts.ts `deployPoolContractsFrom`), waits until they are active with
 * this build's code in final state, and writes the network and their addresses into FILE
 * (`chain.network`, `chain.contracts`), which `pool start --config FILE` then opens without deploying.
 */
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { deployPoolContractsFrom, type DeployOutcome } from '../chain/poolContracts.ts';
import { ConfigError, type PoolConfig } from '../config/config.ts';
import { ChainPortError, openChainPort } from './chainPort.ts';
import { loadOperatorWallet } from './wallet.ts';

/**
 * Sets `chain.network` and `chain.contracts` in the JSON configuration file `file` (created when
 * missing), keeping every other setting and the file's mode; written to a temporary file and
 * renamed, so a crash leaves the old file or the new one.
 * @throws ConfigError when the file exists but does not hold one JSON object; the file system's errors.
 */
export function writeContractsToConfig(file: string, network: PoolConfig['chain']['network'], outcome: Pick<DeployOutcome, 'contracts'>): void {
  let json: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError([`config file ${file} cannot be read: ${(err as Error).message}`]);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError([`config file ${file} must hold one JSON object`]);
  }
  const chain = json.chain && typeof json.chain === 'object' && !Array.isArray(json.chain) ? (json.chain as Record<string, unknown>) : {};
  const { distribution, operator, registry } = outcome.contracts;
  json.chain = { ...chain, network, contracts: { distribution: distribution.toString(), operator: operator.toString(), registry: registry.toString() } };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  if (existsSync(file)) chmodSync(tmp, statSync(file).mode & 0o777);
  renameSync(tmp, file);
}

/**
 * Runs `pool deploy` on `config` (its network already set from `--network`), printing progress
 * lines through `out`, then writes the addresses into `file`.
 * @param distributionValue nanoTON the distribution contract is deployed with (its reserve).
 * @throws ChainPortError on `local` (the pool deploys there itself) and on devnet without an
 *   endpoint; KeyError; PoolContractsError (unfunded wallet, other code, an expired message);
 *   SendRejectedError; ChainUnavailableError; ConfigError for an unreadable file.
 */
export async function deployCommand(
  config: PoolConfig,
  file: string,
  logger: Logger,
  out: (line: string) => void,
  options: { distributionValue?: bigint; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<DeployOutcome> {
  if (config.chain.network === 'local') throw new ChainPortError('on the local chain `pool start` deploys the contracts itself: pool deploy is for --network devnet|testnet|mainnet');
  const env = options.env ?? process.env;
  const wallet = await loadOperatorWallet(config, env);
  const port = await openChainPort(config, { dataDir: config.dataDir, logger, ownDevnet: false, env });
  try {
    out(`network: ${port.description}`);
    const outcome = await deployPoolContractsFrom({
      reader: port.reader, sender: port.sender, wallet, poolId: BigInt(config.chain.poolId), distributionValue: options.distributionValue, progress: out, signal: options.signal,
    });
    writeContractsToConfig(file, config.chain.network, outcome);
    for (const name of ['distribution', 'operator', 'registry'] as const) out(`${name}: ${outcome.contracts[name].toString()}`);
    out(`written to ${file} (chain.network, chain.contracts); start with: pool start --config ${file}`);
    out(`point your workers' owner_address at the distribution contract: ${outcome.contracts.distribution.toString()}`);
    return outcome;
  } finally {
    await port.close();
  }
}
