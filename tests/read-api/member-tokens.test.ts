/**
 * Claimed and verified tokens side by side in the read API (issue 11), on a listening server
 * over a real PostgreSQL filled by the pool's projections from a real nats-server: per epoch
 * (GET /api/v1/epochs/:id/contributions, paged) and per participant (its epochs list), with the
 * credited tokens of an epoch computed with formula v2 and the pool_contribution_divergences_total
 * counter on /metrics.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree } from '../../domain/merkle/index.ts';
import { poolProjections } from '../../projectors/all.ts';
import type { TokenCreditRow } from '../../projectors/rewards.ts';
import { runProjections } from '../../projectors/runner.ts';
import { poolMetrics } from '../../read-api/metrics.ts';
import { buildReadApi } from '../../read-api/server.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, memberRevenue, participant, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let base: string;

const credit = (p: number, claimed: string, verified: string, credited: string, unpaid: string, divergent: boolean): TokenCreditRow => ({
  participant: participant(p), claimedTokens: claimed, verifiedTokens: verified, unpaidClaimsIn: '0', unclaimedPaymentsIn: '0',
  creditedTokens: credited, unpaidClaimsOut: unpaid, unclaimedPaymentsOut: '0', divergent,
});

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const artifacts = await openArtifactStore(nats.nc);
  const tree = buildRewardsTree([]);
  const rewards = await artifacts.putRows('epoch-1-rewards.json', []);
  const contributions = await artifacts.putRows('epoch-1-contributions.json', []);
  const tokenCredits = await artifacts.putRows('epoch-1-token-credits.json', [credit(1, '20000', '20000', '20000', '0', false), credit(2, '150000', '20000', '20000', '130000', true)]);
  const events: PoolEvent[] = [
    bound('w1', 1), bound('w2', 2),
    sample('w1', 1_000, 0), sample('w2', 1_000, 0), sample('w1', 11_000, 20_000), sample('w2', 11_000, 150_000),
    memberRevenue(1, 1, 20_000_000n), memberRevenue(2, 2, 20_000_000n), memberRevenue(3, 3, 7_000_000n), // member 3: paid, no worker
    closing(1, 20_000),
    sample('w1', 21_000, 25_000), // epoch 2: claimed, not yet paid
    { type: 'ContributionsFrozen', version: 1, id: '1:frozen', data: { epochId: 1, cutSequence: 10, durationSeconds: 20, formulaVersion: 2, participants: 0, revenueNanoton: '32000000', carryInNanoton: '0', contributions } },
    {
      type: 'RewardsComputed', version: 1, id: '1:computed',
      data: {
        epochId: 1, formulaVersion: 2, params: { operatorFeeBps: 500, divergenceToleranceBps: 2000, divergenceGraceTokens: 50_000 }, revenueNanoton: '32000000', carryInNanoton: '0',
        operatorFeeNanoton: '1600000', rewardsNanoton: '0', slashedNanoton: '0', carryOutNanoton: '30400000', eligible: 0, leafCount: 0, merkleRoot: tree.rootHex, rewards,
        tokenCredits, divergences: 1,
      },
    },
    {
      type: 'ContributionDivergenceDetected', version: 1, id: `1:divergence:${participant(2)}`,
      data: {
        epochId: 1, participant: participant(2), claimedTokens: '150000', unpaidClaimsInTokens: '0', verifiedTokens: '20000', unclaimedPaymentsInTokens: '0',
        creditedTokens: '20000', unpaidClaimsTokens: '130000', toleranceBps: 2000, graceTokens: 50_000,
      },
    },
  ];
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
  await runProjections(poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 }), { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), metrics: poolMetrics(pg.db, () => nats.store.lastSequence(), nats.store) });
  base = await api.listen({ host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await api.close();
  await nats.stop();
  await pg.drop();
});

const get = async (path: string) => {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: (await r.json()) as any };
};
const PAID = String(20_000_000n - 5_000_000n);

test('an epoch computed with formula v2: claimed, verified and credited tokens per member, side by side', async () => {
  const { status, body } = await get('/api/v1/epochs/1/contributions');
  assert.is(status, 200);
  assert.is(body.formulaVersion, 2);
  assert.equal(body.contributions, [
    { epochId: 1, participant: participant(1), claimedTokens: '20000', verifiedTokens: '20000', verifiedRevenueNanoton: PAID, creditedTokens: '20000', unpaidClaimsTokens: '0', unclaimedPaymentsTokens: '0', divergent: false },
    { epochId: 1, participant: participant(2), claimedTokens: '150000', verifiedTokens: '20000', verifiedRevenueNanoton: PAID, creditedTokens: '20000', unpaidClaimsTokens: '130000', unclaimedPaymentsTokens: '0', divergent: true },
    { epochId: 1, participant: participant(3), claimedTokens: '0', verifiedTokens: '7000', verifiedRevenueNanoton: String(7_000_000n - 5_000_000n), creditedTokens: null, unpaidClaimsTokens: null, unclaimedPaymentsTokens: null, divergent: null },
  ]);
  const page = await get(`/api/v1/epochs/1/contributions?limit=1&after=${participant(1)}`);
  assert.equal(page.body.contributions.map((c: { participant: string }) => c.participant), [participant(2)]);
});

test('an epoch not computed yet: claims beside what was paid so far, no credit', async () => {
  const { body } = await get('/api/v1/epochs/2/contributions');
  assert.is(body.formulaVersion, null);
  const p1 = body.contributions.find((c: { participant: string }) => c.participant === participant(1));
  assert.equal([p1.claimedTokens, p1.verifiedTokens, p1.creditedTokens], ['5000', '0', null]);
  assert.is((await get('/api/v1/epochs/9/contributions')).status, 404);
  assert.is((await get('/api/v1/epochs/1/contributions?after=nope')).status, 400);
});

test('a participant: its epochs list claimed and verified side by side; a member known only by its verified revenue exists', async () => {
  const p2 = await get(`/api/v1/participants/${participant(2)}`);
  assert.equal(p2.body.contributions.map((c: any) => [c.epochId, c.adjustedTokens, c.claimedTokens, c.verifiedTokens, c.creditedTokens, c.verifiedRevenueNanoton, c.divergent]), [
    [1, '150000', '150000', '20000', '20000', PAID, true],
    [2, '0', '0', '0', null, '0', null],
  ]);
  const p3 = await get(`/api/v1/participants/${participant(3)}`);
  assert.is(p3.status, 200);
  assert.equal(p3.body.contributions.map((c: any) => [c.epochId, c.workers, c.claimedTokens, c.verifiedTokens]), [[1, 0, '0', '7000']]);
});

test('metrics: divergences counted once across scrapes', async () => {
  const scrape = async () => (await (await fetch(`${base}/metrics`)).text()).split('\n').find((l) => l.startsWith('pool_contribution_divergences_total'));
  assert.is(await scrape(), 'pool_contribution_divergences_total 1');
  assert.is(await scrape(), 'pool_contribution_divergences_total 1');
});

test.run();
