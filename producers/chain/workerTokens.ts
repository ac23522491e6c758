/**
 * Cross-checks what workers claim was paid against their Cocoon worker contracts (issue 11 "Using
 * what it proves"). Each worker's `/jsonstats` names, per proxy, its worker contract
 * (`proxies[].sc_address`, one per owner_address and proxy) and the `tokens` that contract holds as
 * the worker read it (`cached_out_tokens`); the poller records both in WorkerStatsSampled. For a
 * proxy recorded as genuine with a known `worker_fee_per_token` (CocoonProxyChecked, written by the
 * chain indexer), this reads the contract on chain: its code hash against the Cocoon root's
 * `worker_sc_hash`, then `get_cocoon_worker_data` → (owner_address, proxy_address,
 * proxy_public_key, state, tokens) (../shared/cocoon/code-hashes.json, owner-address-facts.md),
 * and records a WorkerTokensChecked; a claim the chain does not bear out (domain/revenue.ts
 * `judgeWorkerTokens`) also raises a WorkerTokensDiverged, an error log and a metric.
 *
 * Chain reads are bounded: a (worker, proxy) is read again only when its claim or contract changes
 * (`cached_out_tokens` moves only when its owner is paid), at most once per `minIntervalMs`, and a
 * divergent one with an unchanged claim again after `recheckMs` (a payout landing later covers it).
 * Three calls per check (account, get-method, chain time); the root is read at start and again only
 * for a code hash it did not publish. The verdicts are events on {@link WORKER_TOKENS_SUBJECT}:
 * projections and replays read them, never the chain. Live only: it follows the stream from its
 * end (a sample missed while it was down is superseded by the next poll of the same worker).
 */
import { Address } from '@ton/core';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { ChainUnavailableError, type ChainReader } from '../../chain/client.ts';
import { judgeWorkerTokens, type WorkerContractReading, type WorkerTokensDivergence } from '../../domain/revenue.ts';
import { subjectFor, type EventData, type PoolEvent } from '../../schemas/catalog.ts';
import type { EventStore, ReadOptions } from '../../streams/eventStore.ts';
import { PROXY_CHECKS_SUBJECT, readCocoonRootParams } from './proxyAuthenticity.ts';

/** Subject of the checks and the divergences. */
export const WORKER_TOKENS_SUBJECT = subjectFor('chain', 'worker-tokens');

/** The counters of the cross-check, unregistered (the caller registers them where it serves metrics). */
export function workerTokensMetrics(): { checks: Counter<'result'>; divergences: Counter<'reason'> } {
  return {
    checks: new Counter({ name: 'pool_worker_tokens_checks_total', help: "Worker contracts read on chain to check a worker's cached_out_tokens, by result (consistent, diverged)", labelNames: ['result'], registers: [] }),
    divergences: new Counter({ name: 'pool_worker_tokens_divergences_total', help: 'WorkerTokensDiverged raised: a worker claims tokens cashed out that its worker contract does not hold, by reason', labelNames: ['reason'], registers: [] }),
  };
}

export interface WorkerTokensCheckOptions {
  store: EventStore;
  reader: Pick<ChainReader, 'getAccount' | 'runGetMethod' | 'chainTime'>;
  /** the Cocoon root whose `worker_sc_hash` a worker contract must have (and whose proxy checks count) */
  root: Address;
  /** adjusted tokens a claim may exceed the contract's by and still be consistent; default 0 */
  toleranceTokens?: bigint;
  /** least time between two checks of one (worker, proxy), milliseconds; default 10 000 */
  minIntervalMs?: number;
  /** when a divergent (worker, proxy) whose claim did not change is read again, milliseconds; default 60 000 */
  recheckMs?: number;
  metrics?: ReturnType<typeof workerTokensMetrics>;
  /** for a stored message that is not a valid event (default: throw); see ReadOptions.onInvalid */
  onInvalid?: ReadOptions['onInvalid'];
  logger: Logger;
  signal: AbortSignal;
}

type Sample = EventData<'WorkerStatsSampled'>;
type Checked = EventData<'WorkerTokensChecked'>;

/** The last check of one (worker, proxy). */
interface Last {
  workerContract: string;
  claimedTokens: string;
  divergence: WorkerTokensDivergence | null;
  atMs: number;
}

/** How long a refused proxy-check lookup waits before the proxy checks are read again, milliseconds. */
const PROXY_RELOAD_MS = 5_000;

const hex = (b: Buffer) => b.toString('hex');

/**
 * Follows the stream and checks each new sample's claims (see the module comment) until `signal`
 * aborts.
 * @throws CocoonRootError when the root does not answer get_cur_params (a wrong root: loud, the
 *   supervisor restarts it); errors of the event store. A chain that cannot answer now
 *   (ChainUnavailableError) only postpones a check to the worker's next sample.
 */
export async function runWorkerTokensCheck(options: WorkerTokensCheckOptions): Promise<void> {
  const tolerance = options.toleranceTokens ?? 0n;
  const minIntervalMs = options.minIntervalMs ?? 10_000;
  const recheckMs = options.recheckMs ?? 60_000;
  const root = options.root.toRawString();
  const last = new Map<string, Last>();
  for (const e of await options.store.readSubject(WORKER_TOKENS_SUBJECT, { onInvalid: options.onInvalid })) {
    if (e.type !== 'WorkerTokensChecked' && e.type !== 'WorkerTokensDiverged') continue;
    const key = `${e.data.workerId}|${e.data.proxy}`;
    if (e.type === 'WorkerTokensChecked') last.set(key, { workerContract: e.data.workerContract, claimedTokens: e.data.claimedTokens, divergence: e.data.consistent ? null : (last.get(key)?.divergence ?? null), atMs: e.data.sampleAtMs });
    const checked = last.get(key);
    if (e.type === 'WorkerTokensDiverged' && checked) checked.divergence = e.data.reason;
  }

  // worker_fee_per_token (nanoTON) of each proxy recorded as genuine for this root
  const fees = new Map<string, bigint>();
  let proxiesReadAtMs = 0;
  const readProxyChecks = async () => {
    proxiesReadAtMs = Date.now();
    for (const e of await options.store.readSubject(PROXY_CHECKS_SUBJECT, { onInvalid: options.onInvalid })) {
      if (e.type === 'CocoonProxyChecked' && e.data.root === root && e.data.verdict === 'genuine' && e.data.workerFeePerTokenNanoton != null) fees.set(e.data.sender, BigInt(e.data.workerFeePerTokenNanoton));
    }
  };
  const feeOf = async (proxy: string) => {
    if (!fees.has(proxy) && Date.now() - proxiesReadAtMs >= PROXY_RELOAD_MS) await readProxyChecks();
    return fees.get(proxy);
  };

  const workerCodeHashes = new Set<string>();
  const foreignCodeHashes = new Set<string>(); // code hashes found not to be the root's, after re-reading it
  const readRoot = async () => workerCodeHashes.add((await readCocoonRootParams(options.reader, options.root)).workerCodeHash);
  const isWorkerCode = async (codeHash: string) => {
    if (workerCodeHashes.has(codeHash)) return true;
    if (foreignCodeHashes.has(codeHash)) return false;
    await readRoot(); // the root may have new params (a new worker code)
    if (workerCodeHashes.has(codeHash)) return true;
    foreignCodeHashes.add(codeHash);
    return false;
  };

  await readProxyChecks();
  await readRoot();

  /** Reads the contract of one claim and returns the events to append. @throws ChainUnavailableError */
  const check = async (sample: Sample, claim: NonNullable<Sample['proxies']>[number], fee: bigint, prev: Last | undefined): Promise<PoolEvent[]> => {
    const contract = Address.parseRaw(claim.workerContract);
    const account = await options.reader.getAccount(contract);
    const deployed = account.state === 'active';
    const codeHash = account.codeHash ? hex(account.codeHash) : null;
    let reading: WorkerContractReading['data'] = null;
    if (deployed && codeHash !== null && (await isWorkerCode(codeHash))) {
      const r = await options.reader.runGetMethod(contract, 'get_cocoon_worker_data');
      if (r.exitCode === 0 || r.exitCode === 1) {
        const owner = r.stack.readAddress().toRawString();
        const proxy = r.stack.readAddress().toRawString();
        reading = { owner, proxy, tokens: r.stack.skip(2).readBigNumber() };
      }
    }
    const { genuine, onChainTokens, divergence } = judgeWorkerTokens({
      claimedTokens: BigInt(claim.cashedOutTokens),
      ownerAddress: sample.ownerAddress!,
      proxy: claim.proxyScAddress,
      contract: { deployed, data: reading },
      toleranceTokens: tolerance,
    });
    const data: Checked = {
      workerId: sample.workerId,
      sampleAtMs: sample.observedAtMs,
      ownerAddress: sample.ownerAddress!,
      proxy: claim.proxyScAddress,
      workerContract: claim.workerContract,
      claimedTokens: claim.cashedOutTokens,
      accountState: account.state,
      codeHash,
      genuine,
      onChainOwner: reading?.owner ?? null,
      onChainProxy: reading?.proxy ?? null,
      onChainTokens: onChainTokens === null ? null : onChainTokens.toString(),
      workerFeePerTokenNanoton: fee.toString(),
      paidNanoton: onChainTokens === null ? null : (onChainTokens * fee).toString(),
      toleranceTokens: tolerance.toString(),
      consistent: divergence === null,
      checkedAtChainTime: await options.reader.chainTime(),
    };
    const id = `${sample.workerId}:${claim.proxyScAddress}:${sample.observedAtMs}`;
    const events: PoolEvent[] = [{ type: 'WorkerTokensChecked', version: 1, id: `worker-tokens:${id}`, data }];
    if (divergence !== null && prev?.divergence !== divergence) {
      events.push({
        type: 'WorkerTokensDiverged',
        version: 1,
        id: `worker-tokens-diverged:${id}`,
        data: { workerId: sample.workerId, reason: divergence, ownerAddress: data.ownerAddress, proxy: data.proxy, workerContract: data.workerContract, claimedTokens: data.claimedTokens, onChainTokens: data.onChainTokens, sampleAtMs: data.sampleAtMs },
      });
    }
    return events;
  };

  for await (const batch of options.store.subscribe({ fromSequence: (await options.store.lastSequence()) + 1, types: ['WorkerStatsSampled'], onInvalid: options.onInvalid, signal: options.signal })) {
    for (const event of batch.events) {
      if (event.type !== 'WorkerStatsSampled' || !event.data.ownerAddress) continue;
      const sample = event.data;
      for (const claim of sample.proxies ?? []) {
        const key = `${sample.workerId}|${claim.proxyScAddress}`;
        const prev = last.get(key);
        if (prev) {
          const since = sample.observedAtMs - prev.atMs;
          const same = prev.workerContract === claim.workerContract && prev.claimedTokens === claim.cashedOutTokens;
          if (since < minIntervalMs || (same && (prev.divergence === null || since < recheckMs))) continue;
        }
        const fee = await feeOf(claim.proxyScAddress);
        if (fee === undefined) continue; // not a proxy recorded as genuine with its fee: nothing to compare with
        let events: PoolEvent[];
        try {
          events = await check(sample, claim, fee, prev);
        } catch (err) {
          if (!(err instanceof ChainUnavailableError)) throw err;
          options.logger.warn({ err, workerId: sample.workerId }, 'worker contract not read: the chain cannot answer now; checked at a later sample');
          continue;
        }
        await options.store.appendMany(events.map((e) => ({ subject: WORKER_TOKENS_SUBJECT, event: e })));
        const checked = events[0]!.data as Checked;
        const diverged = events[1]?.type === 'WorkerTokensDiverged' ? events[1].data : null;
        const divergence = checked.consistent ? null : (diverged?.reason ?? prev?.divergence ?? null);
        last.set(key, { workerContract: claim.workerContract, claimedTokens: claim.cashedOutTokens, divergence, atMs: sample.observedAtMs });
        options.metrics?.checks.inc({ result: checked.consistent ? 'consistent' : 'diverged' });
        if (diverged) {
          options.metrics?.divergences.inc({ reason: diverged.reason });
          options.logger.error({ ...diverged }, `worker ${diverged.workerId} claims ${diverged.claimedTokens} tokens cashed out; its worker contract ${diverged.workerContract} holds ${diverged.onChainTokens ?? 'no genuine record'} (${diverged.reason})`);
        }
      }
    }
  }
}
