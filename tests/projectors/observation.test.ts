/**
 * The contributions projection keeps the pool's own observation time per epoch from its
 * PoolObserving heartbeats (by the cut, like uptime), and the frozen table measures expected
 * uptime against it. Real nats-server and PostgreSQL.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contributionsProjection, epochObservedMs } from '../../projectors/contributions.ts';
import { runProjection } from '../../projectors/runner.ts';
import { freezeContributions } from '../../sagas/epoch/settlement.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { OBSERVER_SUBJECT } from '../../producers/observer.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, participant, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
});
test.after(async () => {
  await nats.stop();
  await pg.drop();
});

const beat = (atMs: number, phase: 'start' | 'running' | 'stop' = 'running', id = `observing:${atMs}:${phase}`): PoolEvent => ({
  type: 'PoolObserving', version: 1, id, data: { atMs, validForMs: phase === 'stop' ? 0 : 6_000, phase },
});

async function catchUp() {
  await runProjection(contributionsProjection({ maxCreditMs: 6_000 }), {
    store: nats.store, db: pg.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }), follow: false, batchSize: 3,
  });
}

test('before any heartbeat an epoch is measured against its wall time (a stream from before observation)', async () => {
  await nats.store.appendMany([bound('w1', 1), sample('w1', 0, 0)].map((event) => ({ subject: subjectOf(event), event })));
  await catchUp();
  assert.is(await epochObservedMs(pg.db, 1, 60_000), 60_000);
});

test('observed time per epoch: a crash loses the time after the last promise, a clean stop promises nothing', async () => {
  const telemetry = [sample('w1', 2_000, 100), sample('w1', 4_000, 200), sample('w1', 6_000, 300), sample('w1', 50_000, 400), sample('w1', 52_000, 500)];
  const stream: { subject: string; event: PoolEvent }[] = [
    ...[beat(0, 'start'), beat(2_000), beat(4_000), beat(6_000)].map((event) => ({ subject: OBSERVER_SUBJECT, event })),
    ...telemetry.slice(0, 3).map((event) => ({ subject: subjectOf(event), event })),
    // killed after 6 s; started again at 50 s
    ...[beat(50_000, 'start'), beat(52_000), beat(52_000, 'running', 'the same heartbeat delivered again')].map((event) => ({ subject: OBSERVER_SUBJECT, event })),
    ...telemetry.slice(3).map((event) => ({ subject: subjectOf(event), event })),
    { subject: subjectOf(closing(1)), event: closing(1, 53_000) },
    ...[beat(54_000), beat(55_000, 'stop'), beat(70_000, 'start'), beat(72_000)].map((event) => ({ subject: OBSERVER_SUBJECT, event })),
  ];
  await nats.store.appendMany(stream);
  await catchUp();
  // epoch 1: 0→6 s (6 s), the crash (the 6 s promise of the last heartbeat), 50→52 s (2 s)
  assert.is(await epochObservedMs(pg.db, 1, 53_000), 14_000);
  // epoch 2: 52→54 s, 54→55 s (the stop), 55→70 s nothing, 70→72 s
  assert.is(await epochObservedMs(pg.db, 2, 20_000), 5_000);
  assert.is(await epochObservedMs(pg.db, 3, 20_000), 0); // heartbeats exist: an epoch without any observed nothing

  const frozen = await freezeContributions(pg.db, 1, await epochObservedMs(pg.db, 1, 53_000));
  assert.equal(frozen.map((r) => [r.participant, r.uptimeMs, r.expectedMs]), [[participant(1), 2_000 * 3 + 6_000 + 2_000, 14_000]]);
});

test.run();
