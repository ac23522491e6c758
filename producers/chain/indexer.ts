/**
 * The chain indexer: follows each pool contract's transactions in lt order and appends their
 * events on `pool.chain.<contract name>` (producers/chain/contractEvents.ts). The last indexed
 * lt per contract is kept in the cursor bucket after the events are acknowledged; a transaction
 * that cannot be decoded is dead-lettered (its BoC) and passed. The sender of a Cocoon payout is
 * checked against the Cocoon root once, before its first payout is mapped, and the verdict
 * appended (CocoonProxyChecked, producers/chain/proxyAuthenticity.ts).
 */
import { beginCell, storeTransaction, type Address } from '@ton/core';
import type { Logger } from 'pino';
import type { ChainClient } from '../../chain/client.ts';
import { ContractDecodeError } from '../../contracts/codec.ts';
import type { CursorStore } from '../../streams/cursors.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { cocoonPayoutSender, contractTransactionEvents } from './contractEvents.ts';
import { PROXY_CHECKS_SUBJECT, type ProxyAuthenticity } from './proxyAuthenticity.ts';
import { sleep } from '../../runtime/sleep.ts';

export interface IndexedContract {
  /** subject token: `pool.chain.<name>`; `distribution` is the contract whose revenue is booked */
  name: string;
  address: Address;
}

export interface ChainIndexerOptions {
  chain: ChainClient;
  contracts: readonly IndexedContract[];
  /** verdicts on Cocoon payout senders (genuine proxy or not), checked once each */
  proxies: ProxyAuthenticity;
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
    const revenueIntake = contract.name === 'distribution';
    const sender = cocoonPayoutSender(tx, revenueIntake);
    if (sender && options.proxies.verdict(sender) === undefined) {
      const check = await options.proxies.check(sender, tx.hash().toString('hex'));
      await options.store.append(PROXY_CHECKS_SUBJECT, check);
      options.proxies.remember(check.data);
      const { verdict, codeHash, accountState } = check.data;
      if (verdict === 'refused') options.logger.warn({ sender: check.data.sender, codeHash, accountState, txHash: check.data.txHash }, 'Cocoon payout from a sender that is not a genuine Cocoon proxy: booked as revenue of another kind, not proxy revenue');
      else options.logger.info({ sender: check.data.sender, codeHash }, 'Cocoon proxy verified against the Cocoon root');
    }
    try {
      const events = contractTransactionEvents(tx, { contract: contract.address, genuineProxy: (a) => options.proxies.verdict(a) === 'genuine', revenueIntake });
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
