/**
 * The README's bounded run, end to end: `npm start -- --epoch-seconds 20 --epochs 2
 * --exit-when-settled --auto-pay-threshold 0.02` with real nats-server, the embedded PostgreSQL server and the local TON chain, then a second start
 * on the same data to serve proofs, then an audit of the chain itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Address, Cell } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readRewardsProof } from '../../domain/merkle/index.ts';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../../infra/nats/server.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { connectJetStream } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { WORKER_TOKENS_SUBJECT } from '../../producers/chain/workerTokens.ts';
import { artifactsDir, launchChromium } from '../support/browser.ts';
import { auditChain, lastJson, root, spawnAudit, spawnPool, type EpochSummary } from '../support/pool.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-e2e-'));
let epochs: EpochSummary[] = [];
let distribution = '';
/** participant → forwarder (raw), as the start logged the emulated workers' owner_address */
let forwarders: Record<string, string> = {};
test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test('the bounded run settles two epochs and prints them as its last stdout line', async () => {
  const run = spawnPool('npm', ['--epoch-seconds', '20', '--epochs', '2', '--exit-when-settled', '--auto-pay-threshold', '0.02'], dataDir);
  const started = JSON.parse(await run.waitFor(/"msg":"pool started"/));
  distribution = started.distributionContract;
  assert.is(await run.exited, 0);
  forwarders = JSON.parse(run.lines.find((l) => l.includes('"forwarders"'))!).forwarders;
  epochs = lastJson(run.lines).epochs;
  assert.equal(epochs.map((e) => [e.id, e.status]), [[1, 'settled'], [2, 'settled']]);
  for (const e of epochs) {
    const revenue = BigInt(e.revenueNanoton);
    assert.ok(revenue > 0n, `epoch ${e.id} earned nothing`);
    // conservation: revenue = operator fee + rewards (every participant eligible: nothing carried)
    assert.is(BigInt(e.operatorFeeNanoton) + BigInt(e.rewardsNanoton), revenue, `epoch ${e.id}`);
    assert.is(BigInt(e.operatorFeeNanoton), (revenue * 500n) / 10_000n, `epoch ${e.id} fee is 5%`);
    assert.ok(e.leafCount > 0 && e.leafCount <= 5);
    assert.is(e.payoutsConfirmed, e.leafCount);
    assert.match(e.merkleRoot, /^[0-9a-f]{64}$/);
  }
});

test('all revenue of the run came through the members\' forwarders from the genuine proxy, its tokens verified (issue 11 "share of revenue verified")', async () => {
  const server = await startNatsServer({ storeDir: join(dataDir, 'nats') });
  const conn = await connectJetStream({ url: server.url, name: 'bounded-run-test' });
  try {
    const store = new NatsEventStore(conn.js, conn.jsm);
    let total = 0n;
    let verified = 0n;
    let forwards = 0;
    const members = new Set<string>();
    for await (const b of store.read({ types: ['PoolRevenueReceived', 'MemberRevenueReceived'] })) {
      for (const e of b.events) {
        if (e.type !== 'PoolRevenueReceived' && e.type !== 'MemberRevenueReceived') continue;
        total += BigInt(e.data.amountNanoton);
        if (e.type !== 'MemberRevenueReceived') continue;
        forwards++;
        members.add(e.data.member);
        if (e.data.knownProxy && e.data.verifiedTokens !== null) verified += BigInt(e.data.amountNanoton);
      }
    }
    const share = total === 0n ? 0 : Number((verified * 1_000_000n) / total) / 1_000_000;
    console.log(`share of revenue verified: ${(share * 100).toFixed(2)} % (${verified} of ${total} nanoTON, ${forwards} forwarded payouts, ${members.size} members)`);
    assert.ok(total >= epochs.reduce((s, e) => s + BigInt(e.revenueNanoton), 0n), 'the events hold at least the settled epochs\' revenue');
    assert.is(verified, total, 'all revenue is MemberRevenueReceived with knownProxy and verifiedTokens');
    assert.is(members.size, 5, 'every participant earned through its forwarder');

    // every worker's cached_out_tokens was checked against its worker contract and borne out
    const recorded = await store.readSubject(WORKER_TOKENS_SUBJECT);
    assert.equal(recorded.filter((e) => e.type === 'WorkerTokensDiverged').map((e) => e.data), [], 'no divergence');
    const checks = recorded.flatMap((e) => (e.type === 'WorkerTokensChecked' ? [e.data] : []));
    const contracts = new Map(checks.map((c) => [c.workerContract, c]));
    const paidOnChain = [...contracts.values()].reduce((s, c) => s + BigInt(c.paidNanoton ?? '0'), 0n);
    console.log(`worker contracts: ${checks.length} checks of ${new Set(checks.map((c) => c.workerId)).size} workers, ${contracts.size} contracts; last read tokens × fee = ${paidOnChain} nanoTON`);
    assert.ok(checks.length > 0, 'claims were checked');
    assert.equal(checks.filter((c) => !c.consistent || (c.accountState === 'active') !== c.genuine), [], 'all consistent; every deployed contract genuine (a claim of 0 may precede the deployment)');
    assert.ok(checks.some((c) => c.genuine && BigInt(c.claimedTokens) > 0n), 'claims of paid tokens were borne out');
  } finally {
    await conn.nc.close();
    await server.stop();
  }
});

test('`pool member address <participant>` on the local chain prints the forwarder its emulated workers report', async () => {
  const [participant, forwarder] = Object.entries(forwarders)[0]!;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/pool.ts', 'member', 'address', participant], { cwd: root, encoding: 'utf8', env: { ...process.env, POOL_DATA_DIR: dataDir } });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^  raw: ${forwarder}$`, 'm'));
  assert.ok(run.stdout.includes(`pool distribution contract: ${Address.parseRaw(distribution).toString({ testOnly: true })}`), run.stdout);
});

/**
 * The dashboard in a real Chromium against the running pool: the operator view shows both settled
 * epochs and the workers, the participant view a participant's rewards, payouts and charts.
 * Screenshots in test-artifacts/dashboard/; prints the load time and the bundle size.
 */
const OPERATOR_TOKEN = 'bounded-run-operator-token';

async function clickThroughDashboard(api: string, participant: string): Promise<void> {
  const shots = artifactsDir('dashboard');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${api}/#/operator`);
    await page.locator('#epochs tbody tr').nth(1).waitFor({ timeout: 30_000 });
    const loadMs = await page.evaluate(() => Math.round(performance.getEntriesByType('navigation')[0]!.duration));
    // the two settled epochs of the bounded run (this start has opened the next one)
    const rows = await page.locator('#epochs tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent!.trim())));
    assert.equal(rows.filter(([id]) => id === '1' || id === '2').sort(), [['1', 'settled'], ['2', 'settled']]);
    // at least those two (on a slow machine this start may have settled its own first epoch already)
    const [settledCount, listed] = (await page.locator('#card-epochs b').innerText()).split(' / ').map(Number);
    assert.ok(settledCount! >= 2 && listed! >= settledCount!, `epochs settled card: ${settledCount} / ${listed}`);
    assert.ok((await page.locator('#workers tbody tr').count()) > 0, 'workers listed');
    await page.locator('#chart-revenue canvas').waitFor();
    // live: the page follows the event stream, not a timer
    await page.locator('#live', { hasText: /^live · / }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#card-participants b').innerText(), /^5$/);
    // the operator token opens the alert deliveries and the dead letters
    await page.fill('#token', OPERATOR_TOKEN);
    await page.click('#token-form button');
    assert.match(await page.locator('#dead-letter-count').innerText({ timeout: 30_000 }), /^\d+ dead letters/);
    await page.screenshot({ path: join(shots, 'operator.png'), fullPage: true });

    await page.click('#nav-participant');
    await page.fill('#address', participant);
    await page.click('#address-form button');
    await page.locator('#card-earned b').waitFor();
    assert.match(await page.locator('#card-paid b').innerText(), /TON$/);
    const statuses = (await page.locator('#payouts tbody tr td:nth-child(3)').allTextContents()).map((t) => t.trim());
    assert.ok(statuses.length > 0 && statuses.every((t) => t === 'paid'), `payouts: ${statuses.join(', ')}`);
    assert.match((await page.locator('#payouts a.proof').first().getAttribute('href'))!, /^\/api\/v1\/epochs\/\d+\/proofs\//);
    await page.locator('#chart-tokens canvas').waitFor();
    // the tax export button downloads the participant's rewards in Koinly's layout
    const koinly = await fetch(new URL((await page.locator('#export-koinly').getAttribute('href'))!, api));
    assert.is(koinly.status, 200);
    const csv = (await koinly.text()).trim().split('\n');
    assert.match(csv[0]!, /^Date,Sent Amount,Sent Currency,Received Amount,Received Currency/);
    assert.is(csv.length - 1, statuses.length, 'one row per reward received');
    await page.screenshot({ path: join(shots, 'participant.png'), fullPage: true });

    // a wrong address is an error in the page, not a crash
    await page.fill('#address', 'not-an-address');
    await page.click('#address-form button');
    await page.locator('#participant-error').waitFor();
    assert.equal(errors, [], 'no script error');
    const bundle = (await (await fetch(`${api}/dashboard/app.js`)).arrayBuffer()).byteLength;
    console.log(`dashboard: loaded in ${loadMs} ms, app.js ${(bundle / 1024).toFixed(1)} KiB (minified, uncompressed); screenshots in ${shots}`);
  } finally {
    await browser.close();
  }
}

let proofs: { epochId: number; index: number; address: string; amountNanoton: string; root: string; proofBoc: string }[] = [];

test('a second start continues from ./var and serves the epochs and their proofs unchanged', async () => {
  const run = spawnPool('node', ['--epoch-seconds', '20'], dataDir, { POOL_OPERATOR_TOKEN: OPERATOR_TOKEN });
  try {
    const api = JSON.parse(await run.waitFor(/"msg":"pool started"/)).api as string;
    for (const e of epochs) {
      const got = (await (await fetch(`${api}/api/v1/epochs/${e.id}`)).json()) as Record<string, unknown>;
      assert.equal(
        [got.revenueNanoton, got.operatorFeeNanoton, got.rewardsNanoton, got.leafCount, got.merkleRoot, got.payoutsConfirmed, got.status],
        [e.revenueNanoton, e.operatorFeeNanoton, e.rewardsNanoton, e.leafCount, e.merkleRoot, e.payoutsConfirmed, e.status],
      );
    }
    const workers = ((await (await fetch(`${api}/api/v1/workers`)).json()) as { workers: { participant: string }[] }).workers;
    const participants = [...new Set(workers.map((w) => w.participant))];
    assert.is(participants.length, 5);
    for (const e of epochs) {
      for (const p of participants) {
        const r = await fetch(`${api}/api/v1/epochs/${e.id}/proofs/${p}`);
        if (r.status === 404) continue; // not eligible this epoch
        assert.is(r.status, 200);
        proofs.push((await r.json()) as (typeof proofs)[number]);
      }
    }
    assert.is(proofs.length, epochs.reduce((s, e) => s + e.leafCount, 0));
    const payouts = (await (await fetch(`${api}/api/v1/payouts?address=${participants[0]}`)).json()) as { payouts: { status: string }[] };
    assert.ok(payouts.payouts.every((p) => p.status === 'paid'));
    await clickThroughDashboard(api, participants[0]!);
  } finally {
    run.child.kill('SIGTERM');
    assert.is(await run.exited, 0);
  }
});

test('on chain: the stored roots are the computed ones, API proofs verify against them, every leaf was paid exactly once', async () => {
  const audit = await auditChain(dataDir, distribution, epochs.map((e) => e.id));
  for (const e of epochs) assert.is(audit.roots.get(e.id), e.merkleRoot, `epoch ${e.id} root on chain`);
  for (const p of proofs) {
    const leaves = readRewardsProof(Cell.fromBase64(p.proofBoc), Buffer.from(audit.roots.get(p.epochId)!, 'hex'));
    const leaf = leaves.get(p.index);
    assert.ok(leaf, `proof of ${p.address} holds its leaf`);
    assert.is(leaf!.address.toRawString(), p.address);
    assert.is(String(leaf!.amount), p.amountNanoton);
    const paid = audit.payments.get(`${p.epochId}:${p.index}`);
    assert.equal(paid, { times: 1, amount: BigInt(p.amountNanoton), address: p.address });
  }
  for (const e of epochs) {
    const paid = [...audit.payments].filter(([k]) => k.startsWith(`${e.id}:`));
    assert.is(paid.length, e.leafCount);
    assert.ok(paid.every(([, v]) => v.times === 1));
    assert.is(paid.reduce((s, [, v]) => s + v.amount, 0n), BigInt(e.rewardsNanoton));
  }
});

test('pool audit recomputes both epochs from raw events and matches the records and the chain', async () => {
  for (const e of epochs) {
    const run = spawnAudit(e.id, dataDir);
    assert.is(await run.exited, 0, run.lines.join('\n'));
    const report = JSON.parse(run.lines.join('\n'));
    assert.is(report.ok, true);
    assert.equal(report.checks.map((c: { name: string; ok: boolean }) => c.ok), report.checks.map(() => true));
    assert.ok(report.checks.some((c: { name: string; recomputed: string }) => c.name === 'Merkle root (contract getter)' && c.recomputed === e.merkleRoot));
  }
});

test('pool audit detects a tampered contribution artifact (exit 2)', async () => {
  const server = await startNatsServer({ storeDir: join(dataDir, 'nats') });
  const nc = await connect({ servers: server.url });
  const artifacts = await openArtifactStore(nc);
  await artifacts.putRows('epoch-1-contributions.json', [{ participant: 'forged' }]);
  await nc.close();
  await server.stop();
  const run = spawnAudit(1, dataDir);
  assert.is(await run.exited, 2);
  const report = JSON.parse(run.lines.join('\n'));
  const failed = report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name);
  assert.equal(failed, ['contributions (rows, JSON)']);
});

test.run();
