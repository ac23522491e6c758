/**
 * The epoch saga with reward formula v2 on a real nats-server and PostgreSQL, the pool's
 * projections running live: two epochs with MemberRevenueReceived events (an honest member paid a
 * whole epoch late, a member whose workers claim ×7.5 what they serve). The test plays the clock
 * (it appends each EpochClosing itself, as another instance deciding first would), so what counts
 * for which epoch does not depend on timing. The chain is not involved (recordingActions: the
 * saga stops being interesting at the root commit). Formula 1, the default, stays as it was.
 */
import type { Kysely } from 'kysely';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Database } from '../../db/schema.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import { DEFAULT_DIVERGENCE_PARAMS } from '../../domain/rewardsV2.ts';
import { poolProjections } from '../../projectors/all.ts';
import type { FrozenContribution } from '../../projectors/contributions.ts';
import type { RewardArtifactRow, TokenCreditRow } from '../../projectors/rewards.ts';
import { runProjections } from '../../projectors/runner.ts';
import { decide, type SagaSettings } from '../../sagas/epoch/decide.ts';
import { runEpochSaga, type EpochSagaOptions } from '../../sagas/epoch/processManager.ts';
import { emptySagaState, evolve, SAGA_EVENT_TYPES } from '../../sagas/epoch/state.ts';
import type { PoolEvent, RecordedEvent, RecordedOf } from '../../schemas/catalog.ts';
import { openArtifactStore, type ArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, memberRevenue, participant, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { recordingActions } from '../support/sagaActions.ts';
import { until } from '../support/until.ts';

const WEEK = 7 * 24 * 3600 * 1000;
const settings: SagaSettings = { epochMs: WEEK, batchSize: 200, maxBatchesInFlight: 1, resubmitAfterMs: 30_000, maxRefusedAttempts: 3 };
const base = { ...DEFAULT_REWARD_PARAMS, minUptimeBps: 0 };
const V2 = { ...base, formulaVersion: 2 as const, divergenceToleranceBps: 2000, divergenceGraceTokens: 50_000 };
const V1 = { ...base, formulaVersion: 1 as const, ...DEFAULT_DIVERGENCE_PARAMS };
const HONEST = participant(1);
const FAKER = participant(2);

interface Run {
  events: (epochId: number) => Promise<RecordedEvent[]>;
  alerts: (epochId: number) => Promise<RecordedOf<'ContributionDivergenceDetected'>[]>;
  artifacts: ArtifactStore;
  db: Kysely<Database>;
  nats: TestNats;
  pg: TestDb;
  /** starts the saga; `rounds` counts its submissions (a decision round past its start-up) */
  saga: (params: EpochSagaOptions['rewardParams']) => { stop: () => Promise<void>; rounds: () => number };
  close: () => Promise<void>;
}

async function start(): Promise<Run> {
  const [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const artifacts = await openArtifactStore(nats.nc);
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const ctl = new AbortController();
  const projections = runProjections(poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 }), {
    store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger, follow: true, signal: ctl.signal,
  });
  return {
    nats, pg, db: pg.db, artifacts,
    events: (epochId) => nats.store.readSubject(`pool.epoch.${epochId}`),
    alerts: async (epochId) => of(await nats.store.readSubject(`pool.epoch.${epochId}`), 'ContributionDivergenceDetected'),
    saga(rewardParams) {
      const c = new AbortController();
      let submitted = 0;
      const actions = { ...recordingActions(), submit: async () => void submitted++ };
      const done = runEpochSaga({ store: nats.store, deadLetter: deadLetterTo(nats.js), db: pg.db, artifacts, actions, settings, rewardParams, logger, tickMs: 50, signal: c.signal });
      return { stop: async () => { c.abort(); await done; }, rounds: () => submitted };
    },
    async close() {
      ctl.abort();
      await projections;
      await nats.stop();
      await pg.drop();
    },
  };
}

const of = <T extends RecordedEvent['type']>(events: RecordedEvent[], type: T) => events.filter((e) => e.type === type) as RecordedOf<T>[];
const append = (nats: TestNats, events: PoolEvent[]) => nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
const paidFor = (n: number, member: number, tokens: bigint) => memberRevenue(n, member, tokens * 1000n); // 1000 nanoTON per token

/** Waits for the epoch to open, stores its telemetry and revenue, closes it, and waits for RewardsComputed. */
async function epoch(run: Run, epochId: number, events: PoolEvent[]): Promise<{ frozen: RecordedOf<'ContributionsFrozen'>; computed: RecordedOf<'RewardsComputed'> }> {
  const opened = await until(`epoch ${epochId} opened`, async () => of(await run.events(epochId), 'EpochOpened')[0]);
  await append(run.nats, events);
  await append(run.nats, [closing(epochId, opened.data.startedAtMs + 60_000)]);
  const computed = await until(`epoch ${epochId} computed`, async () => of(await run.events(epochId), 'RewardsComputed')[0]);
  const frozen = of(await run.events(epochId), 'ContributionsFrozen')[0]!;
  return { frozen, computed };
}

// the honest member's worker w1 serves 20k tokens per epoch and is paid for epochs 1 and 2 in epoch 2;
// the faker's w2 serves 20k per epoch, is paid for them every epoch, and claims 150k
const epoch1 = [bound('w1', 1), bound('w2', 2), sample('w1', 1_000, 0), sample('w2', 1_000, 0), sample('w1', 11_000, 20_000), sample('w2', 11_000, 150_000), paidFor(1, 2, 20_000n)];
const epoch2 = [sample('w1', 21_000, 40_000), sample('w2', 21_000, 300_000), paidFor(2, 1, 40_000n), paidFor(3, 2, 20_000n)];

test('formula v2: records the formula, params, carries and credited tokens; revenue conserves; one divergence alert per epoch and member, none on replay', async () => {
  const run = await start();
  try {
    const saga = run.saga(V2);
    const e1 = await epoch(run, 1, epoch1);
    const e2 = await epoch(run, 2, epoch2);
    await until('divergence alerts recorded', async () => (await run.alerts(1)).length === 1 && (await run.alerts(2)).length === 1);
    await saga.stop();

    for (const { frozen, computed } of [e1, e2]) {
      assert.is(frozen.data.formulaVersion, 2);
      assert.is(computed.data.formulaVersion, 2);
      assert.equal(
        { tolerance: computed.data.params.divergenceToleranceBps, grace: computed.data.params.divergenceGraceTokens, fee: computed.data.params.operatorFeeBps },
        { tolerance: 2000, grace: 50_000, fee: 500 },
      );
      assert.is(computed.data.divergences, 1);
      const d = computed.data;
      assert.is(BigInt(d.revenueNanoton) + BigInt(d.carryInNanoton), BigInt(d.operatorFeeNanoton) + BigInt(d.rewardsNanoton) + BigInt(d.slashedNanoton) + BigInt(d.carryOutNanoton), 'money conserves');
      const leaves = await run.artifacts.getRows<RewardArtifactRow>(d.rewards);
      assert.is(leaves.reduce((a, l) => a + BigInt(l.amountNanoton), 0n), BigInt(d.rewardsNanoton));
    }
    // the member revenue the contract booked is the epochs' revenue (paid less the forwarder's 0.005 TON)
    assert.is(e1.frozen.data.revenueNanoton, String(20_000_000n - 5_000_000n));
    assert.is(e2.frozen.data.revenueNanoton, String(40_000_000n - 5_000_000n + 20_000_000n - 5_000_000n));
    assert.is(BigInt(e2.computed.data.carryInNanoton), BigInt(e1.computed.data.slashedNanoton) + BigInt(e1.computed.data.carryOutNanoton), 'the pot carries over');
    const paidOut = (e: typeof e1) => BigInt(e.computed.data.operatorFeeNanoton) + BigInt(e.computed.data.rewardsNanoton);
    assert.is(paidOut(e1) + paidOut(e2) + BigInt(e2.computed.data.slashedNanoton) + BigInt(e2.computed.data.carryOutNanoton), 80_000_000n - 3n * 5_000_000n, 'over both epochs every nanoTON the forwarders booked is fee, reward, or carried on');

    const rows2 = await run.artifacts.getRows<FrozenContribution>(e2.frozen.data.contributions);
    assert.equal(rows2.map((r) => [r.participant, r.adjustedTokens, r.verifiedTokens, r.verifiedRevenueNanoton, r.unpaidClaimsIn, r.unclaimedPaymentsIn]), [
      [HONEST, '20000', '40000', '35000000', '20000', '0'],
      [FAKER, '150000', '20000', '15000000', '130000', '0'],
    ], 'frozen with verified tokens and the carries of epoch 1');

    const credits = async (e: typeof e1) => (await run.artifacts.getRows<TokenCreditRow>(e.computed.data.tokenCredits!)).map((k) => [k.participant, k.creditedTokens, k.unpaidClaimsOut, k.unclaimedPaymentsOut, k.divergent]);
    assert.equal(await credits(e1), [[HONEST, '0', '20000', '0', false], [FAKER, '20000', '130000', '0', true]]);
    assert.equal(await credits(e2), [[HONEST, '40000', '0', '0', false], [FAKER, '20000', '260000', '0', true]], 'the late payout is credited the epoch it arrives; the fake never');

    const alert = (await run.alerts(2))[0]!;
    assert.equal(alert.data, {
      epochId: 2, participant: FAKER, claimedTokens: '150000', unpaidClaimsInTokens: '130000', verifiedTokens: '20000', unclaimedPaymentsInTokens: '0',
      creditedTokens: '20000', unpaidClaimsTokens: '260000', toleranceBps: 2000, graceTokens: 50_000,
    });
    assert.is(alert.id, `2:divergence:${FAKER}`);

    // the read model has the credits side by side (projectors/rewards.ts)
    await until('token credits projected', async () => (await run.db.selectFrom('token_credits').select('epoch_id').execute()).length === 4);

    // replay: the saga folded from the stream decides no alert again, and a restart appends none
    const state = emptySagaState(recordingActions().sender);
    for await (const batch of run.nats.store.read({ types: SAGA_EVENT_TYPES })) for (const e of batch.events) evolve(state, e);
    assert.equal(decide(state, Date.now(), settings).filter((s) => s.kind === 'alert'), []);
    const again = run.saga(V2);
    await until('the restarted saga resubmits the pending commit', () => again.rounds() > 0);
    await again.stop();
    assert.is((await run.alerts(1)).length + (await run.alerts(2)).length, 2);
  } finally {
    await run.close();
  }
});

test('formula 1 (the default) with the same events: v1 params only, no token credits, contributions frozen as before', async () => {
  const run = await start();
  try {
    const saga = run.saga(V1);
    const e1 = await epoch(run, 1, epoch1);
    await saga.stop();
    assert.is(e1.frozen.data.formulaVersion, undefined);
    assert.is(e1.computed.data.formulaVersion, 1);
    assert.equal(Object.keys(e1.computed.data.params).sort(), [...Object.keys(DEFAULT_REWARD_PARAMS), 'reputationFormulaVersion'].sort());
    assert.is(e1.computed.data.tokenCredits, undefined);
    assert.is(e1.computed.data.divergences, undefined);
    const rows = await run.artifacts.getRows<FrozenContribution>(e1.frozen.data.contributions);
    assert.equal(rows.map((r) => [r.participant, r.adjustedTokens, 'verifiedTokens' in r]), [[HONEST, '20000', false], [FAKER, '150000', false]], 'claimed tokens count as claimed');
    assert.is((await run.alerts(1)).length, 0);
  } finally {
    await run.close();
  }
});

test.run();
