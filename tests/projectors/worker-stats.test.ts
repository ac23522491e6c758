import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contributionsProjection } from '../../projectors/contributions.ts';
import { epochsProjection } from '../../projectors/epochs.ts';
import { readCheckpoint, resetProjection, runProjections } from '../../projectors/runner.ts';
import { MINUTE_MS, splitByMinute, workerStatsProjection } from '../../projectors/workerStats.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, pollFailed, sample, subjectOf, task } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { prng } from '../support/random.ts';

let nats: TestNats;
let pg: TestDb;
test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
});
test.after(async () => {
  await nats.stop();
  await pg.drop();
});

const maxCreditMs = 60_000;
const stats = workerStatsProjection({ maxCreditMs });
const projections = [contributionsProjection({ maxCreditMs }), epochsProjection(), stats];

async function catchUp(batchSize: number, only = projections) {
  await runProjections(only, {
    store: nats.store, db: pg.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }), follow: false, batchSize,
  });
}

const T0 = 28_333_334 * MINUTE_MS; // a whole minute (2023-11-14T22:14:00Z)
const EPOCH_MS = 10 * MINUTE_MS;
const seed = 20261202;

const opened = (epochId: number, startedAtMs: number): PoolEvent => ({
  type: 'EpochOpened', version: 1, id: `${epochId}:opened`, data: { epochId, startedAtMs, endsAtMs: startedAtMs + EPOCH_MS },
});
const loggedTask = (workerId: string, n: number, success: boolean, atMs: number): PoolEvent => {
  const t = task(workerId, n, success) as Extract<PoolEvent, { type: 'TaskCompleted' }>;
  return { ...t, data: { ...t.data, loggedAtMs: atMs, observedAtMs: atMs + 700 } };
};

/**
 * Two epochs of 10 minutes from T0, polls every ~20 s (random gaps, failed polls, restarts,
 * duplicate samples), tasks logged in between (some lines read twice); w1, w2 bound from the start,
 * w4 bound in the middle of epoch 1, w3 never bound. Every event of epoch e is observed inside
 * [T0 + (e-1)·10 min, T0 + e·10 min) and stored before its cut.
 */
function history(): PoolEvent[] {
  const rand = prng(seed);
  const events: PoolEvent[] = [bound('w1', 1), bound('w2', 2), opened(1, T0)];
  const totals: Record<string, number> = { w1: 1_000_000, w2: 0, w3: 500, w4: 40 };
  let request = 0;
  for (let epoch = 1; epoch <= 2; epoch++) {
    const start = T0 + (epoch - 1) * EPOCH_MS;
    if (epoch === 2) events.push(opened(2, start));
    for (let at = start + 1_000; at < start + EPOCH_MS; at += 20_000) {
      if (epoch === 1 && at > start + 4 * MINUTE_MS && !events.some((e) => e.type === 'WorkerBound' && e.data.workerId === 'w4')) events.push(bound('w4', 1));
      for (const w of ['w1', 'w2', 'w3', 'w4']) {
        const t = at + Math.floor(rand() * 15_000);
        const roll = rand();
        if (roll < 0.1) events.push(pollFailed(w, t));
        else if (roll < 0.15) continue; // missed: a longer gap
        else {
          totals[w] = roll < 0.2 ? Math.floor(rand() * 300) : totals[w]! + Math.floor(rand() * 5_000); // < 0.2: the process restarted
          const s = sample(w, t, totals[w]!, Math.max(1, Math.floor(totals[w]! / 100)));
          events.push(s);
          if (rand() < 0.1) events.push({ ...s, id: `${s.id}:again` }); // the same poll delivered twice
        }
        if (rand() < 0.4) {
          request++;
          const line = loggedTask(w, request, rand() < 0.8, t + 2_000);
          events.push(line);
          if (rand() < 0.2) events.push({ ...line, id: `${line.id}:reread` }); // a line read twice
        }
      }
    }
    events.push(closing(epoch, start + EPOCH_MS));
  }
  return events;
}

interface Totals { tokens: bigint; tasks: number; succeeded: number; uptimeMs: number; pollsOk: number; pollsFailed: number }

async function minuteTotals(workerId: string, fromMs: number, toMs: number): Promise<Totals> {
  const rows = await pg.db.selectFrom('worker_stats_minutes').selectAll().where('worker_id', '=', workerId).where('bucket_start_ms', '>=', fromMs).where('bucket_start_ms', '<', toMs).execute();
  return {
    tokens: rows.reduce((s, r) => s + BigInt(r.adjusted_tokens), 0n),
    tasks: rows.reduce((s, r) => s + Number(r.tasks), 0),
    succeeded: rows.reduce((s, r) => s + Number(r.tasks_succeeded), 0),
    uptimeMs: rows.reduce((s, r) => s + Number(r.uptime_ms), 0),
    pollsOk: rows.reduce((s, r) => s + Number(r.polls_ok), 0),
    pollsFailed: rows.reduce((s, r) => s + Number(r.polls_failed), 0),
  };
}

async function contributionTotals(workerId: string, epochId?: number): Promise<Totals> {
  let q = pg.db.selectFrom('contributions').selectAll().where('worker_id', '=', workerId);
  if (epochId !== undefined) q = q.where('epoch_id', '=', epochId);
  const rows = await q.execute();
  return {
    tokens: rows.reduce((s, r) => s + BigInt(r.adjusted_tokens), 0n),
    tasks: rows.reduce((s, r) => s + Number(r.tasks), 0),
    succeeded: rows.reduce((s, r) => s + Number(r.tasks_succeeded), 0),
    uptimeMs: rows.reduce((s, r) => s + Number(r.uptime_ms), 0),
    pollsOk: rows.reduce((s, r) => s + Number(r.polls_ok), 0),
    pollsFailed: rows.reduce((s, r) => s + Number(r.polls_failed), 0),
  };
}

const snapshot = async () =>
  (await pg.db.selectFrom('worker_stats_minutes').selectAll().orderBy('worker_id').orderBy('bucket_start_ms').execute()).map((r) => ({ ...r, adjusted_tokens: String(r.adjusted_tokens) }));

test('splitByMinute: whole milliseconds over the minutes the interval covers', () => {
  assert.equal(splitByMinute(T0 + 10_000, 30_000), [[T0 - MINUTE_MS, 20_000], [T0, 10_000]]);
  assert.equal(splitByMinute(T0, 60_000), [[T0 - MINUTE_MS, 60_000]]);
  assert.equal(splitByMinute(T0 + 5_000, 3_000), [[T0, 3_000]]);
  assert.equal(splitByMinute(T0 + 1, 2 * MINUTE_MS + 2), [[T0 - 3 * MINUTE_MS, 1], [T0 - 2 * MINUTE_MS, 60_000], [T0 - MINUTE_MS, 60_000], [T0, 1]]);
  assert.equal(splitByMinute(T0, 0), []);
});

test('per epoch, the minutes of its time range sum to the contributions row of each worker', async () => {
  const events = history();
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
  await catchUp(7);
  assert.is(await readCheckpoint(pg.db, 'worker-stats'), await readCheckpoint(pg.db, 'contributions'));

  const epochs = await pg.db.selectFrom('epochs').selectAll().where('closed_at_ms', 'is not', null).orderBy('epoch_id').execute();
  assert.equal(epochs.map((e) => [e.epoch_id, Number(e.started_at_ms), Number(e.closed_at_ms)]), [[1, T0, T0 + EPOCH_MS], [2, T0 + EPOCH_MS, T0 + 2 * EPOCH_MS]]);
  let credited = 0n;
  for (const w of ['w1', 'w2', 'w4']) {
    for (const e of epochs) {
      const minutes = await minuteTotals(w, Number(e.started_at_ms), Number(e.closed_at_ms));
      const contribution = await contributionTotals(w, e.epoch_id);
      const { uptimeMs: _a, ...m } = minutes;
      const { uptimeMs: _b, ...c } = contribution;
      assert.equal(m, c, `${w}, epoch ${e.epoch_id} (seed ${seed})`);
      credited += minutes.tokens;
    }
    // uptime ending in one epoch may begin in the minute before its start: equal over all epochs
    assert.is((await minuteTotals(w, 0, Number.MAX_SAFE_INTEGER)).uptimeMs, (await contributionTotals(w)).uptimeMs, `${w} uptime`);
  }
  assert.ok(credited > 0n, 'some tokens were credited');
  assert.ok((await contributionTotals('w1')).tasks > 0 && (await contributionTotals('w1')).pollsFailed > 0, 'tasks and failed polls were counted');
  // an unbound worker is credited nothing, as in contributions
  assert.is((await pg.db.selectFrom('worker_stats_minutes').select('worker_id').where('worker_id', '=', 'w3').execute()).length, 0);
  assert.is((await contributionTotals('w3')).pollsOk, 0);
  // a minute never holds more uptime than it lasts, and rows are whole minutes
  for (const r of await snapshot()) {
    assert.ok(Number(r.uptime_ms) <= MINUTE_MS, `uptime ${r.uptime_ms} in ${r.worker_id} ${r.bucket_start_ms}`);
    assert.is(Number(r.bucket_start_ms) % MINUTE_MS, 0);
  }
});

test('a rebuild in other batches gives the same rows; a task line read again later counts once', async () => {
  const before = await snapshot();
  assert.ok(before.length > 20);
  await resetProjection(pg.db, stats);
  assert.is((await snapshot()).length, 0);
  await catchUp(500, [stats]);
  assert.equal(await snapshot(), before);

  const again = loggedTask('w1', 1, true, T0 + 99 * MINUTE_MS);
  await nats.store.append(subjectOf(again), { ...again, id: 'task-reread-after-restart' });
  await catchUp(500, [stats]);
  assert.equal(await snapshot(), before);
  assert.is(await readCheckpoint(pg.db, 'worker-stats'), await nats.store.lastSequence());
});

test.run();
