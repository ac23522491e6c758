/**
 * Read models belong to one stream: built from stream A, then started on a new stream B with the
 * same database, the start is refused with what to do; with --rebuild the read models are dropped
 * and B is replayed from its first event. Real nats-servers (one store each) and PostgreSQL.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { poolProjections } from '../../projectors/all.ts';
import { readCheckpoint, runProjection } from '../../projectors/runner.ts';
import { claimStreamIdentity, readStreamIdentity, StreamIdentityError } from '../../projectors/streamIdentity.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { EVENT_STREAM } from '../../streams/topology.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

const projections = poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 });

async function catchUp(nats: TestNats, pg: TestDb) {
  for (const projection of projections) {
    await runProjection(projection, {
      store: nats.store, db: pg.db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js),
      logger: pino({ level: 'silent' }), follow: false,
    });
  }
}

async function append(nats: TestNats, events: PoolEvent[]) {
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
}

async function claim(nats: TestNats, pg: TestDb, rebuild = false) {
  return claimStreamIdentity(pg.db, {
    identity: await readStreamIdentity(nats.jsm, EVENT_STREAM),
    lastSequence: await nats.store.lastSequence(),
    projections,
    rebuild,
    database: 'postgres://test/db',
  });
}

const workers = async (pg: TestDb) => (await pg.db.selectFrom('workers').select('worker_id').orderBy('worker_id').execute()).map((r) => r.worker_id);

test('built from stream A, a start on a new stream B is refused; with rebuild B is replayed from its first event', async () => {
  const pg = await createMigratedDatabase();
  const a = await startTestNats();
  let b: TestNats | undefined;
  try {
    assert.is(await claim(a, pg), 'recorded');
    await append(a, [bound('a1', 1), sample('a1', 1000, 10), sample('a1', 3000, 20)]);
    await catchUp(a, pg);
    assert.is(await claim(a, pg), 'matched'); // a restart on the same stream
    await a.stop();

    // stream B: longer than A, so A's checkpoints are inside it and would skip B's first events
    b = await startTestNats();
    await append(b, [bound('b1', 2), bound('b2', 3), sample('b1', 1000, 5), sample('b2', 1000, 5), sample('b1', 3000, 9), sample('b2', 3000, 9)]);
    const before = await readCheckpoint(pg.db, 'workers');
    assert.ok(before > 0 && before < (await b.store.lastSequence()));
    try {
      await claim(b, pg);
      assert.unreachable('the start on another stream was not refused');
    } catch (err) {
      assert.instance(err, StreamIdentityError);
      const message = (err as Error).message;
      assert.match(message, /postgres:\/\/test\/db/);
      assert.match(message, /stream POOL created/);
      assert.match(message, /DATABASE_URL/);
      assert.match(message, /--rebuild/);
    }
    // refused: nothing changed
    assert.equal(await workers(pg), ['a1']);
    assert.is(await readCheckpoint(pg.db, 'workers'), before);

    assert.is(await claim(b, pg, true), 'rebuilt');
    assert.equal(await workers(pg), []);
    assert.is(await readCheckpoint(pg.db, 'workers'), 0);
    await catchUp(b, pg);
    assert.equal(await workers(pg), ['b1', 'b2']);
    for (const name of ['workers', 'contributions']) assert.is(await readCheckpoint(pg.db, name), await b.store.lastSequence(), name);
    assert.is(await claim(b, pg), 'matched');
  } finally {
    await b?.stop();
    await pg.drop();
  }
});

test('a database from before identities were recorded: adopted when plausible, refused when a checkpoint lies beyond the stream', async () => {
  const pg = await createMigratedDatabase();
  const nats = await startTestNats();
  try {
    await append(nats, [bound('w1', 1), sample('w1', 1000, 10)]);
    await pg.db.insertInto('projection_checkpoints').values({ name: 'workers', position: 99, updated_at_ms: 1 }).execute();
    try {
      await claim(nats, pg);
      assert.unreachable('checkpoint 99 on a 2-event stream was not refused');
    } catch (err) {
      assert.instance(err, StreamIdentityError);
      assert.match((err as Error).message, /stream sequence 99 \(projection workers\), beyond the end \(2\)/);
    }
    await pg.db.updateTable('projection_checkpoints').set({ position: 1 }).execute();
    assert.is(await claim(nats, pg), 'recorded');
    assert.is(await claim(nats, pg), 'matched');
  } finally {
    await nats.stop();
    await pg.drop();
  }
});

test.run();
