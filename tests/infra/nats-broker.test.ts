/**
 * The broker's own nats-server child (cli/broker.ts): killed, it comes back on the same port and
 * store and the pool's connections publish again; when it cannot come back the broker gives up
 * loudly (onFatal). A store written before the server had users keeps its streams.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBroker } from '../../cli/broker.ts';
import { startNatsServer } from '../../infra/nats/server.ts';
import { connectJetStream } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { ensureTopology } from '../../streams/topology.ts';
import { sleep } from '../../runtime/sleep.ts';
import { bound, task } from '../support/events.ts';

const noExternal = { natsUrl: null, natsUser: null, natsPassword: null };

/** Polls `check` every 50 ms until it returns a value, or throws after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | null | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v !== null && v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms (last error: ${String(last)})`);
    await sleep(50);
  }
}

test('a SIGKILLed nats-server child is restarted on the same port and the connections publish again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pool-broker-'));
  const logged: string[] = [];
  const logger = { error: (_o: unknown, msg: string) => logged.push(msg), warn: (_o: unknown, msg: string) => logged.push(msg), fatal: (_o: unknown, msg: string) => logged.push(msg) };
  const broker = await openBroker(noExternal, dataDir, { logger: logger as never, onFatal: (err) => assert.unreachable(err.message) });
  try {
    const server = broker.server!;
    const producers = await broker.connect('producers');
    const store = new NatsEventStore(producers.js, producers.jsm);
    await store.append('pool.work.w1', task('w1', 1));
    const firstPid = server.pid;

    process.kill(firstPid, 'SIGKILL');
    await eventually('the child restarted', async () => (server.restarts === 1 && server.pid !== firstPid ? true : null));
    assert.ok(logged.includes('nats-server child exited unexpectedly; restarting it on the same port'), logged.join('; '));

    // the same connection reconnects by itself and appends again; nothing stored before is lost
    const r = await eventually('an append after the restart', () => store.append('pool.work.w1', task('w1', 2)));
    assert.is(r.duplicate, false);
    assert.equal((await store.readSubject('pool.work.w1')).map((e) => e.id), [task('w1', 1).id, task('w1', 2).id]);
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a child that cannot be started again makes the broker give up loudly', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pool-broker-'));
  let fatal: Error | null = null;
  const logged: string[] = [];
  const logger = { error: (_o: unknown, msg: string) => logged.push(msg), warn: (_o: unknown, msg: string) => logged.push(msg), fatal: (_o: unknown, msg: string) => logged.push(msg) };
  const broker = await openBroker(noExternal, dataDir, { logger: logger as never, onFatal: (err) => (fatal = err) });
  try {
    // the restarted child reads its users from this file: a broken one keeps it from starting
    writeFileSync(join(dataDir, 'nats', 'auth.conf'), 'authorization {');
    process.kill(broker.server!.pid, 'SIGKILL');
    const err = await eventually('onFatal', async () => fatal, 120_000);
    assert.match(err.message, /could not be restarted on port \d+ after 5 attempts/);
    assert.ok(logged.includes('nats-server child lost'), logged.join('; '));
    assert.ok(logged.filter((l) => l === 'nats-server child did not start again').length === 5);
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a store written by the server before it had users keeps its streams and events', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pool-broker-'));
  try {
    const old = await startNatsServer({ storeDir: join(dataDir, 'nats') });
    const conn = await connectJetStream({ url: old.url });
    await ensureTopology(conn.nc, conn.jsm);
    await new NatsEventStore(conn.js, conn.jsm).append('pool.membership.w1', bound('w1', 1));
    await conn.nc.close();
    await old.stop();

    const broker = await openBroker(noExternal, dataDir, { onFatal: (err) => assert.unreachable(err.message) });
    try {
      const reader = await broker.connect('reader');
      const events = await new NatsEventStore(reader.js, reader.jsm).readSubject('pool.membership.w1');
      assert.equal(events.map((e) => e.id), [bound('w1', 1).id]);
    } finally {
      await broker.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
