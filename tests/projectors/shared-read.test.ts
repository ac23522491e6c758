/**
 * runProjections (projectors/runner.ts): every projection on one shared read, one transaction per
 * batch, each its own checkpoint. Same read models as each projection run alone; a projection
 * behind catches up in its own lane; an event one projection refuses is dead-lettered for that
 * projection only; a projection that fails is restarted from its checkpoint while the others go on.
 */
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Database } from '../../db/schema.ts';
import { poolProjections } from '../../projectors/all.ts';
import type { Projection } from '../../projectors/projection.ts';
import { readCheckpoint, resetProjection, runProjection, runProjections, type RunProjectionOptions } from '../../projectors/runner.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo, type DeadLetterSink } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, pollFailed, requestId, revenue, sample, subjectOf, task } from '../support/events.ts';
import { deadLetters, startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

let nats: TestNats;
let shared: TestDb;
let alone: TestDb;
test.before(async () => {
  [nats, shared, alone] = await Promise.all([startTestNats(), createMigratedDatabase(), createMigratedDatabase()]);
  await append(workload());
});
test.after(async () => {
  await nats.stop();
  await shared.drop();
  await alone.drop();
});

const silent = pino({ level: 'silent' });
const projections = poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 });
const tables = [...new Set(projections.flatMap((p) => p.tables))];

function workload(): PoolEvent[] {
  const events: PoolEvent[] = [];
  const workers = ['w0', 'w1', 'w2', 'w3'];
  workers.forEach((w, i) => events.push(bound(w, 1 + (i % 2))));
  let t = 1_000;
  let n = 0;
  for (let step = 0; step < 60; step++) {
    t += 2_000;
    for (const [i, w] of workers.entries()) {
      if ((step + i) % 13 === 0) events.push(pollFailed(w, t));
      else events.push(sample(w, t, step * 1000 + i, step * 10));
      events.push(task(w, n++, step % 7 !== 0, 1 + (step % 5)));
    }
    if (step % 20 === 19) events.push(closing(1 + Math.floor(step / 20), t), revenue(step, 1_000_000_000n + BigInt(step)));
  }
  return events;
}

async function append(events: PoolEvent[]): Promise<void> {
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
}

async function options(db: Kysely<Database>, extra: Partial<RunProjectionOptions> = {}): Promise<RunProjectionOptions> {
  return { store: nats.store, db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js), logger: silent, follow: false, batchSize: 37, ...extra };
}

async function rows(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const r = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db);
    out[t] = r.rows.map((row) => JSON.stringify(row)).sort();
  }
  return out;
}

test('one shared read gives every read model and checkpoint that each projection run alone gives', async () => {
  for (const p of projections) await runProjection(p, await options(alone.db, { batchSize: 50 }));
  await runProjections(projections, await options(shared.db));
  const last = await nats.store.lastSequence();
  assert.equal(await rows(shared.db), await rows(alone.db));
  for (const p of projections) assert.is(await readCheckpoint(shared.db, p.name), last, p.name);
  assert.ok((await rows(shared.db)).contributions!.length > 0, 'the workload wrote contributions');

  // run again: nothing new, nothing applied twice
  await runProjections(projections, await options(shared.db));
  assert.equal(await rows(shared.db), await rows(alone.db));
});

test('a projection reset for a rebuild catches up in its own lane to the same rows', async () => {
  const contributions = projections.find((p) => p.name === 'contributions')!;
  await resetProjection(shared.db, contributions);
  assert.is(await readCheckpoint(shared.db, 'contributions'), 0);
  await append([sample('w0', 500_000, 900_000, 900), task('w0', 10_000)]);
  // further behind the others than the window: it reads in a lane of its own while they share one
  await runProjections(projections, await options(shared.db, { catchUpWindow: 10 }));
  for (const p of projections) await runProjection(p, await options(alone.db));
  assert.equal(await rows(shared.db), await rows(alone.db));
  const last = await nats.store.lastSequence();
  for (const p of projections) assert.is(await readCheckpoint(shared.db, p.name), last, p.name);
});

/** Counts the tasks it sees into its own table-free state; throws on the task with request id `poison`. */
function taskCounter(poison: string, seen: Set<string>): Projection {
  return {
    name: 'task-counter',
    canHandle: ['TaskCompleted'],
    tables: [],
    async handle(events) {
      for (const e of events) {
        if (e.type !== 'TaskCompleted') continue;
        if (e.data.requestId === poison) throw new Error(`poison task ${poison}`);
      }
      for (const e of events) if (e.type === 'TaskCompleted') seen.add(e.data.requestId);
    },
  };
}

test('an event one projection refuses is dead-lettered for it alone; the others apply the whole batch', async () => {
  const poison = requestId(20_000);
  const seen = new Set<string>();
  const before = await rows(shared.db);
  await append([task('w1', 20_000), task('w1', 20_001)]);
  await runProjections([...projections, taskCounter(poison, seen)], await options(shared.db));
  const last = await nats.store.lastSequence();
  for (const name of [...projections.map((p) => p.name), 'task-counter']) assert.is(await readCheckpoint(shared.db, name), last, name);
  assert.ok(seen.has(requestId(20_001)) && !seen.has(poison));
  const letters = (await deadLetters(nats.jsm)).filter((l) => l.source === 'projection-task-counter');
  assert.is(letters.length, 1);
  assert.match(letters[0]!.reason, /poison task/);
  // the real projections counted both tasks
  const counted = await shared.db.selectFrom('counted_tasks').select('request_id').where('request_id', 'in', [poison, requestId(20_001)]).execute();
  assert.is(counted.length, 2);
  assert.not.equal(await rows(shared.db), before);
});

test('a projection that fails is restarted from its checkpoint while the others follow the stream', async () => {
  const poison = requestId(30_000);
  const seen = new Set<string>();
  let refusals = 0;
  const sink = deadLetterTo(nats.js);
  // the first dead letter of task-counter cannot be stored: the projection fails beyond quarantine
  const flakySink: DeadLetterSink = async (letter) => {
    if (letter.source === 'projection-task-counter' && refusals++ === 0) throw new Error('dead-letter stream unavailable');
    await sink(letter);
  };
  const ctl = new AbortController();
  const running = runProjections([...projections, taskCounter(poison, seen)], await options(shared.db, { follow: true, deadLetter: flakySink, signal: ctl.signal }));
  try {
    await append([task('w2', 30_000), task('w2', 30_001)]);
    const first = await nats.store.lastSequence();
    // the others reach the end at once; task-counter only after its restart (1 s back-off)
    await until('the real projections pass the poisoned batch', async () => (await readCheckpoint(shared.db, 'contributions')) === first);
    await append([task('w2', 30_002)]);
    const last = await nats.store.lastSequence();
    await until('every projection, the restarted one too, reaches the end', async () => {
      for (const name of [...projections.map((p) => p.name), 'task-counter']) if ((await readCheckpoint(shared.db, name)) !== last) return false;
      return true;
    });
    assert.ok(refusals >= 2, 'the restarted projection quarantined the event');
    assert.ok(seen.has(requestId(30_001)) && seen.has(requestId(30_002)) && !seen.has(poison));
  } finally {
    ctl.abort();
    await running;
  }
});

test.run();
