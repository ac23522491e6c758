/**
 * The emulated proxy pays as Cocoon's does (issue 12), on the local chain (@ton/sandbox) with
 * emulated workers over real sockets: one account per owner_address shared by its workers, paid
 * the whole owed balance × worker_fee_per_token when it reaches the auto-pay threshold, or at once
 * when one of its workers' `/request/payout` asks; an owner below the threshold is not paid. Each
 * payout first raises the owner's worker contract's `tokens` (the stand-in with Cocoon's storage
 * and `get_cocoon_worker_data`), which the owner's workers then report as `cached_out_tokens`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { DISTRIBUTION_OPS } from '../../contracts/distribution.ts';
import { workerContractAddress } from '../../emulator/cocoonWorkerContract.ts';
import { deployEmulatedProxy, emulatedProxyPublicKey, readWorkerContractTokens, startEmulatedProxy } from '../../emulator/proxy.ts';
import { EmulatedWorker } from '../../emulator/worker.ts';
import { until } from '../support/until.ts';

const dir = mkdtempSync(join(tmpdir(), 'pool-emulated-proxy-'));
const FEE = 1000n; // nanoTON per adjusted token
const THRESHOLD = 1_000_000_000n; // 1 TON
let chain: LocalChain;
let proxy: Address;
const workers: EmulatedWorker[] = [];

test.before(async () => {
  chain = await openLocalChain({ dir: join(dir, 'chain'), wallets: ['proxy-1', 'owner-a', 'owner-b'] });
  proxy = await deployEmulatedProxy(chain, 'proxy-1');
});
test.after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await chain.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Values (nanoTON) of the Cocoon payouts (op 0xc59a7cd3) the proxy sent to `owner`, oldest first. */
async function payoutsTo(owner: Address): Promise<bigint[]> {
  const txs = await chain.getTransactions(owner, { limit: 100 });
  return txs.flatMap((tx) => {
    const m = tx.inMessage;
    if (!m || m.info.type !== 'internal' || !m.info.src.equals(proxy)) return [];
    const s = m.body.beginParse();
    return s.remainingBits >= 32 && s.loadUint(32) === DISTRIBUTION_OPS.cocoonPayout ? [m.info.value.coins] : [];
  });
}

/** `get_cocoon_worker_data` of `owner`'s worker contract at the proxy: (owner, proxy, key, state, tokens). */
async function workerContractOf(owner: Address) {
  const address = workerContractAddress({ owner, proxy, proxyPublicKey: emulatedProxyPublicKey(proxy) });
  const r = await chain.runGetMethod(address, 'get_cocoon_worker_data');
  assert.is(r.exitCode, 0, 'get_cocoon_worker_data runs');
  return { owner: r.stack.readAddress(), proxy: r.stack.readAddress(), key: r.stack.readBigNumber(), state: r.stack.readNumber(), tokens: r.stack.readBigNumber() };
}

/** `proxies[0].cached_out_tokens` of `w`'s /jsonstats. */
async function cashedOut(w: EmulatedWorker): Promise<number> {
  const body = (await (await fetch(`${w.url}/jsonstats`)).json()) as { proxies: { cached_out_tokens: number }[] };
  return body.proxies[0]!.cached_out_tokens;
}

/** Completes requests on `w`, one by one, until its tokens since `from` are worth at least `nanoton`. */
function workUntil(w: EmulatedWorker, from: number, nanoton: bigint): void {
  while (BigInt(w.cumulativeAdjustedTokens() - from) * FEE < nanoton) w.completeRequests(1);
}

test('an owner is paid its workers\' whole owed balance once it passes the threshold; another below it, not until its worker asks', async () => {
  const a = chain.walletAddress('owner-a');
  const b = chain.walletAddress('owner-b');
  const make = (seed: number) => {
    const w = new EmulatedWorker({ port: 0, seed, logFile: join(dir, `w${seed}.log`), requestsPerSecond: 0, tickMs: 1000, faults: undefined, proxyScAddress: proxy.toRawString() });
    workers.push(w);
    return w;
  };
  const [a1, a2, b1] = [make(1), make(2), make(3)];
  await Promise.all([a1, a2, b1].map((w) => w.start()));
  const paying = startEmulatedProxy({
    chain, wallet: 'proxy-1', proxy, workerFeePerToken: FEE, autoPayThresholdNanoton: THRESHOLD, payIntervalMs: 50, logger: pino({ level: 'silent' }), workerContractTokens: new Map(),
    workers: [{ id: 'a1', worker: a1, owner: a }, { id: 'a2', worker: a2, owner: a }, { id: 'b1', worker: b1, owner: b }],
  });
  try {
    // synchronously: no pay round runs in between, so a's account passes the threshold only with both workers' tokens
    workUntil(a1, 0, (THRESHOLD * 6n) / 10n);
    workUntil(a2, 0, (THRESHOLD * 6n) / 10n);
    workUntil(b1, 0, THRESHOLD / 2n);
    assert.ok(BigInt(a1.cumulativeAdjustedTokens()) * FEE < THRESHOLD && BigInt(a2.cumulativeAdjustedTokens()) * FEE < THRESHOLD, 'neither worker alone is owed the threshold');
    const owedA = BigInt(a1.cumulativeAdjustedTokens() + a2.cumulativeAdjustedTokens()) * FEE;
    const paidA = await until('owner a paid', async () => ((await payoutsTo(a)).length ? payoutsTo(a) : null), 60_000);
    assert.equal(paidA, [owedA], 'one payout of the account\'s whole balance, both workers together');
    assert.equal(await payoutsTo(b), [], 'b owes less than the threshold: not paid in the same rounds');
    const contractA = await workerContractOf(a);
    assert.ok(contractA.owner.equals(a) && contractA.proxy.equals(proxy), 'the contract is (owner a, this proxy)');
    assert.is(contractA.key, emulatedProxyPublicKey(proxy));
    assert.is(contractA.tokens * FEE, owedA, 'its tokens × worker_fee_per_token = what a was paid');
    assert.is(await cashedOut(a1), Number(contractA.tokens), "a1 reports its contract's tokens as cached_out_tokens");
    assert.is(await cashedOut(a2), Number(contractA.tokens), 'a2 shares the contract (one per owner and proxy)');

    // b's worker asks: its whole (sub-threshold) balance is paid at once
    const owedB = BigInt(b1.cumulativeAdjustedTokens()) * FEE;
    const answer = await (await fetch(`${b1.url}/request/payout?proxy=${proxy.toRawString()}`)).text();
    assert.match(answer, /request sent<br\/>/);
    assert.equal(await until('owner b paid', async () => ((await payoutsTo(b)).length ? payoutsTo(b) : null), 60_000), [owedB]);

    // nothing owed since: a request pays nothing; new work below the threshold is not paid until asked again
    await fetch(`${b1.url}/request/payout?proxy=${proxy.toRawString()}`);
    const before = b1.cumulativeAdjustedTokens();
    workUntil(b1, before, THRESHOLD / 10n);
    const owedB2 = BigInt(b1.cumulativeAdjustedTokens() - before) * FEE;
    await fetch(`${b1.url}/request/payout?proxy=${proxy.toRawString()}`);
    assert.equal(await until('owner b paid again', async () => ((await payoutsTo(b)).length === 2 ? payoutsTo(b) : null), 60_000), [owedB, owedB2]);
    assert.equal(await payoutsTo(a), [owedA], 'a owes nothing new: no second payout');
    assert.is((await workerContractOf(b)).tokens * FEE, owedB + owedB2, "b's contract holds the cumulative tokens of both payouts");
  } finally {
    await paying.stop();
  }

  // a new proxy process (a pool restart) starts from the contracts' tokens the pool read: a new worker of b reports them
  const b2 = make(4);
  await b2.start();
  b2.completeRequests(1); // a worker lists its proxy once it has served a request through it
  const baseline = b2.cumulativeAdjustedTokens(); // the proxy owes what its workers do after it starts
  const again = startEmulatedProxy({
    chain, wallet: 'proxy-1', proxy, workerFeePerToken: FEE, autoPayThresholdNanoton: THRESHOLD, payIntervalMs: 50, logger: pino({ level: 'silent' }),
    workerContractTokens: await readWorkerContractTokens(chain, proxy, [b]),
    workers: [{ id: 'b2', worker: b2, owner: b }],
  });
  try {
    const tokensB = Number((await workerContractOf(b)).tokens);
    assert.is(await until('b2 reports the contract', async () => ((await cashedOut(b2)) === tokensB ? tokensB : null), 30_000), tokensB);
    workUntil(b2, baseline, THRESHOLD);
    await until('b paid a third time', async () => ((await payoutsTo(b)).length === 3 ? true : null), 60_000);
    assert.is((await workerContractOf(b)).tokens, BigInt(tokensB + b2.cumulativeAdjustedTokens() - baseline), 'the update continues from the chain, not from 0');
  } finally {
    await again.stop();
  }
});

test.run();
