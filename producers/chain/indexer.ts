/**
 * The chain indexer: follows each pool contract's transactions (and the operator wallet's) in lt
 * order and appends their events on `pool.chain.<contract name>` (producers/chain/contractEvents.ts).
 * The last indexed transaction per contract ({lt, hash}) is kept in the cursor bucket after the
 * events are acknowledged; a transaction that cannot be decoded is dead-lettered (its BoC) and
 * passed. The sender of a Cocoon payout (direct, or tagged by a member's forwarder) is checked
 * against the Cocoon root once, before its first payout is mapped, and the verdict appended
 * (CocoonProxyChecked, producers/chain/proxyAuthenticity.ts). The events of one page of
 * transactions are appended together (one round of pipelined publishes), then the cursor.
 *
 * Continuity: whatever the ChainReader returns must link, each transaction's
 * `prevTransactionLt`/`prevTransactionHash` naming the one before it (the first one: the cursor;
 * with no cursor, the account's first transaction, prev lt 0). At a break the indexer indexes up
 * to it and stops there for that contract: an error log, `pool_chain_continuity_breaks_total`,
 * and the same read again on the next poll; it never skips past a transaction it has not seen.
 */
import { beginCell, storeTransaction, type Address } from '@ton/core';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { ChainReader } from '../../chain/client.ts';
import { firstBreak, txLink, type TxRef } from '../../chain/continuity.ts';
import { ContractDecodeError } from '../../contracts/codec.ts';
import type { CursorStore } from '../../streams/cursors.ts';
import type { DeadLetterSink } from '../../streams/deadLetter.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { cocoonPayoutSender, contractTransactionEvents, walletTransactionEvents } from './contractEvents.ts';
import { PROXY_CHECKS_SUBJECT, type ProxyAuthenticity } from './proxyAuthenticity.ts';
import { sleep } from '../../runtime/sleep.ts';
import { subjectFor, type PoolEvent } from '../../schemas/catalog.ts';

export interface IndexedContract {
  /** subject token: `pool.chain.<name>`; `distribution` is the contract whose revenue is booked */
  name: string;
  address: Address;
  /** 'wallet': the operator's highload wallet v3, indexed with `walletTransactionEvents`; default a pool contract */
  kind?: 'contract' | 'wallet';
}

export interface ChainIndexerOptions {
  chain: ChainReader;
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
  /** counts continuity breaks by contract; see {@link chainIndexerMetrics} */
  continuityBreaks?: Counter<'contract'>;
}

/** The indexer's metrics, unregistered (the caller registers them): continuity breaks by contract. */
export function chainIndexerMetrics(): { continuityBreaks: Counter<'contract'> } {
  return {
    continuityBreaks: new Counter({ name: 'pool_chain_continuity_breaks_total', help: 'Chain reads whose transactions did not link to the last indexed one (the indexer waits, never skips)', labelNames: ['contract'], registers: [] }),
  };
}

/** A stored cursor: `{lt, hash}`; cursors written before hashes were kept hold `{lt}` only. */
interface StoredCursor {
  lt: string;
  hash?: string;
}

function parseCursor(key: string, value: StoredCursor | null): StoredCursor | null {
  if (value === null) return null;
  if (typeof value !== 'object' || typeof value.lt !== 'string' || !/^\d+$/.test(value.lt) || (value.hash !== undefined && !/^[0-9a-f]{64}$/.test(value.hash))) {
    throw new Error(`cursor ${key} is not a chain cursor: ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The cursor as {lt, hash}. An old `{lt}` cursor is migrated once: the hash of the transaction
 * at that lt is read from the chain and stored. Null when there is no cursor or it is `{lt: 0}`
 * (the start); 'unknown' when the old cursor's lt is not a transaction of the contract (an error
 * log; the caller waits).
 */
async function readCursor(contract: IndexedContract, key: string, options: ChainIndexerOptions): Promise<TxRef | null | 'unknown'> {
  const stored = parseCursor(key, await options.cursors.get<StoredCursor>(key));
  if (stored === null) return null;
  const lt = BigInt(stored.lt);
  if (stored.hash !== undefined) return { lt, hash: stored.hash };
  if (lt === 0n) return null; // before the first transaction: index from the start
  const [tx] = await options.chain.getTransactions(contract.address, { afterLt: lt - 1n, limit: 1 });
  if (tx === undefined || tx.lt !== lt) {
    options.logger.error({ contract: contract.name, lt: stored.lt, found: tx === undefined ? null : String(tx.lt) }, 'old chain cursor names no transaction of the contract; not indexing it');
    options.continuityBreaks?.inc({ contract: contract.name });
    return 'unknown';
  }
  const ref = { lt, hash: tx.hash().toString('hex') };
  await options.cursors.put(key, { lt: stored.lt, hash: ref.hash });
  options.logger.info({ contract: contract.name, lt: stored.lt }, 'chain cursor migrated to {lt, hash}');
  return ref;
}

/** Indexes new transactions of one contract once; returns how many it read. */
export async function indexOnce(contract: IndexedContract, options: ChainIndexerOptions): Promise<number> {
  const key = `chain.${contract.name}`;
  const cursor = await readCursor(contract, key, options);
  if (cursor === 'unknown') return 0;
  const read = await options.chain.getTransactions(contract.address, { afterLt: cursor?.lt, limit: 200 });
  const broken = firstBreak(read.map(txLink), cursor);
  const txs = broken < 0 ? read : read.slice(0, broken);
  if (broken >= 0) {
    const before = broken === 0 ? cursor : txLink(read[broken - 1]!);
    const found = txLink(read[broken]!);
    options.logger.error(
      { contract: contract.name, after: before && { lt: String(before.lt), hash: before.hash }, found: { lt: String(found.lt), hash: found.hash, prevLt: String(found.prev.lt), prevHash: found.prev.hash } },
      'chain transactions do not link: a transaction is missing; indexing stops here until the chain reader gives it',
    );
    options.continuityBreaks?.inc({ contract: contract.name });
  }
  if (!txs.length) return 0;
  const subject = subjectFor('chain', contract.name);
  const pending: { subject: string; event: PoolEvent }[] = [];
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
      const events = contract.kind === 'wallet'
        ? walletTransactionEvents(tx, contract.address)
        : contractTransactionEvents(tx, {
          contract: contract.address,
          genuineProxy: (a) => options.proxies.verdict(a) === 'genuine',
          workerFeePerToken: (a) => options.proxies.info(a)?.workerFeePerToken ?? null,
          revenueIntake,
        });
      for (const event of events) pending.push({ subject, event });
      for (const e of events) {
        if (e.type === 'MemberRevenueReceived') options.logger.info({ member: e.data.member, forwarder: e.data.forwarder, kind: e.data.kind, proxy: e.data.proxy, knownProxy: e.data.knownProxy, amountNanoton: e.data.amountNanoton, verifiedTokens: e.data.verifiedTokens, txHash: e.data.txHash }, 'member revenue booked (forwarded by the member\'s forwarder)');
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
  if (pending.length) await options.store.appendMany(pending);
  const last = txs[txs.length - 1]!;
  await options.cursors.put(key, { lt: String(last.lt), hash: last.hash().toString('hex') });
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
