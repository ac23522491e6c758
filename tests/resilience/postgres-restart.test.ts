/**
 * PostgreSQL going away under a running pool (a restart, a crash, a failover, an administrator's
 * pg_terminate_backend) must cost nothing but time: the process lives, the projections, the
 * epoch saga and the read API resume on their own, and the read models end identical to a run
 * that was never interrupted. The server is a throw-away cluster of this test's own
 * (tests/support/postgres.ts), really shut down and started again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase, type OpenedDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { createTestDatabase, startThrowawayCluster, type TestDatabase, type ThrowawayCluster } from '../support/postgres.ts';
import { until } from '../support/until.ts';
import { assertSameAsUninterrupted as assertSameAsUninterruptedIn, EPOCH_MS, keptLogger, readModels, recordProcessFailures, startPipeline, workload, type Pipeline } from './pipeline.ts';

const failures = recordProcessFailures();
let cluster: ThrowawayCluster;
let nats: TestNats;
let created: TestDatabase;
let opened: OpenedDatabase;
let reference: TestDb;
let pipeline: Pipeline;
const { logger, lines } = keptLogger();

test.before(async () => {
  cluster = await startThrowawayCluster(mkdtempSync(join(tmpdir(), 'pool-pg-restart-')));
  [nats, reference] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  created = await createTestDatabase(cluster.adminUrl);
  opened = await openDatabase({ url: created.url, maxConnections: 4, logger });
  await migrateToLatest(opened.db);
  pipeline = startPipeline(nats, opened.db, logger);
});
test.after(async () => {
  await pipeline?.stop();
  await opened?.close();
  await nats?.stop();
  await reference?.drop();
  await cluster?.remove();
});

const events = workload(240);
const append = (slice: typeof events) => nats.store.appendMany(slice.map((event) => ({ subject: subjectOf(event), event })));

const assertSameAsUninterrupted = () => assertSameAsUninterruptedIn(nats, opened.db, reference.db);

const status = async (url: string) => (await pipeline.api.inject({ method: 'GET', url })).statusCode;

test('pg_ctl stop -m immediate while the pool runs, then start: projections, saga and read API resume; rows identical to an uninterrupted run', async () => {
  const half = Math.floor(events.length / 2);
  await append(events.slice(0, half));
  await until('epoch 1 opened', async () => (await nats.store.readSubject('pool.epoch.1')).length === 1);
  await until('the first half projected', async () => Object.values((await readModels(opened.db)).checkpoints).some((p) => p >= half));
  assert.is(await status('/api/v1/workers'), 200);

  await cluster.shutdown('immediate');
  await append(events.slice(half)); // the runners have work while the database is away
  pipeline.clock.now += EPOCH_MS; // the saga closes epoch 1 (NATS only) and then needs the database to freeze it
  await until('a projection to notice the outage', () => lines.some((l) => l.msg === 'database unavailable; retrying the batch'));
  await until('the saga to notice the outage', () => lines.some((l) => l.msg === 'epoch saga step failed; will retry'));
  assert.ok((await status('/api/v1/workers')) >= 500); // an error for this request, not a dead process

  await cluster.start();
  await until('epoch 1 frozen and computed after the restart', async () => (await nats.store.readSubject('pool.epoch.1')).some((e) => e.type === 'RewardsComputed'));
  await until('the root commit sent', () => pipeline.commits.length === 1);
  assert.is(await status('/api/v1/workers'), 200);
  await assertSameAsUninterrupted();
  const decided = (await nats.store.readSubject('pool.epoch.1')).map((e) => e.type);
  assert.equal(decided, ['EpochOpened', 'EpochClosing', 'ContributionsFrozen', 'RewardsComputed', 'RootCommitRequested', 'OperatorMessageSigned']);
  assert.equal(failures, []);
});

test('pg_terminate_backend (57P01 to idle pooled clients) and pg_ctl stop -m fast: logged at warn, nothing dies, rows identical', async () => {
  const more = workload(60, 99, 240);
  await until('idle pooled connections', async () => (await backends()).length > 0);
  const admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  try {
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [created.name]);
  } finally {
    await admin.end();
  }
  await until('the idle clients\' 57P01 logged at warn', () => lines.some((l) => l.code === '57P01' && l.level === 40));
  await append(more.slice(0, 100));
  await assertSameAsUninterrupted();

  await cluster.shutdown('fast');
  await append(more.slice(100));
  await cluster.start();
  await assertSameAsUninterrupted();
  assert.equal(failures, []);
});

async function backends(): Promise<number[]> {
  const c = new pg.Client({ connectionString: cluster.adminUrl });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1 and state = 'idle'", [created.name]);
    return r.rows.map((row) => row.pid);
  } finally {
    await c.end();
  }
}

test.run();
