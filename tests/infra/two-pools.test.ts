/**
 * Two pools on one real nats-server (streams/names.ts): each pool's users, streams, buckets and
 * subjects derive from its pool id, so pool `acme` and the default pool `pool` share a server
 * without touching each other's data. Every cross-pool operation is refused by the server itself
 * (permission violation), through the same client code the pool runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inboxPrefixOf, permissionsOf, ROLES, roles, userOf, usersConf, type Role } from '../../infra/nats/roles.ts';
import { startNatsServer, type NatsServerHandle } from '../../infra/nats/server.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { connectJetStream, type JetStreamConnection } from '../../streams/connect.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { DEFAULT_POOL_NAMES, poolNames, type PoolNames } from '../../streams/names.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { ensureTopology } from '../../streams/topology.ts';
import { sample, task } from '../support/events.ts';
import { outcome } from '../support/nats.ts';

const dir = mkdtempSync(join(tmpdir(), 'pool-two-pools-'));
const acme = poolNames('acme');
const pools = { pool: DEFAULT_POOL_NAMES, acme } as const;
type PoolKey = keyof typeof pools;
let server: NatsServerHandle;
const conns = new Map<string, JetStreamConnection>();
const password = (user: string) => `pw-${user}`;
const as = (pool: PoolKey, role: Role) => conns.get(`${pool}/${role}`)!;
const storeOf = (pool: PoolKey, role: Role, names: PoolNames = pools[pool]) => new NatsEventStore(as(pool, role).js, as(pool, role).jsm, names);

test.before(async () => {
  // both pools' users in one server's config: the default pool's under their role names, acme's as `acme-<role>`
  const extra = roles.map((r) => ({ user: userOf(r, acme), permissions: permissionsOf(r, acme), comment: ROLES[r].description }));
  const conf = join(dir, 'auth.conf');
  writeFileSync(conf, `authorization {\n${usersConf((u) => JSON.stringify(password(u)), extra)}\n}\n`);
  server = await startNatsServer({ storeDir: join(dir, 'store'), configFile: conf });
  for (const [key, names] of Object.entries(pools)) {
    for (const role of roles) {
      const user = userOf(role, names);
      conns.set(`${key}/${role}`, await connectJetStream({ url: server.url, name: user, user, pass: password(user === role ? role : user), inboxPrefix: inboxPrefixOf(role, names) }));
    }
    await ensureTopology(as(key as PoolKey, 'admin').nc, as(key as PoolKey, 'admin').jsm, { names });
  }
});
test.after(async () => {
  for (const c of conns.values()) await c.nc.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});


test('each pool has its own streams and buckets on the one server', async () => {
  const jsm = as('acme', 'admin').jsm;
  const names: string[] = [];
  for await (const s of jsm.streams.list()) names.push(s.config.name);
  for (const n of ['POOL', 'POOL_DLQ', 'ACME', 'ACME_DLQ', 'OBJ_pool_artifacts', 'OBJ_acme_artifacts', 'KV_pool_cursors', 'KV_acme_cursors']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
});

test('events appended by each pool stay in its own stream; subjects read back logical', async () => {
  await storeOf('pool', 'producers').append('pool.telemetry.w1', sample('w1', 1000, 100));
  await storeOf('acme', 'producers').appendMany([
    { subject: 'pool.telemetry.w1', event: sample('w1', 2000, 200) },
    { subject: 'pool.work.w1', event: task('w1', 1) },
  ]);
  const read = async (pool: PoolKey) => {
    const out = [];
    for await (const b of storeOf(pool, 'projections').read()) out.push(...b.events);
    return out;
  };
  const mine = await read('pool');
  const theirs = await read('acme');
  assert.equal(mine.map((e) => [e.subject, e.id]), [['pool.telemetry.w1', sample('w1', 1000, 100).id]]);
  assert.equal(theirs.map((e) => e.subject), ['pool.telemetry.w1', 'pool.work.w1']);
  // on the wire acme's events are under acme.>
  const info = await as('acme', 'admin').jsm.streams.info('ACME', { subjects_filter: '>' });
  assert.equal(Object.keys(info.state.subjects ?? {}).sort(), ['acme.telemetry.w1', 'acme.work.w1']);
  assert.is((await storeOf('acme', 'read-api').lastOnSubject('pool.telemetry.w1'))?.id, sample('w1', 2000, 200).id);
});

test("a pool's roles cannot append to, read or manage the other pool's stream", async () => {
  // acme's producers writing the default pool's subjects (its store mapping turned off: names of `pool`)
  assert.is(await outcome(() => storeOf('acme', 'producers', DEFAULT_POOL_NAMES).append('pool.telemetry.w9', sample('w9', 1, 1))), 'refused');
  assert.is(await outcome(() => as('pool', 'producers').js.publish('acme.telemetry.w9', 'x')), 'refused');
  for (const role of ['reader', 'read-api', 'projections'] as const) {
    assert.is(await outcome(() => as('acme', role).jsm.streams.info('POOL')), 'refused', `acme ${role} reads POOL`);
    assert.is(await outcome(() => as('pool', role).jsm.streams.info('ACME')), 'refused', `pool ${role} reads ACME`);
  }
  assert.is(await outcome(() => as('acme', 'read-api').jsm.streams.info('ACME')), 'ok');
});

test('dead letters, cursors and artifacts are per pool', async () => {
  await deadLetterTo(as('acme', 'producers').js, acme)({ source: 'poller', reason: 'test', payload: 'x' });
  assert.is((await as('acme', 'read-api').jsm.streams.info('ACME_DLQ')).state.messages, 1);
  assert.is((await as('pool', 'read-api').jsm.streams.info('POOL_DLQ')).state.messages, 0);
  assert.is(await outcome(() => deadLetterTo(as('acme', 'producers').js)({ source: 'poller', reason: 'test', payload: 'x' })), 'refused');

  const acmeCursors = await openCursorStore(as('acme', 'producers').nc, acme);
  await acmeCursors.put('tailer.w1', { offset: 7 });
  assert.equal(await acmeCursors.get('tailer.w1'), { offset: 7 });
  assert.is(await (await openCursorStore(as('pool', 'producers').nc)).get('tailer.w1'), null);
  assert.is(await outcome(async () => (await openCursorStore(as('acme', 'producers').nc)).put('tailer.w1', { offset: 1 })), 'refused');

  const ref = await (await openArtifactStore(as('acme', 'epoch-saga').nc, acme)).putRows('epoch-1-rewards', [{ a: 1 }]);
  assert.is(ref.bucket, 'acme_artifacts');
  assert.equal(await (await openArtifactStore(as('acme', 'read-api').nc, acme)).getRows(ref), [{ a: 1 }]);
  const fromPool = await (await openArtifactStore(as('pool', 'read-api').nc)).getRows(ref).catch((err: Error) => err);
  assert.match(String(fromPool), /acme_artifacts\/epoch-1-rewards is not in this pool's bucket pool_artifacts/);
  assert.is(await outcome(async () => (await openArtifactStore(as('pool', 'read-api').nc, acme)).getRows(ref)), 'refused'); // nor may it read acme's
});

test("no pool role watches the other pool's inboxes", async () => {
  for (const role of roles.filter((r) => r !== 'reader')) {
    for (const [mine, other] of [['acme', DEFAULT_POOL_NAMES], ['pool', acme]] as const) {
      const sub = as(mine, role).nc.subscribe(`${inboxPrefixOf(role, other)}.>`);
      const closed = await sub.closed;
      assert.instance(closed, Error, `${mine} ${role} subscribed to the other pool's inbox`);
      assert.match(String(closed), /permissions violation/i);
    }
  }
});

test.run();
