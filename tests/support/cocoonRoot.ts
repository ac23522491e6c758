/**
 * The local chain's Cocoon side for indexer tests: the emulated proxy contract (emulator/proxy.ts)
 * owned by a wallet, the stand-in Cocoon root (emulator/cocoonRoot.ts) publishing its code, and the
 * proxy authenticity checker reading that root.
 */
import type { Address } from '@ton/core';
import type { SendResult } from '../../chain/client.ts';
import type { LocalChain } from '../../chain/localChain.ts';
import { deployStandInRoot } from '../../emulator/cocoonRoot.ts';
import { deployEmulatedProxy, EMULATED_PROXY_CODE, relayedPayouts } from '../../emulator/proxy.ts';
import { openProxyAuthenticity, type ProxyAuthenticity } from '../../producers/chain/proxyAuthenticity.ts';
import pino from 'pino';
import type { ChainIndexerOptions, IndexedContract } from '../../producers/chain/indexer.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import type { TestNats } from './nats.ts';

export interface EmulatedCocoon {
  /** the emulated proxy contract: the sender of its payouts */
  proxy: Address;
  root: Address;
  /** checker on `root`, its cache loaded from the store */
  proxies: ProxyAuthenticity;
  /** pays `payouts` (nanoTON, query_id) to `to` through the emulated proxy */
  pay(to: Address, payouts: readonly { value: bigint; queryId: bigint }[]): Promise<SendResult>;
}

/**
 * Deploys (once) the emulated proxy owned by wallet `proxyWallet` and the stand-in root (from
 * `operatorWallet`, params version 7), and opens the checker on it.
 */
export async function emulatedCocoon(chain: LocalChain, store: EventStore, proxyWallet = 'proxy-1', operatorWallet = 'operator'): Promise<EmulatedCocoon> {
  const proxy = await deployEmulatedProxy(chain, proxyWallet);
  const root = await deployStandInRoot(chain, operatorWallet, {
    owner: chain.walletAddress(operatorWallet), paramsVersion: 7, pricePerToken: 20n, workerFeePerToken: 16n, proxyCode: EMULATED_PROXY_CODE,
  });
  return {
    proxy,
    root,
    proxies: await openProxyAuthenticity({ reader: chain, root, store }),
    pay: (to, payouts) => chain.send(proxyWallet, relayedPayouts(proxy, to, payouts)),
  };
}

/**
 * Options of the chain indexer over `contracts` of the local chain `chain`, against the test's real
 * NATS (store, cursor bucket, dead letters) and the emulated Cocoon's proxy verdicts; never aborted.
 */
export async function indexerOptions(nats: TestNats, chain: LocalChain, contracts: IndexedContract[], cocoon: EmulatedCocoon): Promise<ChainIndexerOptions> {
  return {
    chain,
    contracts,
    proxies: cocoon.proxies,
    store: nats.store,
    cursors: await openCursorStore(nats.nc),
    deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
  };
}
