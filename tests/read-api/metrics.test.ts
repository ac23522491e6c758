/**
 * /metrics: the per-worker series under the Cocoon monitoring names (from the read models) and the
 * pool's activity counters (counted as the events are appended through countAppends), scraped over
 * real NATS and PostgreSQL.
 */
import { Address } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree } from '../../domain/merkle/index.ts';
import { poolProjections } from '../../projectors/all.ts';
import { runProjection } from '../../projectors/runner.ts';
import { countAppends, poolActivityMetrics, poolMetrics } from '../../read-api/metrics.ts';
import { buildReadApi } from '../../read-api/server.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, frozenAndComputed, participant, pollFailed, sample, subjectOf, task } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let text = '';
const amounts = [2_000_000_000n, 1_000_000_000n]; // participant 1: 2 TON, participant 2: 1 TON

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const activity = poolActivityMetrics();
  const store = countAppends(nats.store, activity);
  const artifacts = await openArtifactStore(nats.nc);
  const tree = buildRewardsTree(amounts.map((amount, i) => ({ address: Address.parseRaw(participant(i + 1)), amount })));
  const rewards = await artifacts.putRows('epoch-1-rewards.json', amounts.map((a, i) => ({ index: i, participant: participant(i + 1), amountNanoton: String(a), scorePpb: 0 })));
  const contributions = await artifacts.putRows('epoch-1-contributions.json', []);
  const events: PoolEvent[] = [
    bound('w1', 1), bound('w2', 1), bound('w3', 2),
    { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } },
    // w1 earns 300 tokens, w2 100 (both participant 1), w3 50 (participant 2) and then misses a poll
    sample('w1', 1_000, 100), sample('w1', 3_000, 400), sample('w2', 1_000, 0), sample('w2', 3_000, 100),
    sample('w3', 1_000, 0), sample('w3', 3_000, 50), pollFailed('w3', 5_000),
    task('w1', 1, true, 1.5), task('w1', 2, false, 3),
    closing(1, 20_000),
    ...frozenAndComputed(1, { revenue: 3_000_000_000n, feeBps: 0, merkleRoot: tree.rootHex, leafCount: 2, rewards, contributions, participants: 2, cutSequence: 14 }),
    { type: 'PayoutBatchPlanned', version: 1, id: '1:batch:0:planned', data: { epochId: 1, batch: 0, fromIndex: 0, count: 2 } },
    { type: 'PayoutBatchSubmitted', version: 1, id: '1:batch:0:1', data: { epochId: 1, batch: 0, attempt: 1, queryId: '7', submittedAtMs: 30_000 } },
    { type: 'PayoutBatchConfirmed', version: 1, id: '1:batch:0:confirmed', data: { epochId: 1, batch: 0, paidNanoton: '3000000000', txHashes: ['ab'.repeat(32)], confirmedAtMs: 100_000 } },
    // settled 90 s after it closed
    { type: 'EpochSettled', version: 1, id: '1:settled', data: { epochId: 1, payoutsConfirmed: 2, paidNanoton: '3000000000', settledAtMs: 110_000 } },
  ];
  await store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
  await store.append(subjectOf(events[11]!), events[11]!); // task 1 read again (a re-read after a restart): a duplicate, not counted twice
  for (const projection of poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 })) {
    await runProjection(projection, { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  }
  const metrics = poolMetrics(pg.db, () => nats.store.lastSequence(), nats.store);
  for (const m of activity.all) metrics.registerMetric(m);
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), metrics });
  const r = await api.inject({ method: 'GET', url: '/metrics' });
  assert.is(r.statusCode, 200);
  text = r.body;
});
test.after(async () => {
  await api?.close();
  await nats?.stop();
  await pg?.drop();
});

/** The value of the sample named exactly `series` (name and labels as exposed). */
const value = (series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no sample ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
};

test('cocoon_worker_status: up while its polls answer, down after a miss; instance is the endpoint', () => {
  assert.is(value('cocoon_worker_status{worker_id="w1",instance="http://127.0.0.1/w1"}'), 1);
  assert.is(value('cocoon_worker_status{worker_id="w3",instance="http://127.0.0.1/w3"}'), 0);
  assert.is(value('cocoon_worker_healthy{worker_id="w2"}'), 1);
});

test('cocoon_inference_requests_total and cocoon_worker_errors_total from the last sample and the polls', () => {
  assert.is(value('cocoon_inference_requests_total{worker_id="w1"}'), 4); // stats.queries[0] of its last sample
  assert.is(value('cocoon_worker_errors_total{worker_id="w3",error_type="poll_failed"}'), 1);
  assert.is(value('cocoon_worker_errors_total{worker_id="w1",error_type="poll_failed"}'), 0);
  assert.is(value('cocoon_worker_errors_total{worker_id="w1",error_type="failed_requests"}'), 0);
});

test("cocoon_revenue_ton: the participant's rewards split over its workers by adjusted tokens", () => {
  assert.is(value(`cocoon_revenue_ton{worker_id="w1",participant_id="${participant(1)}"}`), 1.5);
  assert.is(value(`cocoon_revenue_ton{worker_id="w2",participant_id="${participant(1)}"}`), 0.5);
  assert.is(value(`cocoon_revenue_ton{worker_id="w3",participant_id="${participant(2)}"}`), 1);
});

test('cocoon_inference_latency_seconds: the task durations of each worker, a duplicate counted once', () => {
  assert.is(value('cocoon_inference_latency_seconds_count{worker_id="w1"}'), 2);
  assert.is(value('cocoon_inference_latency_seconds_sum{worker_id="w1"}'), 4.5);
  assert.is(value('cocoon_inference_latency_seconds{quantile="0.99",worker_id="w1"}'), 3);
  assert.is(value('pool_tasks_total{result="success"}'), 1);
  assert.is(value('pool_tasks_total{result="failed"}'), 1);
});

test('pool activity: polls by result, appends by type, payout batches sent and confirmed', () => {
  assert.is(value('pool_polls_total{result="ok"}'), 6);
  assert.is(value('pool_polls_total{result="connect"}'), 1);
  assert.is(value('pool_poll_duration_seconds_count'), 6);
  assert.is(value('pool_events_appended_total{type="TaskCompleted"}'), 2);
  assert.is(value('pool_events_appended_total{type="WorkerBound"}'), 3);
  assert.is(value('pool_payout_batches_sent_total'), 1);
  assert.is(value('pool_payout_batches_confirmed_total'), 1);
  assert.is(value('pool_epochs_settled_total'), 1);
});

test('pool_epoch_close_duration_seconds: one settled epoch, 90 s from close to settlement', () => {
  assert.is(value('pool_epoch_close_duration_seconds_count'), 1);
  assert.is(value('pool_epoch_close_duration_seconds_sum'), 90);
  assert.is(value('pool_epoch_close_duration_seconds_bucket{le="60"}'), 0);
  assert.is(value('pool_epoch_close_duration_seconds_bucket{le="120"}'), 1);
  assert.is(value('pool_epochs{status="settled"}'), 1);
});

test('pool_epoch_unsettled_seconds: 0 while every closed epoch is settled, then the age of the oldest one that is not', async () => {
  assert.is(value('pool_epoch_unsettled_seconds'), 0);
  await pg.db.updateTable('epochs').set({ status: 'paying', closed_at_ms: Date.now() - 3_600_000 }).where('epoch_id', '=', 2).execute();
  const again = (await api.inject({ method: 'GET', url: '/metrics' })).body.split('\n').find((l) => l.startsWith('pool_epoch_unsettled_seconds '))!;
  const age = Number(again.split(' ')[1]);
  assert.ok(age >= 3600 && age < 3600 + 600, `age ${age}`);
});

test('a failed append is counted and rethrown', async () => {
  const activity = poolActivityMetrics();
  const store = countAppends(nats.store, activity);
  const e = sample('w9', 1_000, 0);
  await store.append('pool.telemetry.w8', e).then(
    () => assert.unreachable('an event on another worker\'s subject is refused'),
    (err: Error) => assert.match(err.message, 'belongs on pool.telemetry.w9'),
  );
  assert.is((await activity.appendFailures.get()).values.find((v) => v.labels.type === 'WorkerStatsSampled')?.value, 1);
  assert.is((await activity.appended.get()).values.length, 0);
});

test.run();
