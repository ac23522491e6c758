/**
 * The users and permissions of the embedded nats-server (infra/nats/roles.ts), against a real
 * server started by the broker code: for each role, its own subjects succeed and the others are
 * refused by the server (permission violation), through the same client code the pool runs
 * (NatsEventStore, the cursor KV, the artifact object store, dead letters) and raw JetStream API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBroker, type Broker } from '../../cli/broker.ts';
import { loadOrCreateCredentials } from '../../infra/nats/auth.ts';
import { ROLES, roles, type Role } from '../../infra/nats/roles.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { contexts, type Context } from '../../schemas/define.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import type { JetStreamConnection } from '../../streams/connect.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { DLQ_STREAM, EVENT_STREAM } from '../../streams/topology.ts';
import { bound, closing, revenue, sample, task } from '../support/events.ts';
import { outcome } from '../support/nats.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-roles-'));
let broker: Broker;
const conns = new Map<Role, JetStreamConnection>();
const as = (role: Role) => conns.get(role)!;
const storeOf = (role: Role) => new NatsEventStore(as(role).js, as(role).jsm);

test.before(async () => {
  broker = await openBroker({ natsUrl: null, natsUser: null, natsPassword: null }, dataDir, { onFatal: (err) => assert.unreachable(err.message) });
  for (const role of roles) conns.set(role, await broker.connect(role));
});
test.after(async () => {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
});


/** A valid event of each context, on its own subject; `tag` keeps ids and aggregates apart. */
function eventOf(context: Context, tag: string): { subject: string; event: PoolEvent } {
  const w = `w-${tag}`;
  switch (context) {
    case 'telemetry': return { subject: `pool.telemetry.${w}`, event: sample(w, 1, 100) };
    case 'work': return { subject: `pool.work.${w}`, event: task(w, tag.length) };
    case 'membership': return { subject: `pool.membership.${w}`, event: bound(w, 1) };
    case 'chain': return { subject: 'pool.chain.distribution', event: { ...revenue(1, 10n), id: `rev-${tag}` } };
    case 'observer': return { subject: 'pool.observer.poller', event: { type: 'PoolObserving', version: 1, id: `observing-${tag}`, data: { atMs: tag.length, validForMs: 6000, phase: 'running' } } };
    case 'epoch': return { subject: 'pool.epoch.7', event: { ...closing(7), id: `7:closing:${tag}` } };
    case 'alerts': return { subject: `pool.alerts.${w}`, event: { type: 'WorkerWentOffline', version: 1, id: `off:${tag}`, data: { workerId: w, lastSeenAtMs: null, missedPolls: 3, atMs: 1 } } };
  }
}

test('every context has exactly one writer and every projection may quarantine under its own name', async () => {
  for (const c of contexts) {
    const writers = roles.filter((r) => (ROLES[r].appends as readonly string[]).includes(c));
    assert.is(writers.length, 1, `context ${c}: writers ${writers.join(', ') || 'none'}`);
  }
  const { poolProjections } = await import('../../projectors/all.ts');
  for (const p of poolProjections({ pollIntervalMs: 1000, maxTaskSeconds: 60 })) {
    assert.ok((ROLES.projections.deadLetters as readonly string[]).includes(`projection-${p.name}`), `projection ${p.name} has no dead-letter source`);
  }
});

test('credentials: generated once with mode 0600, reused, never in the server log', async () => {
  const dir = join(dataDir, 'nats');
  const { statSync, readFileSync } = await import('node:fs');
  assert.is(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600);
  assert.is(statSync(join(dir, 'auth.conf')).mode & 0o777, 0o600);
  const a = loadOrCreateCredentials(dir);
  const b = loadOrCreateCredentials(dir);
  assert.equal(a, b);
  assert.is(new Set(roles.map((r) => a[r].pass)).size, roles.length, 'one password per role');
  const log = readFileSync(join(dir, 'nats-server.log'), 'utf8');
  for (const r of roles) assert.not.ok(log.includes(a[r].pass), `${r}'s password in the server log`);
});

test('a client without a user, or with a wrong password, cannot connect', async () => {
  for (const opts of [{}, { user: 'reader', pass: 'guess' }, { user: 'admin', pass: loadOrCreateCredentials(join(dataDir, 'nats')).reader.pass }]) {
    try {
      const nc: NatsConnection = await connect({ servers: broker.url, reconnect: false, ...opts });
      await nc.close();
      assert.unreachable(`connected with ${JSON.stringify(opts)}`);
    } catch (err) {
      assert.match(String(err), /authorization/i);
    }
  }
});

test('each role appends only to the contexts it owns', async () => {
  for (const role of roles) {
    const store = storeOf(role);
    for (const c of contexts) {
      const { subject, event } = eventOf(c, role);
      const got = await outcome(() => store.append(subject, event));
      const owns = (ROLES[role].appends as readonly string[]).includes(c);
      assert.is(got, owns ? 'ok' : 'refused', `${role} appending to ${subject}`);
    }
  }
});

test('reader, the attacker of the issue: no WorkerStatsSampled, WorkerBound or TaskCompleted', async () => {
  const store = storeOf('reader');
  const before = await storeOf('admin').lastSequence();
  assert.is(await outcome(() => store.append('pool.telemetry.w1', { ...sample('w1', 2, 5e12), id: 'forged-stats' })), 'refused');
  assert.is(await outcome(() => store.append('pool.membership.w1', { ...bound('w1', 666), id: 'forged-bound' })), 'refused');
  assert.is(await outcome(() => store.append('pool.work.w1', task('w1', 4242))), 'refused');
  assert.is(await storeOf('admin').lastSequence(), before, 'nothing stored');
});

test('stream management ($JS.API): only admin creates, updates, purges or deletes a stream', async () => {
  for (const role of roles) {
    const jsm = as(role).jsm;
    const name = `SCRATCH_${role.replace(/-/g, '_')}`;
    const create = await outcome(() => jsm.streams.add({ name, subjects: [`scratch.${role}.>`] }));
    const purgeDlq = await outcome(() => jsm.streams.purge(DLQ_STREAM));
    const purgePool = await outcome(() => jsm.streams.purge(EVENT_STREAM).catch((err: Error) => {
      if (/purge not permitted|deny/i.test(String(err))) return; // deny_purge answers for the server
      throw err;
    }));
    const updatePool = await outcome(() => jsm.streams.update(EVENT_STREAM, { description: `changed by ${role}` }));
    const deleteDlq = await outcome(() => jsm.streams.delete(name === 'SCRATCH_admin' ? name : DLQ_STREAM));
    const expected = role === 'admin' ? 'ok' : 'refused';
    assert.equal([create, purgeDlq, purgePool, updatePool, deleteDlq], [expected, expected, expected, expected, expected], role);
  }
  // what admin did must not have broken the pool's streams
  await broker.conn.jsm.streams.update(EVENT_STREAM, { description: 'Cocoon pool ledger: every fact and decision, in one order' });
  assert.ok(await broker.conn.jsm.streams.info(DLQ_STREAM));
});

test('reading the ledger: consumers on POOL and direct get, for every role', async () => {
  await storeOf('producers').append('pool.work.wr', task('wr', 77));
  for (const role of roles) {
    const store = storeOf(role);
    const read = await outcome(() => store.readSubject('pool.work.wr'));
    const last = await outcome(() => store.lastOnSubject('pool.work.wr'));
    const direct = await outcome(() => as(role).jsm.direct.getMessage(EVENT_STREAM, { last_by_subj: 'pool.work.wr' }));
    const position = await outcome(() => store.lastSequence());
    assert.equal([read, last, direct, position], ['ok', 'ok', 'ok', 'ok'], role);
    assert.is((await store.readSubject('pool.work.wr')).length, 1);
  }
});

test('the cursor KV ($KV.pool_cursors): producers write tailer.* and chain.*, the heartbeat saga saga.heartbeat and its state chunks, nobody else', async () => {
  const writes: Record<string, Role[]> = { 'tailer.w1': ['producers'], 'task.r1': ['producers'], 'chain.distribution': ['producers'], 'saga.heartbeat': ['heartbeat-saga'], 'saga.heartbeat.state.0.3': ['heartbeat-saga'] }; // the saga's state in chunks (sagas/heartbeat), over 1 MiB at 10k workers
  for (const role of roles) {
    const cursors = await openCursorStore(as(role).nc).catch(() => null);
    for (const [key, writers] of Object.entries(writes)) {
      const allowed = writers.includes(role) || role === 'admin';
      if (!cursors) {
        assert.not.ok(allowed, `${role} could not open the cursor bucket`);
        continue;
      }
      const got = await outcome(() => cursors.put(key, { by: role }));
      assert.is(got, writers.includes(role) ? 'ok' : 'refused', `${role} writing cursor ${key}`);
    }
  }
  const cursors = await openCursorStore(as('producers').nc);
  assert.equal(await cursors.get('tailer.w1'), { by: 'producers' });
});

test('the artifact object store ($O.pool_artifacts): the epoch saga writes, readers read, the reader cannot put', async () => {
  const saga = await openArtifactStore(as('epoch-saga').nc);
  const ref = await saga.putRows('epoch-9-rewards.json', [{ index: 0, amount: '5' }]);
  for (const role of roles) {
    const artifacts = await openArtifactStore(as(role).nc).catch(() => null);
    const canRead = (ROLES[role].can as readonly string[]).includes('readArtifacts');
    if (!artifacts) {
      assert.not.ok(canRead, `${role} could not open the artifact store`);
      continue;
    }
    assert.is(await outcome(() => artifacts.getRows(ref)), canRead ? 'ok' : 'refused', `${role} reading an artifact`);
    if (role !== 'epoch-saga') assert.is(await outcome(() => artifacts.putRows(`forged-by-${role}.json`, [])), 'refused', `${role} putting an artifact`);
  }
  // the reader of the issue stored two messages there; now the object store holds only the saga's
  const info = await broker.conn.jsm.streams.info('OBJ_pool_artifacts');
  assert.is(info.state.messages, 2, 'one chunk and one meta message');
  const raw = await outcome(() => as('reader').js.publish('$O.pool_artifacts.C.forged', new Uint8Array([1])));
  assert.is(raw, 'refused');
});

test('dead letters (dlq.pool.*): each role quarantines only under its own sources', async () => {
  const sources = ['poller', 'tailer', 'chain-indexer', 'projection-workers', 'epoch-saga', 'heartbeat-saga', 'startup'];
  for (const role of roles) {
    const sink = deadLetterTo(as(role).js);
    for (const source of sources) {
      const own = role === 'admin' || (ROLES[role].deadLetters as readonly string[]).includes(source);
      const got = await outcome(() => sink({ source, reason: `test by ${role}`, payload: 'x' }));
      assert.is(got, own ? 'ok' : 'refused', `${role} dead-lettering as ${source}`);
    }
  }
  // reading the DLQ: the reader may (alerting on quarantine), the read API too (GET /api/v1/dead-letters, operator token), a producer may not
  assert.ok((await as('reader').jsm.streams.info(DLQ_STREAM)).state.messages > 0);
  assert.ok((await as('read-api').jsm.streams.info(DLQ_STREAM)).state.messages > 0);
  assert.is(await outcome(() => as('producers').jsm.streams.info(DLQ_STREAM)), 'refused');
});

test('nobody forges replies or consumer deliveries (inboxes), watches another role\'s inbox, or subscribes to stream subjects', async () => {
  for (const role of roles) {
    const nc = as(role).nc;
    for (const inbox of ['_INBOX.forged.1', '_INBOX_projections.forged.1', '_INBOX_epoch-saga.forged.1']) {
      assert.is(await outcome(() => nc.request(inbox, 'x', { timeout: 2000 })), 'refused', `${role} publishing to ${inbox}`);
    }
    const foreign = [role === 'projections' ? '_INBOX_epoch-saga.>' : '_INBOX_projections.>'];
    if (role !== 'reader') foreign.push('_INBOX.>');
    for (const subject of ['pool.>', 'dlq.pool.>', '$KV.pool_cursors.>', '$O.pool_artifacts.>', ...foreign]) {
      const sub = nc.subscribe(subject);
      const closed = await sub.closed;
      assert.instance(closed, Error, `${role} subscribed to ${subject}`);
      assert.match(String(closed), /permissions violation/i);
    }
  }
});

test('a reader-made push consumer cannot route stored events into the DLQ (its deliver subject has no subscriber)', async () => {
  const jsm = await jetstreamManager(as('reader').nc);
  const before = (await broker.conn.jsm.streams.info(DLQ_STREAM)).state.messages;
  await jsm.consumers.add(EVENT_STREAM, { name: 'route', deliver_subject: 'dlq.pool.poller', ack_policy: 'none' as never });
  const info = await jsm.consumers.info(EVENT_STREAM, 'route');
  assert.not.ok(info.push_bound, 'nobody is subscribed to the deliver subject');
  assert.is(info.delivered.stream_seq, 0);
  assert.is((await broker.conn.jsm.streams.info(DLQ_STREAM)).state.messages, before);
  await jsm.consumers.delete(EVENT_STREAM, 'route');
});

test.run();
