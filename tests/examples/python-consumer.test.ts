/**
 * examples/python/pool_consumer.py against a running pool: the real `pool start` (emulated workers,
 * local chain, its own nats-server with a user per role) in a child process, the Python consumer
 * as another child logged in as `reader` with the password the pool wrote to credentials.json.
 * What it prints is compared with what the project's EventStore reads from stream POOL.
 * Skipped, with a message, when python3 is absent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createConnection, createServer } from 'node:net';
import { inboxPrefixOf } from '../../infra/nats/roles.ts';
import { findNatsServerBinary, startNatsServer } from '../../infra/nats/server.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { connectJetStream, type JetStreamConnection } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { root, spawnPool, type PoolProcess } from '../support/pool.ts';
import { until } from '../support/until.ts';

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;
if (!python) process.stdout.write('python-consumer: python3 not found on PATH; the Python consumer tests are skipped\n');
const maybe = python ? test : test.skip;

const SCRIPT = join(root, 'examples', 'python', 'pool_consumer.py');

interface Printed {
  seq: number;
  subject: string;
  type: string;
  version: number;
  id: string;
  data: unknown;
}

const dataDir = mkdtempSync(join(tmpdir(), 'pool-pyconsumer-'));
let pool: PoolProcess | null = null;
let natsUrl = '';
let readerPassword = '';
let reader: JetStreamConnection | null = null;
let admin: JetStreamConnection | null = null;
let store: NatsEventStore;

/** Runs the consumer with `args` (NATS_URL/NATS_PASSWORD of the reader unless `env` says otherwise). */
function consumer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; printed: Printed[]; stderr: string }> {
  const child = spawn('python3', [SCRIPT, ...args], {
    cwd: root,
    env: { ...process.env, NATS_URL: natsUrl, NATS_USER: 'reader', NATS_PASSWORD: readerPassword, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      const printed = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Printed);
      resolve({ code, printed, stderr });
    }),
  );
}

/** The consumers of POOL this script left (it names them by description), seen as `admin` (the reader may not list consumers). */
async function exampleConsumers(): Promise<string[]> {
  const list = await admin!.jsm.consumers.list('POOL').next();
  return list.filter((c) => c.config.description === 'pool-consumer-example').map((c) => c.name);
}

/** The events of POOL from `from` up to `to` (stream sequences) as the consumer prints them, read with the project's EventStore. */
async function stored(from: number, to: number, subjectPrefix = ''): Promise<Printed[]> {
  const out: Printed[] = [];
  const shape = (e: RecordedEvent): Printed => ({ seq: e.sequence, subject: e.subject, type: e.type, version: e.version, id: e.id, data: e.data });
  let next = from;
  while (next <= to) {
    for await (const batch of store.read({ fromSequence: next })) {
      for (const e of batch.events) if (e.sequence <= to && e.subject.startsWith(subjectPrefix)) out.push(shape(e));
      next = batch.lastSequence + 1;
      if (next > to) break;
    }
  }
  return out;
}

test.before(async () => {
  if (!python) return;
  pool = spawnPool('node', ['--epoch-seconds', '20'], dataDir);
  natsUrl = JSON.parse(await pool.waitFor(/"msg":"pool started"/)).nats as string;
  const users = (JSON.parse(readFileSync(join(dataDir, 'nats', 'credentials.json'), 'utf8')) as { users: { reader: string; admin: string } }).users;
  readerPassword = users.reader;
  reader = await connectJetStream({ url: natsUrl, name: 'test-reader', user: 'reader', pass: readerPassword });
  admin = await connectJetStream({ url: natsUrl, name: 'test-admin', user: 'admin', pass: users.admin, inboxPrefix: inboxPrefixOf('admin') });
  store = new NatsEventStore(reader.js, reader.jsm);
  await until('200 events in POOL', async () => (await store.lastSequence()) >= 200, 120_000, 500);
});

test.after(async () => {
  await reader?.nc.close();
  await admin?.nc.close();
  if (pool) {
    pool.child.kill('SIGTERM');
    await pool.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

maybe('without --limit it prints every event from seq 1 to the end of the stream, as the stream holds them', async () => {
  const run = await consumer([]);
  assert.is(run.code, 0, run.stderr);
  assert.ok(run.printed.length >= 200, `only ${run.printed.length} events`);
  const last = run.printed.at(-1)!.seq;
  assert.equal(run.printed.map((p) => p.seq), Array.from({ length: last }, (_, i) => i + 1));
  assert.equal(run.printed, await stored(1, last));
});

maybe('--from-seq resumes exactly after the last printed seq; --ack explicit reads the same', async () => {
  const first = await consumer(['--limit', '70']);
  assert.is(first.code, 0, first.stderr);
  assert.is(first.printed.length, 70);
  const resumed = await consumer(['--from-seq', String(first.printed.at(-1)!.seq + 1), '--limit', '50', '--ack', 'explicit']);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.is(resumed.printed.length, 50);
  assert.equal([...first.printed, ...resumed.printed], await stored(1, 120));
  const middle = await consumer(['--from-seq', '33', '--limit', '5']);
  assert.equal(middle.printed.map((p) => p.seq), [33, 34, 35, 36, 37]);
});

maybe('--filter prints only the matching subjects, all of them in stream order', async () => {
  const work = await consumer(['--filter', 'pool.work.>', '--limit', '40']);
  assert.is(work.code, 0, work.stderr);
  assert.is(work.printed.length, 40);
  assert.ok(work.printed.every((p) => p.subject.startsWith('pool.work.') && p.type === 'TaskCompleted'));
  assert.equal(work.printed, (await stored(1, work.printed.at(-1)!.seq, 'pool.work.')));
  // the bindings are written once at start: the whole filtered stream, then the consumer stops by itself
  const bindings = await consumer(['--filter', 'pool.membership.>']);
  assert.is(bindings.code, 0, bindings.stderr);
  assert.ok(bindings.printed.length > 0 && bindings.printed.every((p) => p.type === 'WorkerBound'));
  assert.equal(bindings.printed, await stored(1, await store.lastSequence(), 'pool.membership.'));
});

maybe('--follow waits at the end of the stream for the events appended after it', async () => {
  const end = await store.lastSequence();
  const run = await consumer(['--from-seq', String(end + 1), '--follow', '--limit', '5']);
  assert.is(run.code, 0, run.stderr);
  assert.equal(run.printed.map((p) => p.seq), [1, 2, 3, 4, 5].map((k) => end + k));
  assert.equal(run.printed, await stored(end + 1, end + 5));
});

maybe('it deletes its consumer when it ends and when it is stopped (SIGTERM) while following', async () => {
  assert.equal(await exampleConsumers(), [], 'a consumer of an earlier run was left');
  const child = spawn('python3', [SCRIPT, '--follow', '--filter', 'pool.work.>'], {
    cwd: root,
    env: { ...process.env, NATS_URL: natsUrl, NATS_USER: 'reader', NATS_PASSWORD: readerPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((r) => child.once('close', r));
  try {
    await until('the following consumer printing', () => stdout.split('\n').length > 3, 60_000, 200);
    assert.is((await exampleConsumers()).length, 1);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await closed, 0, stderr);
  assert.equal(await exampleConsumers(), []);
});

maybe('a wrong password, a server without the pool stream or without JetStream, a closed port: each refused with a message saying so', async () => {
  const denied = await consumer(['--limit', '1'], { NATS_PASSWORD: 'not-the-password' });
  assert.is(denied.code, 1);
  assert.equal(denied.printed, []);
  assert.match(denied.stderr, /refused user 'reader' \(Authorization Violation\).*credentials\.json/);
  const dir = mkdtempSync(join(tmpdir(), 'pool-pyconsumer-bare-'));
  const bare = await startNatsServer({ storeDir: dir });
  try {
    const missing = await consumer(['--limit', '1'], { NATS_URL: bare.url, NATS_USER: '', NATS_PASSWORD: '' });
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /stream POOL not found/);
  } finally {
    await bare.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // a server without JetStream (started without -js), on a port picked free
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const plain = spawn(findNatsServerBinary(), ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  try {
    await until('nats-server without JetStream listening', () => new Promise<boolean>((resolve) => {
      const c = createConnection(port, '127.0.0.1', () => (c.destroy(), resolve(true))).once('error', () => resolve(false));
    }), 30_000, 100);
    const noJs = await consumer(['--limit', '1'], { NATS_URL: `nats://127.0.0.1:${port}`, NATS_USER: '', NATS_PASSWORD: '' });
    assert.is(noJs.code, 1);
    assert.match(noJs.stderr, /JetStream is not enabled/);
  } finally {
    plain.kill('SIGTERM');
  }
  const closed = await consumer(['--limit', '1'], { NATS_URL: 'nats://127.0.0.1:1' });
  assert.is(closed.code, 1);
  assert.match(closed.stderr, /cannot connect to nats:\/\/127\.0\.0\.1:1/);
});

test.run();
