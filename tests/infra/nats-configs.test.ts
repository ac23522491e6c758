import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accountsConf, passwordVariable, roles } from '../../infra/nats/roles.ts';
import { findNatsServerBinary } from '../../infra/nats/server.ts';
import { connectJetStream } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { ensureTopology } from '../../streams/topology.ts';
import { bound } from '../support/events.ts';

const dir = resolve(import.meta.dirname, '../../infra/nats');
const env: NodeJS.ProcessEnv = { ...process.env, POOL_SERVICE_PASSWORD: 'service-secret' };
for (const r of roles) env[passwordVariable(r)] = `${r}-secret`;

test('the shipped accounts.conf is the roles table (node --import tsx infra/nats/roles.ts rewrites it)', () => {
  assert.fixture(readFileSync(join(dir, 'accounts.conf'), 'utf8'), accountsConf());
});

test('every shipped server config is valid for nats-server -t', () => {
  for (const file of ['single.conf', 'cluster-node1.conf', 'cluster-node2.conf', 'cluster-node3.conf']) {
    const r = spawnSync(findNatsServerBinary(), ['-t', '-c', join(dir, file)], { env, encoding: 'utf8' });
    assert.is(r.status, 0, `${file}: ${r.stderr}${r.stdout}`);
  }
});

test('users and permissions: the service appends and reads; a reader reads but cannot append', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pool-nats-acl-'));
  const conf = join(tmp, 'test.conf');
  // the shipped users file, on a free port (single.conf pins 4222); includes resolve next to the config
  copyFileSync(join(dir, 'accounts.conf'), join(tmp, 'accounts.conf'));
  writeFileSync(conf, `listen: 127.0.0.1:-1\njetstream { store_dir: "${tmp}/js" }\ninclude ./accounts.conf\n`);
  const r = spawnSync(findNatsServerBinary(), ['-t', '-c', conf], { env, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const child = spawn(findNatsServerBinary(), ['-c', conf, '--ports_file_dir', tmp], { env, stdio: 'ignore' });
  try {
    const portsFile = join(tmp, `nats-server_${child.pid}.ports`);
    for (let i = 0; i < 200 && !existsSync(portsFile); i++) await new Promise((res) => setTimeout(res, 25));
    const url = JSON.parse(readFileSync(portsFile, 'utf8')).nats[0] as string;

    const service = await connectJetStream({ url, user: 'pool', pass: 'service-secret' });
    await ensureTopology(service.nc, service.jsm);
    const store = new NatsEventStore(service.js, service.jsm);
    await store.append('pool.membership.w1', bound('w1', 1));

    const readerNc = await connect({ servers: url, user: 'reader', pass: 'reader-secret' });
    // the shipped reader stored two messages in the object store: no more
    try {
      await jetstream(readerNc).publish('$O.pool_artifacts.C.forged', new Uint8Array([1]), { timeout: 5000 });
      assert.unreachable('reader put to the object store');
    } catch (err) {
      assert.match(String(err), /permissions violation/i);
    }
    const readerStore = new NatsEventStore(jetstream(readerNc), await jetstreamManager(readerNc));
    const seen = await readerStore.readSubject('pool.membership.w1');
    assert.is(seen.length, 1);
    try {
      await jetstream(readerNc).publish('pool.membership.w2', new Uint8Array([1]), { timeout: 5000 });
      assert.unreachable('reader appended');
    } catch (err) {
      assert.match(String(err), /permissions violation/i);
    }
    assert.is(await store.lastSequence(), 1);
    await readerNc.close();
    await service.nc.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res));
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
