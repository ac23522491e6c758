import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heartbeatStep, type HeartbeatState } from '../../sagas/heartbeat/decide.ts';
import { CHUNK_CHARS, runHeartbeatSaga } from '../../sagas/heartbeat/processManager.ts';
import type { PoolEvent, RecordedEvent } from '../../schemas/catalog.ts';
import { openCursorStore, type CursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { pollFailed, sample, subjectOf } from '../support/events.ts';
import { startTestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

let seq = 0;
const rec = (e: PoolEvent) => ({ ...e, subject: subjectOf(e), sequence: ++seq, storedAtMs: 0 }) as RecordedEvent;
const unhealthy = (w: string, at: number): PoolEvent => {
  const e = sample(w, at, 10);
  if (e.type === 'WorkerStatsSampled') e.data.health = { healthy: false, reasons: ['wallet-balance-low'], walletBalanceNanoton: '1', tonLastSyncedAt: 1 };
  return e;
};

test('offline after 3 consecutive misses, once; recovered with the downtime; unhealthy on the transition only', () => {
  const s: HeartbeatState = {};
  const run = (e: PoolEvent) => heartbeatStep(s, rec(e), { offlineAfterMisses: 3 }).map((a) => a.type);
  assert.equal(run(sample('w1', 1_000, 1)), []);
  assert.equal(run(pollFailed('w1', 3_000)), []);
  assert.equal(run(pollFailed('w1', 5_000)), []);
  assert.equal(run(pollFailed('w1', 7_000)), ['WorkerWentOffline']);
  assert.equal(run(pollFailed('w1', 9_000)), []);
  const back = heartbeatStep(s, rec(sample('w1', 11_000, 2)), { offlineAfterMisses: 3 });
  assert.equal(back.map((a) => [a.type, a.type === 'WorkerRecovered' ? a.data.downSeconds : 0]), [['WorkerRecovered', 10]]);
  assert.equal(run(pollFailed('w1', 13_000)), []); // one miss is not offline
  assert.equal(run(sample('w1', 15_000, 3)), []);
  assert.equal(run(unhealthy('w1', 17_000)), ['WorkerUnhealthy']);
  assert.equal(run(unhealthy('w1', 19_000)), []);
  assert.equal(run(sample('w1', 21_000, 4)), []);
  assert.equal(run(unhealthy('w1', 23_000)), ['WorkerUnhealthy']);
});

test('the saga appends alerts on pool.alerts.<worker> and resumes from its cursor without repeating them', async () => {
  const nats = await startTestNats();
  try {
    const cursors = await openCursorStore(nats.nc);
    const events = [sample('w2', 1_000, 1), pollFailed('w2', 2_000), pollFailed('w2', 3_000), pollFailed('w2', 4_000)];
    await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
    const runOnce = async () => {
      const ctl = new AbortController();
      const done = runHeartbeatSaga({ store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), settings: { offlineAfterMisses: 3 }, logger: pino({ level: 'silent' }), signal: ctl.signal });
      await new Promise((r) => setTimeout(r, 300));
      ctl.abort();
      await done;
    };
    await runOnce();
    await nats.store.append('pool.telemetry.w2', sample('w2', 9_000, 5));
    await runOnce();
    const alerts = await nats.store.readSubject('pool.alerts.w2');
    assert.equal(alerts.map((a) => a.id), ['offline:w2:4000', 'recovered:w2:9000']);
  } finally {
    await nats.stop();
  }
});

test('following the stream event by event, the saga checkpoints at most once a second, and its last position when it stops', async () => {
  const nats = await startTestNats();
  try {
    const real = await openCursorStore(nats.nc);
    let puts = 0;
    const cursors: CursorStore = { ...real, put: (key, value) => (key === 'saga.heartbeat' && puts++, real.put(key, value)) };
    const ctl = new AbortController();
    const startedAtMs = Date.now();
    const done = runHeartbeatSaga({ store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), settings: { offlineAfterMisses: 3 }, logger: pino({ level: 'silent' }), signal: ctl.signal });
    // 297 samples, then 3 failed polls: the last event makes the offline alert, so its alert says the saga decided it
    const n = 300;
    let last = 0;
    for (let i = 0; i < n; i++) {
      const event = i < n - 3 ? sample('w3', 1_000 * (i + 1), i + 1) : pollFailed('w3', 1_000 * (i + 1));
      last = (await nats.store.append(subjectOf(event), event)).sequence;
    }
    await until('the offline alert of the last event', async () => (await nats.store.readSubject('pool.alerts.w3')).length === 1, 20_000, 250);
    ctl.abort();
    await done;
    const elapsedS = (Date.now() - startedAtMs) / 1000;
    // one checkpoint a second at most, plus the one at the stop (each event alone would be 300)
    assert.ok(puts <= Math.ceil(elapsedS) + 1, `${puts} checkpoints in ${elapsedS.toFixed(1)} s for ${n} events`);
    assert.ok(puts < n / 3, `${puts} checkpoints for ${n} events`);
    const saved = await real.get<{ sequence: number; slot: number; chunks: number }>('saga.heartbeat');
    assert.ok(saved!.sequence >= last, `checkpoint at ${saved!.sequence}, last event ${last}`); // the alert it appended comes after
    assert.is(saved!.chunks, 1);
    const state = JSON.parse((await real.get<string>(`saga.heartbeat.state.${saved!.slot}.0`))!) as Record<string, unknown>;
    assert.ok(state.w3, 'the state of the worker is in the checkpoint');
  } finally {
    await nats.stop();
  }
});

test('a state of thousands of workers (over NATS\'s 1 MiB payload) is checkpointed in chunks; a restart resumes from it; a head of the first format is read', async () => {
  const nats = await startTestNats();
  let saga: { stop(): Promise<void> } | null = null;
  try {
    const cursors = await openCursorStore(nats.nc);
    const settings = { offlineAfterMisses: 3 };
    const workers = 6000;
    for (let i = 0; i < workers; i += 500) {
      await nats.store.appendMany(Array.from({ length: Math.min(500, workers - i) }, (_, k) => {
        const event = sample(`w${i + k}`, 1_000, 1);
        return { subject: subjectOf(event), event };
      }));
    }
    const run = async () => {
      const ctl = new AbortController();
      const done = runHeartbeatSaga({ store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), settings, logger: pino({ level: 'silent' }), signal: ctl.signal });
      let stopped = false;
      return { stop: async () => { if (!stopped) (stopped = true, ctl.abort(), await done); } };
    };
    /** Three missed polls of `worker` from `fromMs`, a second apart; resolves with the offline alert the saga appends. */
    const missThreePolls = async (worker: string, fromMs: number) => {
      for (const at of [fromMs, fromMs + 1_000, fromMs + 2_000]) {
        const event = pollFailed(worker, at);
        await nats.store.append(subjectOf(event), event);
      }
      return until(`${worker} offline`, async () => (await nats.store.readSubject(`pool.alerts.${worker}`))[0], 30_000, 250);
    };
    saga = await run();
    for (const at of [2_000, 3_000, 4_000]) {
      const event = pollFailed(`w${workers - 1}`, at);
      await nats.store.append(subjectOf(event), event);
    }
    await until('the last worker offline: every event decided', async () => (await nats.store.readSubject(`pool.alerts.w${workers - 1}`)).length === 1, 60_000, 250);
    await saga.stop();
    const final = (await cursors.get<{ sequence: number; slot: number; chunks: number }>('saga.heartbeat'))!;
    assert.ok(final.chunks > 1, `${final.chunks} chunks`);
    const json = (await Promise.all(Array.from({ length: final.chunks }, (_, i) => cursors.get<string>(`saga.heartbeat.state.${final.slot}.${i}`)))).join('');
    assert.ok(json.length > 1024 * 1024 && json.length <= final.chunks * CHUNK_CHARS, `${json.length} characters`);
    assert.is(Object.keys(JSON.parse(json) as object).length, workers);
    assert.ok(final.sequence >= workers + 3);

    // three missed polls of w7 after the restart: offline, decided on the restored state (its last sample)
    saga = await run();
    const w7Alert = await missThreePolls('w7', 5_000);
    assert.is((w7Alert.data as { lastSeenAtMs: number | null }).lastSeenAtMs, 1_000, 'its last sample is known from the checkpoint');
    await saga.stop();

    // a head in the first format ({ sequence, workers }) is still read: w9's last sample comes from it
    const lastSequence = await nats.store.lastSequence();
    await cursors.put('saga.heartbeat', { sequence: lastSequence, workers: { w9: (JSON.parse(json) as Record<string, unknown>).w9 } });
    saga = await run();
    const w9Alert = await missThreePolls('w9', 9_000);
    assert.is((w9Alert.data as { lastSeenAtMs: number | null }).lastSeenAtMs, 1_000, 'its last sample is known from the checkpoint');
    await saga.stop();
    const migrated = (await cursors.get<{ sequence: number; chunks?: number }>('saga.heartbeat'))!;
    assert.ok(migrated.sequence > lastSequence);
    assert.is(migrated.chunks, 1, 'one worker: one chunk');
  } finally {
    await saga?.stop();
    await nats.stop();
  }
});

test.run();
