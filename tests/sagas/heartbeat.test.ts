import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heartbeatStep, type HeartbeatState } from '../../sagas/heartbeat/decide.ts';
import { runHeartbeatSaga } from '../../sagas/heartbeat/processManager.ts';
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
    const cursors: CursorStore = { ...real, put: (key, value) => (puts++, real.put(key, value)) };
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
    const saved = await real.get<{ sequence: number; workers: Record<string, unknown> }>('saga.heartbeat');
    assert.ok(saved!.sequence >= last, `checkpoint at ${saved!.sequence}, last event ${last}`); // the alert it appended comes after
    assert.ok(saved!.workers.w3, 'the state of the worker is in the checkpoint');
  } finally {
    await nats.stop();
  }
});

test.run();
