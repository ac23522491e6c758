/**
 * Bad input at the NATS boundary, against the pool's own server (users per role, cli/broker.ts)
 * and a real read model. Each case says what it must produce:
 * - refused: the server refuses the client (no connection) or the publish (permission violation),
 *   and the stream is unchanged;
 * - quarantined: a message that is in the stream but is not what it claims (another aggregate's
 *   subject, headers that disagree) is dead-lettered by the projection with its reason, and the
 *   read model is unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers } from '@nats-io/transport-node';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBroker, type Broker } from '../../cli/broker.ts';
import { contributionsProjection, epochContributions } from '../../projectors/contributions.ts';
import { runProjection } from '../../projectors/runner.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { DLQ_STREAM, EVENT_STREAM } from '../../streams/topology.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, participant, sample, task } from '../support/events.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-bad-nats-'));
let broker: Broker;
let pg: TestDb;
test.before(async () => {
  [broker, pg] = await Promise.all([
    openBroker({ natsUrl: null, natsUser: null, natsPassword: null }, dataDir, { onFatal: (err) => assert.unreachable(err.message) }),
    createMigratedDatabase(),
  ]);
  const admin = new NatsEventStore(broker.conn.js, broker.conn.jsm);
  await admin.append('pool.membership.w1', bound('w1', 1));
  await admin.append('pool.membership.w2', bound('w2', 2));
});
test.after(async () => {
  await broker.close();
  await pg.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function refused(op: () => Promise<unknown>): Promise<string> {
  try {
    await op();
  } catch (err) {
    if (/permissions violation/i.test(String(err))) return String(err);
    throw err;
  }
  throw new Error('the server accepted it');
}

test('refused: a client without credentials cannot connect', async () => {
  try {
    await (await connect({ servers: broker.url, reconnect: false })).close();
    assert.unreachable('connected without a user');
  } catch (err) {
    assert.match(String(err), /authorization violation/i);
  }
});

test('refused: the reader credits tokens, re-binds a worker, pre-claims a request id, purges POOL_DLQ, forges a dead letter, stores an artifact', async () => {
  const reader = await broker.connect('reader');
  const store = new NatsEventStore(reader.js, reader.jsm);
  const before = { pool: (await reader.jsm.streams.info(EVENT_STREAM)).state.last_seq, dlq: (await reader.jsm.streams.info(DLQ_STREAM)).state.messages };
  assert.match(await refused(() => store.append('pool.telemetry.w1', { ...sample('w1', 5, 5e12), id: 'credit-5e12' })), /pool\.telemetry\.w1/);
  assert.match(await refused(() => store.append('pool.membership.w1', { ...bound('w1', 666), id: 'rebind' })), /pool\.membership\.w1/);
  assert.match(await refused(() => store.append('pool.work.w1', task('w1', 31337))), /pool\.work\.w1/);
  assert.match(await refused(() => reader.jsm.streams.purge(DLQ_STREAM)), /STREAM\.PURGE\.POOL_DLQ/);
  assert.match(await refused(() => deadLetterTo(reader.js)({ source: 'poller', reason: 'forged', payload: '{}' })), /dlq\.pool\.poller/);
  assert.match(await refused(async () => (await openArtifactStore(reader.nc)).putRows('epoch-1-rewards.json', [{ address: participant(666) }])), /pool_artifacts/);
  assert.equal({ pool: (await reader.jsm.streams.info(EVENT_STREAM)).state.last_seq, dlq: (await reader.jsm.streams.info(DLQ_STREAM)).state.messages }, before);
});

test('refused: a producer cannot forge a projection\'s dead letter or decide an epoch', async () => {
  const producers = await broker.connect('producers');
  await refused(() => deadLetterTo(producers.js)({ source: 'projection-contributions', reason: 'forged', payload: '{}' }));
  await refused(() => new NatsEventStore(producers.js, producers.jsm).append('pool.epoch.1', { type: 'EpochClosing', version: 1, id: '1:closing', data: { epochId: 1, closedAtMs: 1 } }));
});

test('quarantined: a TaskCompleted of w1 on w2\'s subject and a body whose headers disagree never reach the read model', async () => {
  // published with the producers' own rights (they may write pool.work.>), around the store's checks
  const producers = await broker.connect('producers');
  const raw = async (subject: string, event: PoolEvent, type: string) => {
    const h = headers();
    h.set('Pool-Event-Type', type);
    h.set('Pool-Event-Version', '1');
    return (await producers.js.publish(subject, new TextEncoder().encode(JSON.stringify(event)), { headers: h })).seq;
  };
  const onOtherSubject = await raw('pool.work.w2', task('w1', 1), 'TaskCompleted');
  const wrongHeader = await raw('pool.work.w1', task('w1', 2), 'WorkerStatsSampled');
  const projections = await broker.connect('projections');
  await runProjection(contributionsProjection({ maxCreditMs: 30_000 }), {
    store: new NatsEventStore(projections.js, projections.jsm),
    db: pg.db,
    artifacts: await openArtifactStore(projections.nc),
    deadLetter: deadLetterTo(projections.js),
    logger: pino({ level: 'silent' }),
    follow: false,
  });
  const rows = await epochContributions(pg.db, 1, 60_000);
  assert.ok(rows.every((r) => r.tasks === 0), `a forged task counted: ${JSON.stringify(rows)}`);

  const dlq = await broker.conn.jsm.streams.info(DLQ_STREAM, { subjects_filter: 'dlq.pool.projection-contributions' });
  assert.is(dlq.state.subjects?.['dlq.pool.projection-contributions'], 2);
  const reasons: string[] = [];
  const origins: number[] = [];
  for (let seq = dlq.state.first_seq; seq <= dlq.state.last_seq; seq++) {
    const m = await broker.conn.jsm.streams.getMessage(DLQ_STREAM, { seq }).catch(() => null);
    if (m?.subject !== 'dlq.pool.projection-contributions') continue;
    reasons.push(m.header.get('Pool-DLQ-Reason'));
    origins.push(Number(m.header.get('Pool-DLQ-Origin-Sequence')));
  }
  assert.equal(origins, [onOtherSubject, wrongHeader]);
  assert.match(reasons[0]!, /belongs on pool\.work\.w1/);
  assert.match(reasons[1]!, /Pool-Event-Type "WorkerStatsSampled"/);
});

test.run();
