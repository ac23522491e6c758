/**
 * The nats-server going away under a running pool (SIGKILL: a crash, an OOM kill) and coming
 * back on the same port and store: the connection reconnects, and the projections, both sagas
 * and a producer's appends resume — every event stored once, no alert or decision doubled, read
 * models identical to a replay that never stopped, and the process never dies of it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heartbeatStep, type HeartbeatState } from '../../sagas/heartbeat/decide.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { sleep } from '../../runtime/sleep.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';
import { assertSameAsUninterrupted, EPOCH_MS, keptLogger, recordProcessFailures, startPipeline, workload, type Pipeline } from './pipeline.ts';

const failures = recordProcessFailures();
const { logger, lines } = keptLogger();
let nats: TestNats;
let db: TestDb;
let reference: TestDb;
let pipeline: Pipeline;

test.before(async () => {
  [nats, db, reference] = await Promise.all([startTestNats(), createMigratedDatabase(), createMigratedDatabase()]);
  pipeline = startPipeline(nats, db.db, logger);
});
test.after(async () => {
  await pipeline?.stop();
  await nats?.stop();
  await db?.drop();
  await reference?.drop();
});

async function allEvents(): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const b of nats.store.read()) out.push(...b.events);
  return out;
}

test('SIGKILL of nats-server mid-run, restart on the same port and store: appends, projections, epoch and heartbeat sagas resume; nothing lost or doubled', async () => {
  const events = workload(240);
  const killAt = Math.floor(events.length / 2);
  let killed: Promise<void> | null = null;
  let appendFailures = 0;
  // a producer as the pool's are: append, and on failure log and append the same event again (its id makes a repeat harmless)
  const producer = (async () => {
    for (const [i, event] of events.entries()) {
      if (i === killAt) killed = nats.kill(); // races with the next appends: some acks are lost, some publishes refused
      for (let attempt = 1; ; attempt++) {
        try {
          await nats.store.append(subjectOf(event), event);
          break;
        } catch (err) {
          appendFailures++;
          logger.warn({ err, attempt, id: event.id }, 'append failed; retrying');
          if (attempt >= 300) throw err;
          await sleep(200);
        }
      }
    }
  })();
  await until('the kill', () => killed !== null);
  await killed;
  await until('an append to fail while the server is away', () => appendFailures > 0);
  await nats.restart();
  await producer;
  await until('epoch 1 opened', async () => (await nats.store.readSubject('pool.epoch.1')).length === 1);
  pipeline.clock.now += EPOCH_MS;
  await until('the root commit of epoch 1 sent', () => pipeline.commits.length === 1);

  // every event stored exactly once
  const stored = await allEvents();
  const ids = stored.map((e) => e.id);
  assert.is(new Set(ids).size, ids.length, 'an id stored twice');
  const wanted = new Set(events.map((e) => e.id));
  assert.is(stored.filter((e) => wanted.has(e.id)).length, wanted.size, 'an event lost');

  // the heartbeat saga's alerts: exactly those its rules give for the stored telemetry, once each
  const state: HeartbeatState = {};
  const expected = stored.filter((e) => e.type === 'WorkerStatsSampled' || e.type === 'WorkerPollFailed').flatMap((e) => heartbeatStep(state, e, { offlineAfterMisses: 3 })).map((a) => a.id);
  assert.ok(expected.length > 0);
  const alerts = async () => (await allEvents()).filter((e) => e.subject.startsWith('pool.alerts.')).map((e) => e.id);
  await until('the heartbeat saga to catch up', async () => (await alerts()).length >= expected.length);
  assert.equal((await alerts()).sort(), [...expected].sort());

  // the epoch saga decided each step once, and the projections match a replay that never stopped
  assert.equal((await nats.store.readSubject('pool.epoch.1')).map((e) => e.type), ['EpochOpened', 'EpochClosing', 'ContributionsFrozen', 'RewardsComputed', 'RootCommitRequested', 'OperatorMessageSigned']);
  assert.equal(pipeline.commits, [1]);
  await assertSameAsUninterrupted(nats, db.db, reference.db);
  assert.ok(lines.some((l) => l.msg === 'append failed; retrying'));
  assert.equal(failures, []);
});

test.run();
