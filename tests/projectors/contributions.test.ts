import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contributionsProjection, epochContributions } from '../../projectors/contributions.ts';
import { readCheckpoint, runProjection } from '../../projectors/runner.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, participant, pollFailed, sample, subjectOf, task } from '../support/events.ts';
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

const projection = contributionsProjection({ maxCreditMs: 30_000 });

async function catchUp() {
  await runProjection(projection, {
    store: nats.store, db: pg.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }), follow: false, batchSize: 7,
  });
}

test('deltas, restarts, uptime, tasks once, and the epoch cut', async () => {
  const events = [
    bound('w1', 1), bound('w2', 1), bound('w3', 2),
    sample('w1', 10_000, 5_000_000), // baseline: work before the pool watched does not count
    sample('w1', 20_000, 5_001_000),
    sample('w1', 30_000, 5_003_000),
    sample('w2', 10_000, 0),
    sample('w2', 20_000, 700),
    sample('w2', 30_000, 100, 1), // restart: 100 since it
    task('w1', 1), task('w1', 2, false, 3), task('w1', 1), // request 1 logged twice
    pollFailed('w3', 15_000),
    sample('w1', 30_000, 5_003_000), // duplicate sample
    closing(1),
    sample('w1', 40_000, 5_004_000), // counts for epoch 2
    task('w2', 3),
  ];
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
  await catchUp();

  const e1 = await epochContributions(pg.db, 1, 60_000);
  assert.equal(e1.map((r) => [r.participant, r.workers, r.adjustedTokens, r.tasks, r.tasksSucceeded, r.taskMicros, r.uptimeMs, r.expectedMs, r.pollsOk, r.pollsFailed, r.restarts]), [
    [participant(1), 2, '3800', 2, 1, 4_500_000, 40_000, 120_000, 6, 0, 1],
    [participant(2), 1, '0', 0, 0, 0, 0, 60_000, 0, 1, 0],
  ]);
  const e2 = await epochContributions(pg.db, 2, 60_000);
  // every bound worker has a row in the new epoch (w3 offline still expected)
  assert.equal(e2.map((r) => [r.participant, r.workers, r.adjustedTokens, r.tasks]), [
    [participant(1), 2, '1000', 1],
    [participant(2), 1, '0', 0],
  ]);
  assert.is(await readCheckpoint(pg.db, 'contributions'), await nats.store.lastSequence());
});

test('a task line seen again much later (beyond the duplicate window) still counts once', async () => {
  // same request id, different Nats-Msg-Id: the store keeps both, the projection counts one
  const again = task('w1', 2, false, 3);
  await nats.store.append('pool.work.w1', { ...again, id: 'task-reread-after-restart' });
  await catchUp();
  const e2 = await epochContributions(pg.db, 2, 60_000);
  assert.is(e2[0]!.tasks, 1);
});

test.run();
