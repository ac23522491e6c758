/**
 * The cross-check of /jsonstats `cached_out_tokens` against Cocoon worker contracts (issue 11), on
 * the local chain (@ton/sandbox) and a real nats-server: a claim the worker contract bears out is
 * consistent and records what the network paid; a claim beyond it, a contract with other code and
 * a genuine contract of another proxy each raise a WorkerTokensDiverged once; an unchanged claim
 * is not read again; samples of an unknown proxy are not read at all; a restarted checker
 * continues from its recorded checks, and nothing downstream needs the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Address } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { workerContractAddress } from '../../emulator/cocoonWorkerContract.ts';
import { deployEmulatedProxy, emulatedProxyPublicKey, relayedPayouts, relayedWorkerUpdate } from '../../emulator/proxy.ts';
import { PROXY_CHECKS_SUBJECT } from '../../producers/chain/proxyAuthenticity.ts';
import { runProjection } from '../../projectors/runner.ts';
import { buildReadApi } from '../../read-api/server.ts';
import { workerContractsProjection } from '../../projectors/workerContracts.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { countingReader } from '../support/chainReader.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { runWorkerTokensCheck, WORKER_TOKENS_SUBJECT, workerTokensMetrics } from '../../producers/chain/workerTokens.ts';
import type { EventData, PoolEvent } from '../../schemas/catalog.ts';
import { emulatedCocoon, type EmulatedCocoon } from '../support/cocoonRoot.ts';
import { sample } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

const FEE = 16n; // the stand-in root's worker_fee_per_token (tests/support/cocoonRoot.ts)
const dir = mkdtempSync(join(tmpdir(), 'pool-worker-tokens-'));
let nats: TestNats;
let pg: TestDb;
let chain: LocalChain;
let cocoon: EmulatedCocoon;
/** owner_address of the honest workers (a member's forwarder in the pool; any account here) */
let owner: Address;
/** another wallet's emulated proxy: genuine code, but not the proxy the workers name */
let otherProxy: Address;

const { reader, total: calls } = countingReader(() => chain);

/** Pays `to` through `proxy` (owned by `wallet`) for `newTokens` cumulative, as the emulated proxy does. */
async function pay(wallet: string, proxy: Address, to: Address, newTokens: bigint, paidTokens: bigint, queryId: bigint) {
  const r = await chain.send(wallet, [relayedWorkerUpdate(proxy, to, emulatedProxyPublicKey(proxy), queryId, newTokens), ...relayedPayouts(proxy, to, [{ value: paidTokens * FEE, queryId }])]);
  assert.not.ok(r.transactions.some((t) => t.aborted), 'the update and the payout ran');
}

const contractOf = (proxy: Address, of = owner) => workerContractAddress({ owner: of, proxy, proxyPublicKey: emulatedProxyPublicKey(proxy) }).toRawString();

/** A sample of worker `id` claiming `claimed` tokens cashed out from the contract `contract` of proxy `proxy`. */
function claim(id: string, atMs: number, claimed: bigint, contract: string, proxy: Address = cocoon.proxy, ownerAddress = owner.toRawString()): PoolEvent {
  const s = sample(id, atMs, 1000) as Extract<PoolEvent, { type: 'WorkerStatsSampled' }>;
  return { ...s, data: { ...s.data, ownerAddress, proxies: [{ proxyScAddress: proxy.toRawString(), workerContract: contract, cashedOutTokens: claimed.toString() }] } };
}

async function recorded() {
  const events = await nats.store.readSubject(WORKER_TOKENS_SUBJECT);
  return {
    checks: events.flatMap((e) => (e.type === 'WorkerTokensChecked' ? [e.data] : [])),
    divergences: events.flatMap((e) => (e.type === 'WorkerTokensDiverged' ? [e.data] : [])),
  };
}

function startChecker(recheckMs = 3_600_000) {
  const ctl = new AbortController();
  const metrics = workerTokensMetrics();
  const running = runWorkerTokensCheck({ store: nats.store, reader, root: cocoon.root, minIntervalMs: 0, recheckMs, metrics, logger: pino({ level: 'silent' }), signal: ctl.signal });
  running.catch(() => {});
  return { metrics, running, async stop() { ctl.abort(); await running.catch(() => {}); } };
}

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1', 'proxy-2', 'owner-a'] });
  cocoon = await emulatedCocoon(chain, nats.store);
  otherProxy = await deployEmulatedProxy(chain, 'proxy-2');
  owner = chain.walletAddress('owner-a');
  // the chain indexer's verdict on the proxy, as it records it at the proxy's first payout
  await nats.store.append(PROXY_CHECKS_SUBJECT, await cocoon.proxies.check(cocoon.proxy, '00'.repeat(32)));
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('claims are checked against the worker contracts: consistent ones record what was paid, the others diverge once each', async () => {
  await pay('proxy-1', cocoon.proxy, owner, 5_000_000n, 5_000_000n, 1n);
  await pay('proxy-2', otherProxy, owner, 900_000n, 100_000n, 2n); // a genuine contract of the same owner, but of another proxy
  const checker = startChecker();
  try {
    const honest = contractOf(cocoon.proxy);
    const t0 = Date.now();
    // the checker follows the stream from its end once it has read the root: the samples are polled in until it has seen them
    const poll = (atMs: number) => nats.store.appendMany([
      { subject: 'pool.telemetry.w-honest', event: claim('w-honest', t0, 5_000_000n, honest) },
      { subject: 'pool.telemetry.w-early', event: claim('w-early', t0, 0n, contractOf(cocoon.proxy, chain.walletAddress('operator'))) }, // not deployed yet, claims nothing
      { subject: 'pool.telemetry.w-inflated', event: claim('w-inflated', t0, 7_000_000n, honest) },
      { subject: 'pool.telemetry.w-fake', event: claim('w-fake', t0, 100n, cocoon.proxy.toRawString()) }, // an account with other code
      { subject: 'pool.telemetry.w-other', event: claim('w-other', t0, 900_000n, contractOf(otherProxy)) }, // names proxy-1 but points at proxy-2's contract
      { subject: 'pool.telemetry.w-unknown', event: claim('w-unknown', t0, 1n, contractOf(otherProxy), otherProxy) }, // proxy-2 has no recorded verdict
    ].map(({ subject, event }) => ({ subject, event: { ...event, id: `${event.id}:${atMs}`, data: { ...event.data, observedAtMs: atMs } } as PoolEvent })));
    let at = t0;
    const { checks, divergences } = await until('five checks', async () => ((await recorded()).checks.length >= 5 ? recorded() : (await poll(at++), null)), 60_000, 250);
    const by = (id: string) => checks.find((c) => c.workerId === id);
    assert.is(checks.length, 5, 'the claim of a proxy without a genuine verdict is not checked');
    assert.is(by('w-unknown'), undefined);
    assert.equal(
      { consistent: by('w-honest')!.consistent, genuine: by('w-honest')!.genuine, onChainTokens: by('w-honest')!.onChainTokens, paid: by('w-honest')!.paidNanoton, fee: by('w-honest')!.workerFeePerTokenNanoton },
      { consistent: true, genuine: true, onChainTokens: '5000000', paid: String(5_000_000n * FEE), fee: String(FEE) },
      'the honest claim is what the contract holds; paid = tokens × worker_fee_per_token',
    );
    assert.equal([by('w-early')!.consistent, by('w-early')!.accountState, by('w-early')!.onChainTokens], [true, 'none', '0']);
    const reasons = Object.fromEntries(divergences.map((d: EventData<'WorkerTokensDiverged'>) => [d.workerId, d.reason]));
    assert.equal(reasons, { 'w-inflated': 'claims-more-than-paid', 'w-fake': 'not-genuine-contract', 'w-other': 'not-its-contract' });
    assert.is(by('w-inflated')!.onChainTokens, '5000000');
    assert.is(by('w-fake')!.onChainTokens, null, 'a contract without the root worker code proves nothing');
    assert.equal((await checker.metrics.divergences.get()).values.map((v) => [v.labels.reason, v.value]).sort(), [['claims-more-than-paid', 1], ['not-genuine-contract', 1], ['not-its-contract', 1]]);
    assert.equal((await checker.metrics.checks.get()).values.map((v) => [v.labels.result, v.value]).sort(), [['consistent', 2], ['diverged', 3]]);

    // the same claims again: nothing is read (getAccount calls do not grow); a raised claim is read and diverges again only if its reason changed
    const before = calls('getAccount');
    await nats.store.appendMany([
      { subject: 'pool.telemetry.w-honest', event: claim('w-honest', t0 + 1000, 5_000_000n, honest) },
      { subject: 'pool.telemetry.w-inflated', event: claim('w-inflated', t0 + 1000, 7_000_000n, honest) },
      { subject: 'pool.telemetry.w-fake', event: claim('w-fake', t0 + 1000, 200n, cocoon.proxy.toRawString()) },
    ]);
    await until('six checks', async () => ((await recorded()).checks.length >= 6 ? true : null), 60_000, 250);
    assert.is(calls('getAccount'), before + 1, 'only the changed claim was read');
    assert.is((await recorded()).divergences.length, 3, 'w-fake is still not-genuine-contract: no second anomaly');
  } finally {
    await checker.stop();
  }

  // a restarted checker knows the recorded checks (here rechecking divergent claims at once): the consistent
  // unchanged claim is not read again; the divergent one is, and a payout that now covers it makes it consistent
  await pay('proxy-1', cocoon.proxy, owner, 7_000_000n, 2_000_000n, 3n);
  const again = startChecker(0);
  try {
      let t1 = Date.now();
    const poll = () => nats.store.appendMany([
      { subject: 'pool.telemetry.w-honest', event: claim('w-honest', t1, 5_000_000n, contractOf(cocoon.proxy)) },
      { subject: 'pool.telemetry.w-inflated', event: claim('w-inflated', t1++, 7_000_000n, contractOf(cocoon.proxy)) },
    ]);
    await until('w-inflated checked again', async () => ((await recorded()).checks.length >= 7 ? true : (await poll(), null)), 60_000, 250);
    await poll(); // and once more: consistent now, it is not read again
    await new Promise((r) => setTimeout(r, 1000));
    const { checks, divergences } = await recorded();
    const last = checks.at(-1)!;
    assert.equal([checks.length, last.workerId, last.consistent, last.onChainTokens], [7, 'w-inflated', true, '7000000'], 'only the divergent claim was read again, now borne out');
    assert.is(divergences.length, 3);
  } finally {
    await again.stop();
  }
});

test('the worker contracts read model holds the last check per worker, claimed beside on-chain, built without the chain', async () => {
  const before = calls();
  await runProjection(workerContractsProjection(), { store: nats.store, db: pg.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  assert.is(calls(), before, 'no chain call');
  const rows = await pg.db.selectFrom('worker_contract_checks').select(['worker_id', 'claimed_tokens', 'on_chain_tokens', 'consistent', 'divergence', 'checks', 'divergences']).orderBy('worker_id').execute();
  assert.equal(rows.map((r) => [r.worker_id, r.claimed_tokens, r.on_chain_tokens, r.consistent, r.divergence, r.checks, r.divergences]), [
    ['w-early', '0', '0', true, null, 1, 0],
    ['w-fake', '200', null, false, 'not-genuine-contract', 2, 1],
    ['w-honest', '5000000', '5000000', true, null, 1, 0],
    ['w-inflated', '7000000', '7000000', true, null, 2, 1],
    ['w-other', '900000', '900000', false, 'not-its-contract', 1, 1],
  ]);

  // the read API shows them on the worker
  await pg.db.insertInto('workers').values({ worker_id: 'w-inflated', participant: owner.toRawString(), endpoint: 'http://127.0.0.1:1' } as never).execute();
  const api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  try {
    const body = (await api.inject({ url: '/api/v1/workers/w-inflated' })).json() as { workerContracts: { claimedTokens: string; onChainTokens: string; consistent: boolean; divergences: number }[] };
    assert.equal(body.workerContracts.map((k) => [k.claimedTokens, k.onChainTokens, k.consistent, k.divergences]), [['7000000', '7000000', true, 1]]);
  } finally {
    await api.close();
  }
});

test.run();
