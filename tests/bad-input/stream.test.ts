/**
 * Bad input on the event stream (boundary: NATS publishes under `pool.>`). A message that is not
 * a valid event — not JSON, not an envelope, failing its schema — published by a foreign client
 * on the subjects each reader reads. Every reader (the projections, the epoch saga, the heartbeat
 * saga, start-up's bindWorkers, the audit) must:
 *   - quarantine it ONCE: one dead letter on POOL_DLQ with its subject, stream sequence and
 *     reason, however many readers meet it and however often they restart or replay;
 *   - go on past it (no crash, no stall, no unhandled rejection);
 *   - never let it change a read model or a decision.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditEpoch } from '../../cli/audit.ts';
import { bindWorkers } from '../../cli/start.ts';
import { DEFAULT_CONFIG } from '../../config/config.ts';
import type { Database } from '../../db/schema.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import { poolProjections } from '../../projectors/all.ts';
import { resetProjection, runProjection } from '../../projectors/runner.ts';
import { runEpochSaga } from '../../sagas/epoch/processManager.ts';
import { runHeartbeatSaga } from '../../sagas/heartbeat/processManager.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo, type DeadLetterSink } from '../../streams/deadLetter.ts';
import { createMigratedDatabase } from '../support/db.ts';
import { bound, participant, pollFailed, revenue, sample, subjectOf, task } from '../support/events.ts';
import { deadLetters, startTestNats, type TestNats } from '../support/nats.ts';
import { recordingActions } from '../support/sagaActions.ts';
import { until } from '../support/until.ts';

const logger = pino({ level: 'silent' });
const unhandled: unknown[] = [];
process.on('unhandledRejection', (err) => void unhandled.push(err));

const enc = (s: string) => new TextEncoder().encode(s);
/** Three ways not to be an event. */
const GARBAGE = {
  notJson: enc('{not json'),
  notEnvelope: enc('{"hello":"world"}'),
  failsSchema: enc(JSON.stringify({ type: 'PoolRevenueReceived', version: 1, id: 'forged', data: { amountNanoton: 'a lot' } })),
};

async function publishGarbage(nats: TestNats, subject: string, payload: Uint8Array): Promise<number> {
  return (await nats.js.publish(subject, payload)).seq;
}

async function appendAll(nats: TestNats, events: PoolEvent[]): Promise<void> {
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
}

/** The dead letters' origins, as `subject#sequence`, sorted. */
async function quarantined(nats: TestNats): Promise<string[]> {
  return (await deadLetters(nats.jsm)).map((l) => `${l.originSubject}#${l.originSequence}`).sort();
}

async function tableRows(db: Kysely<Database>, tables: readonly string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const r = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db);
    out[t] = r.rows.map((row) => JSON.stringify(row)).sort();
  }
  return out;
}

const projections = poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 });
const readModelTables = [...new Set(projections.flatMap((p) => p.tables))];

async function catchUpProjections(nats: TestNats, db: Kysely<Database>, deadLetter: DeadLetterSink = deadLetterTo(nats.js)): Promise<void> {
  const artifacts = await openArtifactStore(nats.nc);
  for (const p of projections) await runProjection(p, { store: nats.store, db, artifacts, deadLetter, logger, follow: false });
}

test('projections: each invalid message is one dead letter with its sequence and reason, read models unchanged, nothing stalls; reruns and rebuilds letter nothing new', async () => {
  const nats = await startTestNats();
  const pg = await createMigratedDatabase();
  try {
    await appendAll(nats, [bound('w1', 1), bound('w2', 2), sample('w1', 10_000, 100), sample('w2', 10_000, 50), task('w1', 1), revenue(1, 5_000_000_000n)]);
    await catchUpProjections(nats, pg.db);
    const before = await tableRows(pg.db, readModelTables);

    const bad = [
      await publishGarbage(nats, 'pool.telemetry.w1', GARBAGE.notJson),
      await publishGarbage(nats, 'pool.work.w1', GARBAGE.notEnvelope),
      await publishGarbage(nats, 'pool.chain.distribution', GARBAGE.failsSchema),
      await publishGarbage(nats, 'pool.membership.w1', GARBAGE.notJson),
      await publishGarbage(nats, 'pool.epoch.1', GARBAGE.notEnvelope),
    ];
    await catchUpProjections(nats, pg.db);
    assert.equal(await tableRows(pg.db, readModelTables), before, 'garbage changed a read model');
    const letters = await deadLetters(nats.jsm);
    assert.equal(letters.map((l) => l.originSequence).sort((a, b) => a! - b!), bad, 'one letter per invalid message, whoever read it');
    for (const l of letters) {
      assert.ok(l.reason.length > 0);
      assert.match(l.source, /^projection-/);
      assert.match(l.originSubject!, /^pool\./);
    }

    // the projections go on with what follows
    await appendAll(nats, [sample('w1', 12_000, 400), task('w1', 2)]);
    await catchUpProjections(nats, pg.db);
    const counted = await pg.db.selectFrom('counted_tasks').select('request_id').execute();
    assert.is(counted.length, 2);

    // a rebuild from the first event (and the other projections rerunning) letters nothing new
    for (const p of projections) await resetProjection(pg.db, p);
    await catchUpProjections(nats, pg.db);
    assert.is((await deadLetters(nats.jsm)).length, bad.length);
    assert.is(unhandled.length, 0);
  } finally {
    await nats.stop();
    await pg.drop();
  }
});

const sagaSettings = { epochMs: 60_000, batchSize: 10, maxBatchesInFlight: 1, resubmitAfterMs: 3_600_000, maxRefusedAttempts: 3 };

test('epoch saga and audit: garbage on pool.epoch.1 (before and after it opened) and on pool.chain.* is quarantined once; the saga opens, closes, freezes, computes and commits over it; a restart and the audit add no letter', async () => {
  const nats = await startTestNats();
  const pg = await createMigratedDatabase();
  const auditDb = await createMigratedDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'pool-badinput-'));
  let clock = 1_000_000;
  const actions = recordingActions();
  const artifacts = await openArtifactStore(nats.nc);
  const startSaga = () => {
    const ctl = new AbortController();
    const done = runEpochSaga({
      store: nats.store, deadLetter: deadLetterTo(nats.js), db: pg.db, artifacts, actions, settings: sagaSettings,
      rewardParams: DEFAULT_REWARD_PARAMS, logger, tickMs: 20, now: () => clock, signal: ctl.signal,
    });
    return { ctl, done };
  };
  const epoch1 = () => nats.store.readSubject('pool.epoch.1', { onInvalid: async () => undefined });
  const hasType = (type: string) => async () => (await epoch1()).some((e) => e.type === type);
  let saga: ReturnType<typeof startSaga> | undefined;
  try {
    await appendAll(nats, [bound('w1', 1), bound('w2', 2)]);
    const bad = [await publishGarbage(nats, 'pool.epoch.1', GARBAGE.notJson)];
    saga = startSaga();
    await until('EpochOpened over the garbage', hasType('EpochOpened'));

    await appendAll(nats, [sample('w1', clock + 1_000, 100), sample('w2', clock + 1_000, 100), sample('w1', clock + 3_000, 2_100), sample('w2', clock + 3_000, 600), task('w1', 7)]);
    bad.push(await publishGarbage(nats, 'pool.chain.distribution', GARBAGE.failsSchema));
    await appendAll(nats, [revenue(1, 7_000_000_000n)]);
    bad.push(await publishGarbage(nats, 'pool.epoch.1', GARBAGE.notEnvelope)); // now the subject's last message
    clock += sagaSettings.epochMs;
    await until('EpochClosing after the live garbage', hasType('EpochClosing'));

    await catchUpProjections(nats, pg.db);
    await until('OperatorMessageSigned', hasType('OperatorMessageSigned'));
    saga.ctl.abort();
    await saga.done;

    const decided = (await epoch1()).map((e) => e.type);
    assert.equal(decided, ['EpochOpened', 'EpochClosing', 'ContributionsFrozen', 'RewardsComputed', 'RootCommitRequested', 'OperatorMessageSigned']);
    assert.equal(actions.commits, [1]);
    assert.equal(await quarantined(nats), bad.map((s, i) => `${['pool.epoch.1', 'pool.chain.distribution', 'pool.epoch.1'][i]}#${s}`).sort());

    // a restart reads all three again: it letters nothing new and decides nothing twice
    saga = startSaga();
    await until('epoch 2 opened after the restart', async () => (await nats.store.readSubject('pool.epoch.2')).length === 1);
    saga.ctl.abort();
    await saga.done;
    assert.equal((await epoch1()).map((e) => e.type), decided);
    assert.is((await deadLetters(nats.jsm)).length, bad.length);

    // the audit replays everything past the same garbage, agrees, and letters nothing new
    const report = await auditEpoch({ ...DEFAULT_CONFIG, natsUrl: nats.server.url, dataDir }, dataDir, 1, logger, auditDb.url);
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    assert.equal(failed, ['Merkle root (chain event)'], 'only the chain event is missing (no chain in this test)');
    assert.is((await deadLetters(nats.jsm)).length, bad.length);
    assert.is(unhandled.length, 0);
  } finally {
    saga?.ctl.abort();
    await saga?.done.catch(() => undefined);
    await nats.stop();
    await pg.drop();
    await auditDb.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('epoch saga: when its live subscription fails (the dead-letter stream refuses) the saga rejects loudly instead of dying silently or taking the process down', async () => {
  const nats = await startTestNats();
  const pg = await createMigratedDatabase();
  const ctl = new AbortController();
  try {
    let refuse = false;
    const deadLetter: DeadLetterSink = async (letter) => {
      if (refuse) throw new Error('POOL_DLQ unavailable');
      await deadLetterTo(nats.js)(letter);
    };
    const done = runEpochSaga({
      store: nats.store, deadLetter, db: pg.db, artifacts: await openArtifactStore(nats.nc), actions: recordingActions(), settings: sagaSettings,
      rewardParams: DEFAULT_REWARD_PARAMS, logger, tickMs: 20, now: () => 1_000_000, signal: ctl.signal,
    });
    const outcome = done.then(() => 'resolved', (err: Error) => err.message);
    await until('EpochOpened', async () => (await nats.store.readSubject('pool.epoch.1')).length === 1);
    refuse = true;
    await publishGarbage(nats, 'pool.epoch.1', GARBAGE.notJson);
    const timeout = new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000).unref());
    assert.is(await Promise.race([outcome, timeout]), 'POOL_DLQ unavailable');
    assert.is(unhandled.length, 0);
  } finally {
    ctl.abort();
    await nats.stop();
    await pg.drop();
  }
});

test('heartbeat saga: garbage anywhere under pool.> is quarantined once and the alerts go on; a restart from its cursor letters nothing new', async () => {
  const nats = await startTestNats();
  let saga: { ctl: AbortController; done: Promise<void> } | undefined;
  try {
    const cursors = await openCursorStore(nats.nc);
    const run = () => {
      const ctl = new AbortController();
      const done = runHeartbeatSaga({ store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), settings: { offlineAfterMisses: 3 }, logger, signal: ctl.signal });
      return { ctl, done };
    };
    const alerts = async () => (await nats.store.readSubject('pool.alerts.w2')).map((a) => a.id);
    await appendAll(nats, [sample('w2', 1_000, 1), pollFailed('w2', 2_000)]);
    const bad = [await publishGarbage(nats, 'pool.work.w9', GARBAGE.notJson), await publishGarbage(nats, 'pool.telemetry.w2', GARBAGE.notEnvelope)];
    await appendAll(nats, [pollFailed('w2', 3_000), pollFailed('w2', 4_000)]);
    saga = run();
    await until('WorkerWentOffline', async () => (await alerts()).length === 1);
    saga.ctl.abort();
    await saga.done;

    saga = run();
    await nats.store.append('pool.telemetry.w2', sample('w2', 9_000, 5));
    await until('WorkerRecovered', async () => (await alerts()).length === 2);
    saga.ctl.abort();
    await saga.done;
    assert.equal(await alerts(), ['offline:w2:4000', 'recovered:w2:9000']);
    assert.equal(await quarantined(nats), [`pool.telemetry.w2#${bad[1]}`, `pool.work.w9#${bad[0]}`]);
    assert.is(unhandled.length, 0);
  } finally {
    saga?.ctl.abort();
    await saga?.done.catch(() => undefined);
    await nats.stop();
  }
});

test('start-up (bindWorkers): an invalid last message on pool.membership.<worker> binds nothing, is quarantined once, and every start succeeds', async () => {
  const nats = await startTestNats();
  try {
    const deadLetter = deadLetterTo(nats.js);
    const endpoint = (w: string) => `http://127.0.0.1/${w}`;
    await appendAll(nats, [bound('w1', 1), bound('w2', 1)]);
    const bad = [
      await publishGarbage(nats, 'pool.membership.w1', GARBAGE.notJson), // after a valid binding that still matches
      await publishGarbage(nats, 'pool.membership.w2', GARBAGE.failsSchema), // after a binding the config changes
      await publishGarbage(nats, 'pool.membership.w3', GARBAGE.notEnvelope), // the only message
    ];
    const workers = [
      { id: 'w1', url: endpoint('w1'), participant: participant(1) },
      { id: 'w2', url: endpoint('w2'), participant: participant(2) },
      { id: 'w3', url: endpoint('w3'), participant: participant(3) },
    ];
    const bindings = async (w: string): Promise<RecordedEvent[]> => nats.store.readSubject(`pool.membership.${w}`, { onInvalid: async () => undefined });
    for (let start = 0; start < 2; start++) await bindWorkers(nats.store, deadLetter, logger, workers);

    assert.equal((await bindings('w1')).map((e) => e.id), ['bound:w1:1'], 'the last valid binding stands');
    const w2 = await bindings('w2');
    assert.is(w2.length, 2);
    assert.ok(w2[1]!.sequence > bad[1]!, 'the new binding comes after the garbage');
    assert.equal(w2[1]!.type === 'WorkerBound' && w2[1]!.data.participant, participant(2));
    const w3 = await bindings('w3');
    assert.equal(w3.map((e) => e.type === 'WorkerBound' && e.data.participant), [participant(3)]);
    assert.equal(await quarantined(nats), bad.map((s, i) => `pool.membership.w${i + 1}#${s}`));
    // lastOnSubject skips back to the last valid event
    assert.is((await nats.store.lastOnSubject('pool.membership.w1', { onInvalid: async () => undefined }))?.id, 'bound:w1:1');
    assert.is(unhandled.length, 0);
  } finally {
    await nats.stop();
  }
});

test.run();
