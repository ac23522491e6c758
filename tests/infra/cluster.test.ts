/**
 * The pool's streams on a real 3-node JetStream cluster (infra/nats/cluster.ts), at 3 replicas
 * (ensureTopology `replicas: 3`), with the durability the shipped cluster configs choose
 * (`sync_interval: always`, infra/nats/cluster-node*.conf):
 * - an append is acknowledged once a quorum stored it: the stream has a leader and 2 current replicas;
 * - the stream leader SIGKILLed under a writer: appends continue after an election (the writer
 *   retries a timed-out or refused append with the same event id, which JetStream deduplicates),
 *   the node restarts and catches up, no acknowledged event is lost or stored twice;
 * - 2 of 3 nodes down: no append is acknowledged; one back: appends resume, and the retried
 *   events (same ids) are stored once;
 * - with the shipped users (infra/nats/accounts.conf) on every node, the service user runs the
 *   same topology in its account.
 */
import { tmpdir } from 'node:os';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBroker, type Broker } from '../../cli/broker.ts';
import { startNatsCluster, type NatsCluster, type NatsClusterNode } from '../../infra/nats/cluster.ts';
import { passwordVariable, roles } from '../../infra/nats/roles.ts';
import { EventValidationError, type PoolEvent } from '../../schemas/catalog.ts';
import { connectJetStream, type JetStreamConnection } from '../../streams/connect.ts';
import { ConcurrencyError, type AppendResult } from '../../streams/eventStore.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { EVENT_STREAM, ensureTopology } from '../../streams/topology.ts';
import { sample, subjectOf } from '../support/events.ts';
import { until } from '../support/until.ts';

/** The shipped cluster configs' durability (infra/nats/cluster-node*.conf), which the test cluster runs with. */
function shippedSyncInterval(): string {
  const values = [1, 2, 3].map((i) => {
    const conf = readFileSync(join(import.meta.dirname, `../../infra/nats/cluster-node${i}.conf`), 'utf8');
    return /^\s*sync_interval:\s*(\S+)/m.exec(conf)?.[1] ?? '(default 2m)';
  });
  assert.equal(values, ['always', 'always', 'always'], 'every cluster node config fsyncs each write (sync_interval: always)');
  return values[0]!;
}

/** A publish waits this long for its ack before the writer calls it failed (and retries). */
const ACK_TIMEOUT_MS = 1500;

interface Setup {
  cluster: NatsCluster;
  conn: JetStreamConnection;
  js: JetStreamClient;
  /** Appends that give up after {@link ACK_TIMEOUT_MS} (the fault phases). */
  store: NatsEventStore;
  /** Appends that wait up to 30 s for their ack (outside the faults: a busy machine is no failure). */
  patient: NatsEventStore;
}

async function setUp(): Promise<Setup> {
  const cluster = await startNatsCluster({ name: 'pooltest', syncInterval: shippedSyncInterval() });
  try {
    const conn = await connectJetStream({ url: cluster.urls.join(','), name: 'cluster-test' });
    await ensureTopology(conn.nc, conn.jsm, { replicas: 3 });
    await cluster.waitForQuorum(EVENT_STREAM);
    const js = jetstream(conn.nc, { timeout: ACK_TIMEOUT_MS });
    return { cluster, conn, js, store: new NatsEventStore(js, conn.jsm), patient: new NatsEventStore(jetstream(conn.nc, { timeout: 30_000 }), conn.jsm) };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

async function tearDown(s: Setup | null): Promise<void> {
  if (!s) return;
  await s.conn.nc.close().catch(() => {});
  await s.cluster.stop();
}

/**
 * Appends `event`, retrying every failure but a refused event (validation, expected sequence) with
 * the same event id (= Nats-Msg-Id) until `deadline`: a timed-out append may have been stored, its
 * retry is then answered as a duplicate with the original's sequence.
 */
async function appendRetrying(store: NatsEventStore, event: PoolEvent, deadline: number, failures: string[]): Promise<AppendResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.append(subjectOf(event), event);
    } catch (err) {
      if (err instanceof EventValidationError || err instanceof ConcurrencyError || Date.now() > deadline) throw err;
      failures.push(String(err));
      await new Promise((r) => setTimeout(r, Math.min(500, 20 * 2 ** attempt))); // back-off, not synchronisation
    }
  }
}

const event = (n: number, writer = 'w1') => sample(writer, n, n * 100);

/**
 * Every event of the stream as id and sequence, in order, once the cluster has a meta leader and
 * the stream a quorum (a read creates a consumer, which needs both), with a 30 s API timeout.
 */
async function storedIds(s: Setup): Promise<{ id: string; sequence: number }[]> {
  await s.cluster.waitForQuorum(EVENT_STREAM);
  const out: { id: string; sequence: number }[] = [];
  for await (const batch of s.patient.read()) for (const e of batch.events) out.push({ id: e.id, sequence: e.sequence });
  return out;
}

function checkAcked(acked: Map<string, AppendResult>, stored: { id: string; sequence: number }[]): void {
  const bySeq = new Map(stored.map((s) => [s.sequence, s.id]));
  const lost = [...acked].filter(([id, r]) => bySeq.get(r.sequence) !== id);
  assert.equal(lost.slice(0, 5), [], `${lost.length} acknowledged events not at their acknowledged sequence`);
  const ids = stored.map((s) => s.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.equal(twice, [], 'event ids stored twice');
}

async function streamCluster(s: Setup) {
  const info = await s.conn.jsm.streams.info(EVENT_STREAM);
  return { info, cluster: info.cluster! };
}

function nodeNamed(cluster: NatsCluster, name: string | undefined): NatsClusterNode {
  const node = cluster.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node named ${name}`);
  return node;
}

/** Polls stream info until it has a leader and two current replicas, none offline; returns them. */
async function allCurrent(s: Setup) {
  return until('stream POOL: leader and 2 current replicas', async () => {
    const { cluster } = await streamCluster(s);
    const replicas = cluster.replicas ?? [];
    return cluster.leader && replicas.length === 2 && replicas.every((r) => r.current && !r.offline) ? cluster : null;
  }, 60_000);
}

test('appends are acknowledged by a 3-replica stream: a leader and 2 current replicas, fsync always', async () => {
  let s: Setup | null = null;
  try {
    s = await setUp();
    for (const node of s.cluster.nodes) {
      const varz = (await (await fetch(`${node.monitorUrl}/varz`)).json()) as { server_name: string; jetstream: { config: { sync_always?: boolean } } };
      assert.is(varz.server_name, node.name);
      assert.is(varz.jetstream.config.sync_always, true, `${node.name} syncs every write`);
    }
    const acked = new Map<string, AppendResult>();
    for (let n = 1; n <= 20; n++) acked.set(event(n).id, await s.patient.append(subjectOf(event(n)), event(n)));
    const batch = Array.from({ length: 50 }, (_, i) => event(100 + i));
    const many = await s.patient.appendMany(batch.map((e) => ({ subject: subjectOf(e), event: e })));
    batch.forEach((e, i) => acked.set(e.id, many[i]!));
    assert.equal([...acked.values()].map((r) => r.sequence), Array.from({ length: 70 }, (_, i) => i + 1));

    const { info, cluster } = await streamCluster(s);
    assert.is(info.config.num_replicas, 3);
    assert.is(info.state.messages, 70);
    assert.ok(s.cluster.nodes.some((n) => n.name === cluster.leader), `leader ${cluster.leader} is a node`);
    const current = await allCurrent(s);
    assert.equal(new Set([current.leader, ...current.replicas!.map((r) => r.name)]), new Set(s.cluster.nodes.map((n) => n.name)));
    checkAcked(acked, await storedIds(s));
  } finally {
    await tearDown(s);
  }
});

test('the stream leader SIGKILLed under load: appends continue, the node catches up, 0 acknowledged events lost or doubled', async () => {
  let s: Setup | null = null;
  let stop = false;
  const writers: Promise<void>[] = [];
  try {
    s = await setUp();
    const setup = s;
    const acked = new Map<string, AppendResult>();
    const failures: string[] = [];
    // two writers, each appending its own worker's samples one after another
    for (const w of ['w1', 'w2']) {
      writers.push((async () => {
        for (let n = 1; !stop; n++) {
          const e = event(n, w);
          acked.set(e.id, await appendRetrying(setup.store, e, Date.now() + 60_000, failures));
        }
      })());
    }
    const writing = Promise.all(writers);
    writing.catch(() => {}); // a writer's error is rethrown below
    const ackedAtLeast = (n: number) => until(`${n} acknowledged appends`, async () => {
      if (acked.size >= n) return true;
      await Promise.race([writing, Promise.resolve()]); // surfaces a writer that gave up
      return false;
    }, 60_000);

    await ackedAtLeast(100);
    const leader = nodeNamed(s.cluster, (await streamCluster(s)).cluster.leader);
    await leader.kill();
    const atKill = acked.size;
    await ackedAtLeast(atKill + 100); // a new leader was elected and acknowledges
    const newLeader = (await streamCluster(s)).cluster.leader;
    assert.is.not(newLeader, leader.name);

    await leader.restart();
    const atRestart = acked.size;
    await ackedAtLeast(atRestart + 100);
    stop = true;
    await writing;

    const current = await allCurrent(s);
    const restarted = current.leader === leader.name || current.replicas!.some((r) => r.name === leader.name && r.current);
    assert.ok(restarted, `restarted ${leader.name} is a current replica`);
    const stored = await storedIds(s);
    checkAcked(acked, stored);
    assert.is(stored.length, acked.size, 'every stored event was acknowledged (the writers ended on an ack)');
    const { info } = await streamCluster(s);
    assert.is(info.state.messages, acked.size);
    console.log(`  leader ${leader.name} killed after ${atKill} acks; ${acked.size} acked in all, ${failures.length} failed attempts retried (${[...acked.values()].filter((r) => r.duplicate).length} answered as duplicates), new leader ${newLeader}`);
  } finally {
    stop = true;
    await Promise.allSettled(writers);
    await tearDown(s);
  }
});

test('2 of 3 nodes down: no append is acknowledged; one node back: appends resume, retried events stored once', async () => {
  let s: Setup | null = null;
  try {
    s = await setUp();
    const acked = new Map<string, AppendResult>();
    for (let n = 1; n <= 10; n++) acked.set(event(n).id, await s.patient.append(subjectOf(event(n)), event(n)));
    const { cluster } = await streamCluster(s);
    // the two followers: the leader stays up and has every append, yet must not acknowledge alone
    const down = s.cluster.nodes.filter((n) => n.name !== cluster.leader);
    await Promise.all(down.map((n) => n.kill()));

    const refused: PoolEvent[] = [];
    for (let n = 11; n <= 13; n++) {
      const e = event(n);
      try {
        const r = await s.store.append(subjectOf(e), e);
        assert.unreachable(`append acknowledged without quorum at sequence ${r.sequence}`);
      } catch (err) {
        if ((err as Error).name === 'Assertion') throw err;
        assert.match(String(err), /timeout|no responders|unavailable|not enabled|503|disconnect|closed/i, 'fails loudly');
        refused.push(e);
      }
    }
    assert.is(refused.length, 3);

    await down[0]!.restart();
    const failures: string[] = [];
    // (no wait for an election: the retries below are what a client does)
    // the refused appends again, same ids: each lands once, as new or as the duplicate of a late commit
    for (const e of refused) acked.set(e.id, await appendRetrying(s.store, e, Date.now() + 60_000, failures));
    for (let n = 14; n <= 20; n++) acked.set(event(n).id, await appendRetrying(s.store, event(n), Date.now() + 30_000, failures));
    const stored = await storedIds(s);
    checkAcked(acked, stored);
    assert.is(stored.length, 20);

    await down[1]!.restart();
    await allCurrent(s);
  } finally {
    await tearDown(s);
  }
});

test('the shipped users file on every node (configInclude): the service user appends at R3 in the POOL account', async () => {
  // the children inherit the passwords infra/nats/accounts.conf reads from the environment
  process.env.POOL_SERVICE_PASSWORD = 'service-secret';
  for (const r of roles) process.env[passwordVariable(r)] = `${r}-secret`;
  const cluster = await startNatsCluster({ name: 'poolauth', syncInterval: shippedSyncInterval(), configInclude: join(import.meta.dirname, '../../infra/nats/accounts.conf') });
  let conn: JetStreamConnection | null = null;
  let broker: Broker | null = null;
  try {
    try {
      const anonymous = await connectJetStream({ url: cluster.urls[0]!, name: 'anonymous' });
      await anonymous.nc.close();
      assert.unreachable('a client without a user connected');
    } catch (err) {
      if ((err as Error).name === 'Assertion') throw err;
      assert.match(String(err), /authorization/i);
    }
    // as `pool start` opens it: NATS_URL = the three nodes, NATS_USER=pool, NATS_REPLICAS=3
    broker = await openBroker({ natsUrl: cluster.urls.join(','), natsUser: 'pool', natsPassword: 'service-secret', natsReplicas: 3 }, tmpdir()); // no data dir is used with NATS_URL
    conn = broker.conn;
    await cluster.waitForQuorum(EVENT_STREAM);
    const store = new NatsEventStore(jetstream(conn.nc, { timeout: 30_000 }), conn.jsm);
    const r = await store.append(subjectOf(event(1)), event(1));
    assert.equal(r, { sequence: 1, duplicate: false });
    const info = await conn.jsm.streams.info(EVENT_STREAM);
    assert.is(info.config.num_replicas, 3);
    assert.is(info.cluster?.replicas?.length, 2);
  } finally {
    await broker?.close().catch(() => {});
    await cluster.stop();
  }
});

test.run();
