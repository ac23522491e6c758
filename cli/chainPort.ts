/**
 * The chain port of the configured network (`chain.network`), the one place the pool chooses it:
 * - `local`: the local chain on @ton/sandbox under `<dataDir>/chain`, read and written in-process;
 * - `devnet`: TON Center's API over HTTP, to the pool's own devnet endpoint (devnet/server.ts over
 *   the local chain under `<dataDir>/chain`, started here) or, when `chain.tonCenter.url` is set,
 *   to one already running (`pool devnet --port P`);
 * - `testnet`, `mainnet`: TON Center at `chain.tonCenter.url` (https://testnet.toncenter.com,
 *   https://toncenter.com by default), with the API key from the variable `chain.tonCenter.apiKeyEnv`.
 * On devnet and the real networks every read and send goes through the TON Center client
 * (chain/toncenter/), the same code whatever the endpoint.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Metric } from 'prom-client';
import type { ChainReader, ChainSender, WalletName } from '../chain/client.ts';
import { openLocalChain, type LocalChain } from '../chain/localChain.ts';
import { openTonCenter } from '../chain/toncenter/chain.ts';
import type { Network, PoolConfig } from '../config/config.ts';
import { DEVNET_FAULT_PROFILES } from '../devnet/faults.ts';
import { startDevnet } from '../devnet/server.ts';

/** The chain the pool runs on. */
export interface ChainPort {
  network: Network;
  reader: ChainReader;
  sender: ChainSender;
  /**
   * The local chain under `<dataDir>/chain`: the pool's chain on `local`; on `devnet` with the pool's
   * own endpoint, the chain behind it (the emulated Cocoon side, which is not the pool, pays through
   * it directly); null otherwise.
   */
  local: LocalChain | null;
  /** base URL of the TON Center API the reader and sender use (the devnet endpoint's on devnet); null on local */
  tonCenter: string | null;
  /** one line for the start-up summary, e.g. `testnet via TON Center https://testnet.toncenter.com (API key from TONCENTER_API_KEY)` */
  description: string;
  /** prom-client metrics of the TON Center client (requests, retries, unavailability); [] on local */
  metrics: Metric[];
  /** TON Center requests made so far, by method; {} on local */
  requests(): Record<string, number>;
  /** stops the devnet endpoint and closes the local chain, as opened here */
  close(): Promise<void>;
}

/** The configured network cannot be opened as asked (e.g. `pool wallet` on devnet without an endpoint). */
export class ChainPortError extends Error {
  override name = 'ChainPortError';
}

/**
 * Opens the chain port of `config.chain.network` (see the module comment).
 * @param options.dataDir the resolved data dir (`<dataDir>/chain` holds the local chain).
 * @param options.wallets local chain treasuries to have (local and the pool's own devnet).
 * @param options.ownDevnet on devnet without `chain.tonCenter.url`: start the endpoint here (`pool
 *   start`), or refuse (`pool wallet`, `pool deploy`: the chain must outlive the command).
 * @throws ChainPortError for devnet without an endpoint when `ownDevnet` is false; the local
 *   chain's and the endpoint's start errors; the TON Center client's option errors.
 */
export async function openChainPort(
  config: PoolConfig,
  options: { dataDir: string; logger: Logger; wallets?: readonly WalletName[]; ownDevnet: boolean; env?: NodeJS.ProcessEnv },
): Promise<ChainPort> {
  const { network, tonCenter } = config.chain;
  const chainDir = join(options.dataDir, 'chain');
  if (network === 'local') {
    const chain = await openLocalChain({ dir: chainDir, wallets: options.wallets });
    return { network, reader: chain, sender: chain, local: chain, tonCenter: null, description: `local @ton/sandbox (${chainDir})`, metrics: [], requests: () => ({}), close: () => chain.close() };
  }
  const env = options.env ?? process.env;
  const keyed = !!env[tonCenter.apiKeyEnv];
  const client = (endpoint: string) =>
    openTonCenter({ endpoint, apiKeyEnv: keyed ? tonCenter.apiKeyEnv : undefined, rps: tonCenter.requestsPerSecond, logger: options.logger.child({ component: 'toncenter' }), env });
  const key = keyed ? `API key from ${tonCenter.apiKeyEnv}` : `no API key (${tonCenter.apiKeyEnv} unset)`;

  if (network === 'devnet' && tonCenter.url === null) {
    if (!options.ownDevnet) {
      throw new ChainPortError('on devnet this command needs a running endpoint: start one with `pool devnet --port P` and set chain.tonCenter.url to http://127.0.0.1:P');
    }
    const chain = await openLocalChain({ dir: chainDir, wallets: options.wallets });
    let devnet;
    try {
      devnet = await startDevnet({ chain, port: 0, host: '127.0.0.1', finalityLagSeconds: config.chain.devnet.finalityLagSeconds, faults: DEVNET_FAULT_PROFILES[config.chain.devnet.faults], logger: options.logger.child({ component: 'devnet' }, { level: 'warn' }) }); // not a line per request
    } catch (err) {
      await chain.close();
      throw err;
    }
    const port = client(devnet.url);
    return {
      network, reader: port.reader, sender: port.sender, local: chain, tonCenter: devnet.url,
      description: `devnet: the pool's TON Center-compatible endpoint ${devnet.url} over @ton/sandbox (${chainDir}), finality lag ${config.chain.devnet.finalityLagSeconds} s, faults ${config.chain.devnet.faults}`,
      metrics: port.metrics, requests: port.requests,
      close: async () => {
        await devnet.close();
        await chain.close();
      },
    };
  }
  const url = tonCenter.url!; // resolveConfig requires it on testnet and mainnet
  const port = client(url);
  return {
    network, reader: port.reader, sender: port.sender, local: null, tonCenter: url,
    description: `${network} via TON Center ${url} (${key}, ${tonCenter.requestsPerSecond} requests/s)`,
    metrics: port.metrics, requests: port.requests, close: async () => {},
  };
}
