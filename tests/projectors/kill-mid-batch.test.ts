import { spawn } from 'node:child_process';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { contributionsProjection } from '../../projectors/contributions.ts';
import { readCheckpoint, runProjection } from '../../projectors/runner.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, pollFailed, sample, subjectOf, task } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { prng } from '../support/random.ts';

let nats: TestNats;
let killed: TestDb;
let reference: TestDb;
test.before(async () => {
  [nats, killed, reference] = await Promise.all([startTestNats(), createMigratedDatabase(), createMigratedDatabase()]);
});
test.after(async () => {
  await nats.stop();
  await killed.drop();
  await reference.drop();
});

function workload(): PoolEvent[] {
  const rand = prng(42);
  const events: PoolEvent[] = [];
  const workers = ['w0', 'w1', 'w2', 'w3', 'w4', 'w5'];
  workers.forEach((w, i) => events.push(bound(w, 1 + (i % 3))));
  const totals = new Map(workers.map((w) => [w, 0]));
  let t = 1_000;
  let task_n = 0;
  for (let step = 0; step < 260; step++) {
    t += 2_000;
    for (const w of workers) {
      const r = rand();
      if (r < 0.08) events.push(pollFailed(w, t));
      else {
        const restart = r > 0.985;
        const next = restart ? Math.floor(rand() * 500) : totals.get(w)! + Math.floor(rand() * 3000);
        totals.set(w, next);
        events.push(sample(w, t, next, Math.floor(next / 50)));
      }
      if (rand() < 0.5) events.push(task(w, task_n++, rand() > 0.1, rand() * 10));
      if (rand() < 0.05) events.push(task(w, Math.floor(rand() * Math.max(1, task_n)))); // re-read line
    }
    if (step % 90 === 89) events.push(closing(1 + Math.floor(step / 90), t));
  }
  return events;
}

async function snapshot(db: Kysely<Database>) {
  return {
    contributions: await db.selectFrom('contributions').selectAll().orderBy('epoch_id').orderBy('worker_id').orderBy('participant').execute(),
    counters: await db.selectFrom('worker_counters').selectAll().orderBy('worker_id').execute(),
    tasks: await db.selectFrom('counted_tasks').selectAll().orderBy('request_id').execute(),
    cursor: await db.selectFrom('epoch_cursors').selectAll().execute(),
  };
}

function runChild(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/projectors/fixtures/slow-projection.ts'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited };
}

test('a projection killed mid-batch and restarted ends with the same rows as one that never stopped', async () => {
  const events = workload();
  for (let i = 0; i < events.length; i += 500) {
    await nats.store.appendMany(events.slice(i, i + 500).map((event) => ({ subject: subjectOf(event), event })));
  }
  const last = await nats.store.lastSequence();
  const env = { NATS_URL: nats.server.url, DATABASE_URL: killed.url };

  // kill it three times at different points while it is inside a transaction
  let kills = 0;
  for (const target of [0.2, 0.5, 0.8]) {
    const { child, exited } = runChild(env);
    while ((await readCheckpoint(killed.db, 'contributions')) < target * last) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    kills++;
    const at = await readCheckpoint(killed.db, 'contributions');
    assert.ok(at < last, `kill ${kills} came too late (checkpoint ${at} of ${last})`);
  }
  const { exited } = runChild(env);
  assert.is(await exited, 0);
  assert.is(await readCheckpoint(killed.db, 'contributions'), last);

  await runProjection(contributionsProjection({ maxCreditMs: 30_000 }), {
    store: nats.store, db: reference.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js),
    logger: pino({ level: 'silent' }), follow: false, batchSize: 1000,
  });
  const [a, b] = await Promise.all([snapshot(killed.db), snapshot(reference.db)]);
  assert.ok(a.contributions.length > 10);
  assert.ok(a.tasks.length > 100);
  assert.equal(a, b);
});

test.run();
