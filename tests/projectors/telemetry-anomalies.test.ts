/**
 * Telemetry anomalies against real NATS and PostgreSQL: the contribution and workers projections
 * credit nothing for a sample that is not credible, and the heartbeat saga records why.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contributionsProjection, epochContributions } from '../../projectors/contributions.ts';
import { runProjection } from '../../projectors/runner.ts';
import { workersProjection } from '../../projectors/workers.ts';
import { runHeartbeatSaga } from '../../sagas/heartbeat/processManager.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, participant, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { Process, sampledEvent } from '../support/telemetry.ts';

let nats: TestNats;
let pg: TestDb;
test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
});
test.after(async () => {
  await nats.stop();
  await pg.drop();
});

const limits = { maxAdjustedTokensPerSecond: 10_000 };

async function catchUp() {
  const artifacts = await openArtifactStore(nats.nc);
  for (const projection of [contributionsProjection({ maxCreditMs: 30_000, telemetry: limits }), workersProjection({ maxCreditMs: 30_000, telemetry: limits })]) {
    await runProjection(projection, {
      store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false, batchSize: 5,
    });
  }
}
const append = (events: PoolEvent[]) => nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
const tokensOf = async (p: number) => (await epochContributions(pg.db, 1, 60_000)).find((r) => r.participant === participant(p))?.adjustedTokens;
const worker = (id: string) => pg.db.selectFrom('workers').selectAll().where('worker_id', '=', id).executeTakeFirstOrThrow();

// Events in the format recorded before this fix (no rates), so this test also runs against the old code, where it fails.
test('money-moving defect: T−1 after T credits nothing', async () => {
  await append([bound('t1', 1), sample('t1', 10_000, 5000, 50), sample('t1', 12_000, 4999, 50), sample('t1', 14_000, 5000, 50)]);
  await catchUp();
  assert.is(await tokensOf(1), '0');
  const t1 = await worker('t1');
  assert.equal([t1.adjusted_tokens, t1.anomalies, t1.last_anomaly?.reason, t1.restarts], ['0', 1, 'counter-decreased', 0]);
});

test('money-moving defect: git_commit changing every poll credits the 100 real tokens, not the running total each time', async () => {
  const flapping: PoolEvent[] = [bound('f1', 2)];
  for (let i = 0; i <= 10; i++) flapping.push(sample('f1', 10_000 + 360 * i, 1000 + 10 * i, 50 + i, i % 2 ? 'flapped' : 'c0ffee'));
  await append(flapping);
  await catchUp();
  assert.is(await tokensOf(2), '100');
  const f1 = await worker('f1');
  assert.equal([f1.adjusted_tokens, f1.anomalies, f1.last_anomaly?.reason, f1.restarts], ['100', 5, 'commit-changed', 0]);
});

test('hostile samples credit nothing and leave the contribution read model as it was; the saga records each reason once', async () => {
  const T0 = 2_000_000;
  const p = new Process(T0).steady(T0, T0 + 3600);
  const good = [p.sample(T0 + 3600)];
  p.work(T0 + 3601, 10);
  good.push(p.sample(T0 + 3602));
  await append([bound('h1', 3), ...good.map((s) => sampledEvent('h1', s))]);
  await catchUp();
  const before = await pg.db.selectFrom('contributions').select(['epoch_id', 'worker_id', 'participant', 'adjusted_tokens', 'restarts']).orderBy('worker_id').execute();
  assert.is(await tokensOf(3), '1000');

  const last = good[1]!;
  let at = last.observedAtMs;
  const next = (over: (s: typeof last) => Partial<typeof last>) => {
    at += 2000;
    return { ...last, observedAtMs: at, ...over(last) };
  };
  const zeros = Object.fromEntries(Object.keys(last.totals).map((k) => [k, 0])) as typeof last.totals;
  const hostile = [
    next((s) => ({ totals: { ...s.totals, totalAdjustedTokens: 2 ** 70 } })),
    next((s) => ({ totals: { ...s.totals, totalAdjustedTokens: 1e23 } })),
    next((s) => ({ totals: { ...s.totals, totalAdjustedTokens: s.totals.totalAdjustedTokens + 1e9 } })), // over the ceiling
    next((s) => ({ totals: { ...s.totals, totalAdjustedTokens: s.totals.totalAdjustedTokens - 1 } })), // T−1
    next(() => ({ totals: zeros })), // totals reset, decayed rates of the old process kept
    next((s) => ({ totals: { ...s.totals, totalAdjustedTokens: 100 } })), // partial reset
    next(() => ({ gitCommit: 'flapped' })),
    next(() => ({ ownerAddress: `0:${'e'.repeat(64)}` })),
    next(() => ({ walletAddress: `0:${'f'.repeat(64)}` })),
  ];
  await append(hostile.map((s) => sampledEvent('h1', s)));
  await catchUp();

  const after = await pg.db.selectFrom('contributions').select(['epoch_id', 'worker_id', 'participant', 'adjusted_tokens', 'restarts']).orderBy('worker_id').execute();
  assert.equal(after, before);
  const h1 = await worker('h1');
  assert.equal([h1.adjusted_tokens, h1.anomalies, h1.anomalous, h1.last_anomaly?.reason, h1.owner_address], ['1000', hostile.length, true, 'identity-changed', last.ownerAddress]);
  assert.equal(h1.last_totals, last.totals, 'the read model keeps the last accepted totals');

  // the saga over the same stream: one alert per episode, with its reason
  const ctl = new AbortController();
  const cursors = await openCursorStore(nats.nc);
  const saga = runHeartbeatSaga({ store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), settings: { offlineAfterMisses: 3, telemetry: limits }, logger: pino({ level: 'silent' }), signal: ctl.signal });
  const expected = ['implausible-value', 'over-ceiling', 'counter-decreased', 'commit-changed', 'WorkerOwnerChanged', 'WorkerIdentityChanged'];
  let alerts: string[] = [];
  for (let i = 0; i < 300 && alerts.length < expected.length; i++) {
    alerts = (await nats.store.readSubject('pool.alerts.h1')).map((a) => (a.type === 'WorkerTelemetryAnomaly' ? a.data.reason : a.type));
    if (alerts.length < expected.length) await new Promise((r) => setTimeout(r, 100));
  }
  ctl.abort();
  await saga;
  assert.equal(alerts, expected);
  const tAlerts = (await nats.store.readSubject('pool.alerts.t1')).map((a) => a.type);
  assert.equal(tAlerts, ['WorkerTelemetryAnomaly']);
});

test.run();
