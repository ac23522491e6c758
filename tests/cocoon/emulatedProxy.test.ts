/**
 * The emulated proxy pays as Cocoon's does (issue 12), on the local chain (@ton/sandbox) with
 * emulated workers over real sockets: one account per owner_address shared by its workers, paid
 * the whole owed balance × worker_fee_per_token when it reaches the auto-pay threshold, or at once
 * when one of its workers' `/request/payout` asks; an owner below the threshold is not paid.
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
import { deployEmulatedProxy, startEmulatedProxy } from '../../emulator/proxy.ts';
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
    chain, wallet: 'proxy-1', proxy, workerFeePerToken: FEE, autoPayThresholdNanoton: THRESHOLD, payIntervalMs: 50, logger: pino({ level: 'silent' }),
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
  } finally {
    await paying.stop();
  }
});

test.run();
