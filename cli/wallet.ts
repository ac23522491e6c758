/**
 * `pool wallet`: the operator's highload v3 wallet on the configured network — the address to fund,
 * its state and balance — and the pool's contracts of that wallet (where `pool deploy` puts them)
 * with theirs, read through the network's ChainReader (final state).
 */
import { join } from 'node:path';
import { fromNano } from '@ton/core';
import type { Logger } from 'pino';
import { ensureMnemonicFile, loadOperatorKey } from '../chain/keys.ts';
import { deployCost, operatorWallet, poolContractPlan, type OperatorWallet } from '../chain/poolContracts.ts';
import type { PoolConfig } from '../config/config.ts';
import { ChainPortError, openChainPort } from './chainPort.ts';

/** Where the pool's own devnet keeps its operator mnemonic when none is configured. */
export function devnetMnemonicPath(dataDir: string): string {
  return join(dataDir, 'chain', 'operator.mnemonic');
}

/**
 * The operator's wallet of `config.chain.wallet`: its key from the configured variable or file
 * (chain/keys.ts). On devnet with neither configured, `<dataDir>/chain/operator.mnemonic` (created
 * with fresh words, mode 0600, when missing) when `devnetDataDir` is given.
 * @throws KeyError (never quoting the words).
 */
export async function loadOperatorWallet(config: PoolConfig, env: NodeJS.ProcessEnv, devnetDataDir?: string): Promise<OperatorWallet> {
  let source = config.chain.wallet;
  if (config.chain.network === 'devnet' && devnetDataDir && !source.mnemonicFile && !env[source.mnemonicEnv]) {
    const file = devnetMnemonicPath(devnetDataDir);
    await ensureMnemonicFile(file);
    source = { ...source, mnemonicFile: file };
  }
  return operatorWallet(await loadOperatorKey(source, env), config.chain.wallet.subwalletId, config.chain.wallet.timeoutSeconds);
}

/**
 * Prints (through `out`, one line each) the network, the operator wallet's address to fund
 * (non-bounceable, as exchanges and wallets send to an uninitialised address), its state and
 * balance, and the pool's contracts of that wallet with their state and balance.
 * @throws ChainPortError on `local` (its wallets are sandbox treasuries, nothing to fund) and on
 *   devnet without `chain.tonCenter.url`; KeyError; ChainUnavailableError.
 */
export async function walletCommand(config: PoolConfig, logger: Logger, out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (config.chain.network === 'local') {
    throw new ChainPortError('the local chain\'s wallets are sandbox treasuries funded when created: there is nothing to fund. Choose a network: --chain devnet|testnet|mainnet');
  }
  const wallet = await loadOperatorWallet(config, env);
  const { address } = wallet;
  const port = await openChainPort(config, { dataDir: config.dataDir, logger, ownDevnet: false, env });
  try {
    const account = await port.reader.getAccount(address);
    out(`network: ${port.description}`);
    out(`operator wallet (highload v3, subwallet id ${wallet.config.subwalletId}, timeout ${wallet.config.timeout} s)`);
    out(`  address to fund: ${address.toString({ bounceable: false, testOnly: config.chain.network !== 'mainnet' })}`);
    out(`  raw: ${address.toRawString()}`);
    out(`  state: ${account.state}, balance: ${fromNano(account.balance)} TON`);
    const plan = await poolContractPlan(address, BigInt(config.chain.poolId));
    let deployed = true;
    out(`pool contracts of this wallet (pool id ${config.chain.poolId}):`);
    for (const name of ['distribution', 'operator', 'registry'] as const) {
      const contract = await port.reader.getAccount(plan.contracts[name]);
      const code = contract.state !== 'active' ? '' : contract.codeHash?.equals(plan.codeHashes[name]) ? ', this build\'s code' : ', OTHER code than this build\'s';
      if (contract.state !== 'active') deployed = false;
      out(`  ${name}: ${plan.contracts[name].toString()} (${contract.state}${code}), balance: ${fromNano(contract.balance)} TON`);
    }
    const needs = deployCost();
    if (!deployed && account.balance < needs) out(`fund the wallet with at least ${fromNano(needs - account.balance)} TON more before \`pool deploy\` (it needs ${fromNano(needs)} TON)`);
    else if (!deployed) out('the wallet can pay for `pool deploy`');
  } finally {
    await port.close();
  }
}
