/**
 * The chain indexer against the real contracts on the local chain (@ton/sandbox, real TVM):
 * revenue, registrations, a slash, a refused slash; then the registry and slash facts through the
 * projections into an epoch's frozen contribution and its split.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { cocoonPayoutBody } from '../../contracts/distribution.ts';
import { slashBody } from '../../contracts/registry.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import { participantWallet, registerEmulatedParticipants } from '../../emulator/participants.ts';
import { indexOnce, type ChainIndexerOptions } from '../../producers/chain/indexer.ts';
import { poolProjections } from '../../projectors/all.ts';
import { runProjection } from '../../projectors/runner.ts';
import { freezeContributions, splitEpoch } from '../../sagas/epoch/settlement.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { emulatedCocoon, indexerOptions, type EmulatedCocoon } from '../support/cocoonRoot.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { closing, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let chain: LocalChain;
let contracts: PoolContracts;
let options: ChainIndexerOptions;
let cocoon: EmulatedCocoon;
const dir = mkdtempSync(join(tmpdir(), 'pool-indexer-'));
const wallets = ['operator', 'proxy-1', participantWallet(0), participantWallet(1)];

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  chain = await openLocalChain({ dir, wallets });
  contracts = await deployPoolContracts(chain, 'operator');
  cocoon = await emulatedCocoon(chain, nats.store);
  options = await indexerOptions(nats, chain, [
      { name: 'distribution', address: contracts.distribution },
      { name: 'operator', address: contracts.operator },
      { name: 'registry', address: contracts.registry },
    ], cocoon);
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  await pg.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function indexAll(): Promise<number> {
  let n = 0;
  for (const c of options.contracts) n += await indexOnce(c, options);
  return n;
}

async function chainEvents(): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const b of nats.store.read({ types: ['PoolRevenueReceived', 'GasToppedUp', 'ParticipantRegistered', 'ParticipantSlashed', 'ChainTransactionFailed', 'PoolGovernanceChanged'] })) out.push(...b.events);
  return out;
}

test('revenue from a known proxy and a stranger, the deploy top-up, registrations: one event each, indexed once', async () => {
  const proxy = cocoon.proxy;
  await cocoon.pay(contracts.distribution, [{ value: 3_000_000_000n, queryId: 42n }]);
  await chain.send(participantWallet(1), [{ to: contracts.distribution, value: 1_000_000_000n }]); // plain transfer
  await registerEmulatedParticipants(chain, contracts.operator, contracts.registry, 2);
  assert.ok((await indexAll()) > 0);
  assert.is(await indexAll(), 0, 'the cursor moved past everything');

  const events = await chainEvents();
  const revenue = events.filter((e) => e.type === 'PoolRevenueReceived');
  assert.equal(
    revenue.map((e) => e.type === 'PoolRevenueReceived' && [e.data.kind, e.data.amountNanoton, e.data.queryId, e.data.knownProxy, e.data.sender === proxy.toRawString()]),
    [['cocoon_payout', '3000000000', '42', true, true], ['transfer', '1000000000', null, false, false]],
  );
  assert.is(events.filter((e) => e.type === 'GasToppedUp').length, 1);
  const registered = events.filter((e) => e.type === 'ParticipantRegistered');
  assert.equal(registered.map((e) => e.type === 'ParticipantRegistered' && [e.data.participant, e.data.stakeNanoton]), [
    [chain.walletAddress(participantWallet(0)).toRawString(), '100000000000'],
    [chain.walletAddress(participantWallet(1)).toRawString(), '100000000000'],
  ]);
  // the operator's bookkeeping of each registration is kept as a governance event
  assert.ok(events.some((e) => e.type === 'PoolGovernanceChanged' && e.data.event === 'RegistrationForwarded'));
  for (const e of events) assert.is(e.id.slice(0, 64), (e.data as { txHash: string }).txHash);
});

test('a slash by the owner and a refused one by a stranger', async () => {
  const victim = chain.walletAddress(participantWallet(0));
  await chain.send('operator', [{ to: contracts.registry, value: 200_000_000n, body: slashBody({ queryId: 7n, participant: victim, amount: 0n, bps: 1000n, reason: 3n }) }]);
  await chain.send('proxy-1', [{ to: contracts.registry, value: 200_000_000n, body: slashBody({ queryId: 8n, participant: victim, amount: 1n, bps: 0n, reason: 3n }) }]);
  await indexAll();
  const events = await chainEvents();
  const slashed = events.filter((e) => e.type === 'ParticipantSlashed');
  assert.equal(slashed.map((e) => e.type === 'ParticipantSlashed' && [e.data.participant, e.data.amountNanoton, e.data.reason, e.data.stakeNanoton]), [
    [victim.toRawString(), '10000000000', 3, '90000000000'],
  ]);
  const failed = events.filter((e) => e.type === 'ChainTransactionFailed');
  assert.is(failed.length, 1);
  if (failed[0]!.type === 'ChainTransactionFailed') {
    assert.is(failed[0]!.data.op, '0x50c0e206');
    assert.is(failed[0]!.data.queryId, '8');
    assert.is(failed[0]!.data.sender, chain.walletAddress('proxy-1').toRawString());
    assert.ok(failed[0]!.data.exitCode !== 0);
  }
});

test('registry facts reach the read models, and a slash forfeits the epoch\'s share', async () => {
  const [p0, p1] = [0, 1].map((k) => chain.walletAddress(participantWallet(k)).toRawString());
  const work: PoolEvent[] = [
    { type: 'WorkerBound', version: 1, id: 'b0', data: { workerId: 'w0', participant: p0!, endpoint: 'x', boundAtMs: 1 } },
    { type: 'WorkerBound', version: 1, id: 'b1', data: { workerId: 'w1', participant: p1!, endpoint: 'x', boundAtMs: 1 } },
    ...[0, 1].flatMap((w) => [sample(`w${w}`, 1_000, 0), sample(`w${w}`, 3_000, 1000), sample(`w${w}`, 5_000, 2000)]),
    closing(1, 6_000),
  ];
  await nats.store.appendMany(work.map((event) => ({ subject: subjectOf(event), event })));
  const artifacts = await openArtifactStore(nats.nc);
  for (const p of poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 })) {
    await runProjection(p, { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  }
  const rows = await pg.db.selectFrom('participants').selectAll().orderBy('participant').execute();
  const victim = rows.find((r) => r.participant === p0)!;
  assert.equal([victim.stake_nanoton, victim.slashes, victim.slashed_nanoton, victim.status], ['90000000000', 1, '10000000000', 'suspended']);
  const frozen = await freezeContributions(pg.db, 1, 5_000);
  assert.equal(frozen.map((f) => [f.participant, f.slashes]), [[p0, 1], [p1, 0]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  const split = splitEpoch(frozen, 1_000_000n, 0n, { ...DEFAULT_REWARD_PARAMS, minUptimeBps: 0 });
  assert.is(split.result.slashed, 475_000n);
  assert.equal(split.table.map((r) => r.participant), [p1]);
});

test.run();
