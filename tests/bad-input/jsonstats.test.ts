/**
 * Bad-input suite, boundary `/jsonstats`: a real HTTP server serves hostile bodies to the real
 * poller (producers/cocoon/poller.ts), which appends to a real NATS; the contribution and workers
 * projections run on a real PostgreSQL and the heartbeat saga over the stream. Each case says what
 * it must produce:
 * - refused: a WorkerPollFailed `parse` with the reason, the body dead-lettered with it, read models
 *   unchanged (but the missed poll);
 * - anomaly: the sample is stored, credits nothing (tokens and last accepted totals unchanged), is
 *   counted with its reason in the workers read model, and the saga raises its alert;
 * - accepted: the controls (a continued sample, a real restart) are credited.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RATE_WINDOWS_SECONDS } from '../../domain/telemetry.ts';
import { runPoller } from '../../producers/cocoon/poller.ts';
import { STATS_KEYS } from '../../producers/cocoon/jsonstats.ts';
import { contributionsProjection } from '../../projectors/contributions.ts';
import { runProjection } from '../../projectors/runner.ts';
import { workersProjection } from '../../projectors/workers.ts';
import { runHeartbeatSaga } from '../../sagas/heartbeat/processManager.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { DLQ_STREAM } from '../../streams/topology.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, participant, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

const fixtures = join(import.meta.dirname, '../fixtures/cocoon');
const SAMPLE = readFileSync(join(fixtures, 'worker-jsonstats.synthetic.json'), 'utf8');
const FRESH = readFileSync(join(fixtures, 'worker-jsonstats.fresh.synthetic.json'), 'utf8');
const limits = { maxAdjustedTokensPerSecond: 1_000_000 };
const silent = pino({ level: 'silent' });
const HEX = '3e2a0778f3484afa398dfff1317ebf13365375369bf4eef52a54c79a4833194d';
const OWNER_LINE = '"owner_address": "UQA-Kgd480hK-jmN__Exfr8TNlN1Npv07vUqVMeaSDMZTbRE"';
const MODEL_START = '"model": "Qwen/Qwen3-8B@';

/** `body` with `stats.<wireKey>[0]` printed as `total`. */
function withTotal(body: string, wireKey: string, total: string): string {
  const re = new RegExp(`("${wireKey}": \\[\\n\\s+)[0-9.]+`);
  assert.ok(re.test(body), wireKey);
  return body.replace(re, `$1${total}`);
}
/** The sample after one more request of 1000 adjusted tokens, with the token total printed as `tokens`. */
const continued = (tokens: string) => withTotal(withTotal(withTotal(SAMPLE, 'queries', '5235.000000'), 'success', '5231.000000'), 'total_adjusted_tokens_used', tokens);
/** A worker restarted half a second before it answered, having done 5 requests of 100 tokens since: totals and decayed rates. */
function restarted(): string {
  const done: Record<string, number> = { queries: 5, success: 5, total_adjusted_tokens_used: 500, prompt_adjusted_tokens_used: 250, completion_adjusted_tokens_used: 250 };
  let body = FRESH;
  for (const wireKey of Object.keys(STATS_KEYS)) {
    const total = done[wireKey] ?? 0;
    const rates = RATE_WINDOWS_SECONDS.map((T) => (total * Math.exp(-0.5 / T)) / T);
    const re = new RegExp(`("${wireKey}": \\[)[^\\]]*\\]`);
    body = body.replace(re, `$1\n${[total, ...rates].map((v) => `      ${v.toFixed(6)}`).join(',\n')}\n    ]`);
  }
  return body;
}

let nats: TestNats;
let pg: TestDb;
let body = SAMPLE;
const server = http.createServer((_req, res) => res.end(body));
let url = '';
test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const b = bound('w1', 1);
  await nats.store.append(subjectOf(b), b);
});
test.after(async () => {
  server.close();
  await nats.stop();
  await pg.drop();
});

/** Serves `next` to one round of the real poller; returns the event it appended. */
async function poll(next: string): Promise<RecordedEvent> {
  body = next;
  const before = (await nats.store.lastOnSubject('pool.telemetry.w1'))?.sequence ?? 0;
  const ctl = new AbortController();
  const running = runPoller({ workers: [{ id: 'w1', url }], intervalMs: 60_000, store: nats.store, deadLetter: deadLetterTo(nats.js), logger: silent, signal: ctl.signal });
  let event: RecordedEvent | null = null;
  for (let i = 0; i < 300 && !event; i++) {
    const last = await nats.store.lastOnSubject('pool.telemetry.w1');
    if (last && last.sequence > before) event = last;
    else await new Promise((r) => setTimeout(r, 100));
  }
  ctl.abort();
  await running;
  assert.ok(event, 'the poller appended an event');
  return event!;
}

async function project(): Promise<void> {
  const artifacts = await openArtifactStore(nats.nc);
  for (const projection of [contributionsProjection({ maxCreditMs: 30_000, telemetry: limits }), workersProjection({ maxCreditMs: 30_000, telemetry: limits })]) {
    await runProjection(projection, { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: silent, follow: false });
  }
}
async function readModels() {
  const w = await pg.db.selectFrom('workers').selectAll().where('worker_id', '=', 'w1').executeTakeFirstOrThrow();
  const c = await pg.db.selectFrom('contributions').select(['adjusted_tokens', 'restarts']).where('participant', '=', participant(1)).execute();
  return { tokens: c.map((r) => r.adjusted_tokens).join(','), restarts: c.map((r) => r.restarts).join(','), workerTokens: w.adjusted_tokens, lastTotals: w.last_totals, anomalies: w.anomalies, lastAnomaly: w.last_anomaly?.reason ?? null, pollsFailed: w.polls_failed };
}

const outcomes = { refused: 0, anomaly: 0, accepted: 0 };

test('controls: a first sample, a continued one credited', async () => {
  assert.is((await poll(SAMPLE)).type, 'WorkerStatsSampled');
  await poll(continued('6701000.000000'));
  await project();
  const m = await readModels();
  assert.equal([m.tokens, m.workerTokens, m.anomalies], ['1000', '1000', 0]);
  outcomes.accepted += 2;
});

const ANOMALIES: [string, string, string][] = [
  ['T−1 after T', continued('6700999.000000'), 'counter-decreased'],
  ['git_commit changed, counters grew', continued('6702000.000000').replace('"git_commit": "b75d4447', '"git_commit": "0000000'), 'commit-changed'],
  ['2^70 tokens', continued('1180591620717411303424.000000'), 'implausible-value'],
  ['1e23 tokens', continued('100000000000000000000000.000000'), 'implausible-value'],
  ['2^70 bytes sent', withTotal(continued('6701000.000000'), 'bytes_sent', '1180591620717411303424.000000'), 'implausible-value'],
  ['10^15 tokens in one poll (over the ceiling)', continued('1000000006701000.000000'), 'over-ceiling'],
  ['partial reset: tokens to 0, queries go on', continued('0.000000'), 'counter-decreased'],
  ['every total reset, decayed rates of the old process kept', SAMPLE.replace(/(": \[\n\s+)[0-9.]+/g, (_m, head: string) => `${head}0.000000`), 'counter-decreased'],
];

for (const [name, hostile, reason] of ANOMALIES) {
  test(`anomaly: ${name} → ${reason}, nothing credited`, async () => {
    await project();
    const before = await readModels();
    const event = await poll(hostile);
    assert.is(event.type, 'WorkerStatsSampled');
    await project();
    const after = await readModels();
    assert.equal([after.tokens, after.workerTokens, after.lastTotals, after.restarts], [before.tokens, before.workerTokens, before.lastTotals, before.restarts]);
    assert.equal([after.anomalies, after.lastAnomaly], [before.anomalies + 1, reason]);
    outcomes.anomaly += 1;
  });
}

const REFUSED: [string, string, string][] = [
  ['NUL in the model', SAMPLE.replace(MODEL_START, '"model": "Qwen\u0000/Qwen3-8B@'), 'control-character'],
  ['ESC in git_commit', SAMPLE.replace('"git_commit": "b75d', '"git_commit": "\u001b[31mb75d'), 'control-character'],
  ['CR in a proxy address', SAMPLE.replace('"address_for_clients": "[203', '"address_for_clients": "\r[203'), 'control-character'],
  ['DEL in a key', SAMPLE.replace('"enabled": true', '"enabled\u007f": true'), 'control-character'],
  ['owner on workchain 99999999999999999999 (raw)', SAMPLE.replace(OWNER_LINE, `"owner_address": "99999999999999999999:${HEX}"`), 'bad-address'],
  ['owner on workchain 1 (raw)', SAMPLE.replace(OWNER_LINE, `"owner_address": "1:${HEX}"`), 'bad-address'],
  ['owner on workchain 5 (friendly, valid checksum)', SAMPLE.replace(OWNER_LINE, '"owner_address": "EQUBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAVcN"'), 'bad-address'],
  ['a non-integer seqno', SAMPLE.replace('"seqno": 17,', '"seqno": 17.500000,'), 'wrong-type'],
  ['a 2000-character model', SAMPLE.replace(MODEL_START, `"model": "${'x'.repeat(2000)}`), 'too-long'],
  ['nan in a rate', SAMPLE.replace('      0.412000,\n', '      -nan,\n'), 'non-finite'],
  ['a negative total', withTotal(SAMPLE, 'failed', '-8.000000'), 'negative'],
  ['a truncated body', SAMPLE.slice(0, SAMPLE.length / 2), 'syntax'],
  ['an HTML error page', '<html><body>502 Bad Gateway</body></html>', 'syntax'],
];

for (const [name, hostile, reason] of REFUSED) {
  test(`refused: ${name} → ${reason}`, async () => {
    await project();
    const before = await readModels();
    const dlqBefore = (await nats.jsm.streams.info(DLQ_STREAM)).state.messages;
    const event = await poll(hostile);
    assert.is(event.type, 'WorkerPollFailed');
    if (event.type === 'WorkerPollFailed') {
      assert.is(event.data.kind, 'parse');
      assert.match(event.data.reason, `jsonstats ${reason} at`);
    }
    assert.is((await nats.jsm.streams.info(DLQ_STREAM)).state.messages, dlqBefore + 1);
    const letter = await nats.jsm.streams.getMessage(DLQ_STREAM, { last_by_subj: 'dlq.pool.poller' });
    assert.match(letter!.header.get('Pool-DLQ-Reason'), `jsonstats ${reason} at`);
    assert.is(new TextDecoder().decode(letter!.data), hostile, 'the body is kept unchanged');
    await project();
    const after = await readModels();
    assert.equal({ ...after, pollsFailed: 0 }, { ...before, pollsFailed: 0 });
    assert.is(after.pollsFailed, before.pollsFailed + 1);
    outcomes.refused += 1;
  });
}

test('accepted: a real restart (every total and decayed rate reset together) is credited its new total', async () => {
  await project();
  const before = await readModels();
  await poll(restarted());
  await project();
  const after = await readModels();
  assert.is(Number(after.workerTokens), Number(before.workerTokens) + 500);
  assert.is(after.restarts, String(Number(before.restarts) + 1));
  outcomes.accepted += 1;
});

test('anomaly: another owner, then another worker answering; back to the expected ones is a new baseline', async () => {
  const otherOwner = '"owner_address": "UQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU-Ah"';
  await project();
  const before = await readModels();
  await poll(restarted().replace(OWNER_LINE, otherOwner));
  await poll(restarted().replace('"address": "UQDqp2MeZjt_Mocd8PI5ymoReTFf1svsYjWihQmmQoVoGVyg"', '"address": "UQDuAbkC2oruoMuVpdQpg93JgevXQICLWerltVtONMT8bV1r"'));
  await poll(restarted());
  await project();
  const after = await readModels();
  assert.equal([after.workerTokens, after.anomalies, after.lastAnomaly], [before.workerTokens, before.anomalies + 2, 'identity-changed']);
  const w = await pg.db.selectFrom('workers').select(['owner_address', 'anomalous']).where('worker_id', '=', 'w1').executeTakeFirstOrThrow();
  assert.equal(w, { owner_address: `0:${HEX}`, anomalous: false });
  outcomes.anomaly += 2;
});

test('the heartbeat saga records every anomaly episode as an alert with its reason', async () => {
  const ctl = new AbortController();
  const cursors = await openCursorStore(nats.nc);
  const saga = runHeartbeatSaga({ store: nats.store, cursors, deadLetter: deadLetterTo(nats.js), settings: { offlineAfterMisses: 1000, telemetry: limits }, logger: silent, signal: ctl.signal });
  // consecutive samples with the same reason are one episode; a refused poll between them does not end it
  const expected = ['counter-decreased', 'commit-changed', 'implausible-value', 'over-ceiling', 'counter-decreased', 'WorkerOwnerChanged', 'WorkerIdentityChanged'];
  let alerts: string[] = [];
  for (let i = 0; i < 300 && alerts.length < expected.length; i++) {
    alerts = (await nats.store.readSubject('pool.alerts.w1'))
      .filter((a) => a.type !== 'WorkerUnhealthy') // the fixture's TON sync time is old
      .map((a) => (a.type === 'WorkerTelemetryAnomaly' ? a.data.reason : a.type));
    if (alerts.length < expected.length) await new Promise((r) => setTimeout(r, 100));
  }
  ctl.abort();
  await saga;
  assert.equal(alerts, expected);
  assert.equal(outcomes, { refused: REFUSED.length, anomaly: ANOMALIES.length + 2, accepted: 3 });
  console.log(`jsonstats bad-input cases: ${outcomes.refused} refused, ${outcomes.anomaly} anomalies, ${outcomes.accepted} accepted controls`);
});

test.run();
