/**
 * The chain indexer: follows each pool contract's transactions (and the operator wallet's) in lt
 * order and appends their events on `pool.chain.<contract name>` (producers/chain/contractEvents.ts). The last indexed
 * lt per contract is kept in the cursor bucket after the events are acknowledged; a transaction
 * that cannot be decoded is dead-lettered (its BoC) and passed.
 */
import { beginCell, storeTransaction, type Address } from '@ton/core';
import type { Logger } from 'pino';
import type { ChainClient } from '../../chain/client.ts';
import { ContractDecodeError } from '../../contracts/codec.ts';
import type { CursorStore } from '../../streams/cursors.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { contractTransactionEvents, walletTransactionEvents } from './contractEvents.ts';
import { sleep } from '../../runtime/sleep.ts';

export interface IndexedContract {
  /** subject token: `pool.chain.<name>`; `distribution` is the contract whose revenue is booked */
  name: string;
  address: Address;
  /** 'wallet': the operator's highload wallet v3, indexed with `walletTransactionEvents`; default a pool contract */
  kind?: 'contract' | 'wallet';
}

export interface ChainIndexerOptions {
  chain: ChainClient;
  contracts: readonly IndexedContract[];
  knownProxies: readonly Address[];
  store: EventStore;
  cursors: CursorStore;
  deadLetter: DeadLetterSink;
  logger: Logger;
  signal: AbortSignal;
  /** milliseconds between polls when idle; default 300 */
  intervalMs?: number;
}

/** Indexes new transactions of one contract once; returns how many it read. */
export async function indexOnce(contract: IndexedContract, options: ChainIndexerOptions): Promise<number> {
  const key = `chain.${contract.name}`;
  const cursor = await options.cursors.get<{ lt: string }>(key);
  const txs = await options.chain.getTransactions(contract.address, { afterLt: cursor ? BigInt(cursor.lt) : undefined, limit: 200 });
  if (!txs.length) return 0;
  const subject = `pool.chain.${contract.name}`;
  for (const tx of txs) {
    try {
      const events = contract.kind === 'wallet'
        ? walletTransactionEvents(tx, contract.address)
        : contractTransactionEvents(tx, { contract: contract.address, knownProxies: options.knownProxies, revenueIntake: contract.name === 'distribution' });
      if (events.length) await options.store.appendMany(events.map((event) => ({ subject, event })));
      for (const e of events) {
        if (e.type === 'ChainTransactionFailed') options.logger.warn({ contract: contract.name, exitCode: e.data.exitCode, op: e.data.op, queryId: e.data.queryId, txHash: e.data.txHash, lt: e.data.lt, sender: e.data.sender }, 'contract transaction failed');
      }
    } catch (err) {
      if (!(err instanceof ContractDecodeError)) throw err;
      options.logger.warn({ err, lt: String(tx.lt) }, 'transaction quarantined');
      await options.deadLetter({
        source: 'chain-indexer',
        reason: err.message,
        payload: beginCell().store(storeTransaction(tx)).endCell().toBoc(),
        context: { contract: contract.address.toRawString(), lt: String(tx.lt), txHash: tx.hash().toString('hex') },
      });
    }
  }
  await options.cursors.put(key, { lt: String(txs[txs.length - 1]!.lt) });
  return txs.length;
}

/** Indexes every contract until `signal` aborts. */
export async function runChainIndexer(options: ChainIndexerOptions): Promise<void> {
  while (!options.signal.aborted) {
    let read = 0;
    for (const contract of options.contracts) read += await indexOnce(contract, options);
    if (read) continue; // more may be waiting
    await sleep(options.intervalMs ?? 300, options.signal);
  }
}
