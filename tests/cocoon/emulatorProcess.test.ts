/**
 * The emulator in its own process (issue 12), over the local chain: forked by spawnEmulator, its
 * workers served by one server at `<url>/w<i>` with their participant's forwarder as owner_address,
 * a worker's `/request/payout` paid by the proxy through the pool process's chain (IPC), logs in
 * `<dataDir>/workers/`, and a stop that ends the process and closes the port. The IPC messages
 * are checked against their schemas.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Address } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { DISTRIBUTION_OPS } from '../../contracts/distribution.ts';
import { memberForwarderAddress } from '../../contracts/forwarder.ts';
import { spawnEmulator } from '../../emulator/child.ts';
import { IpcMessageError, readFromEmulator, readToEmulator } from '../../emulator/ipc.ts';
import { emulatedWorkers } from '../../emulator/pool.ts';
import { deployEmulatedProxy } from '../../emulator/proxy.ts';
import { parseJsonStats } from '../../producers/cocoon/jsonstats.ts';
import { parseTaskCompletedLine } from '../../producers/cocoon/logLine.ts';
import { until } from '../support/until.ts';

const dir = mkdtempSync(join(tmpdir(), 'pool-emulator-process-'));
let chain: LocalChain;
let proxy: Address;

test.before(async () => {
  chain = await openLocalChain({ dir: join(dir, 'chain'), wallets: ['proxy-1'] });
  proxy = await deployEmulatedProxy(chain, 'proxy-1');
});
test.after(async () => {
  await chain.close();
  rmSync(dir, { recursive: true, force: true });
});

const raw = () => new Address(0, randomBytes(32)).toRawString();

test('IPC messages are checked: a malformed one is refused with the place it is wrong', () => {
  assert.equal(readFromEmulator({ type: 'ready', url: 'http://127.0.0.1:1' }), { type: 'ready', url: 'http://127.0.0.1:1' });
  assert.throws(() => readFromEmulator({ type: 'send', id: 1, wallet: 'proxy-1', messages: [] }), (e: unknown) => e instanceof IpcMessageError && /from the emulator process/.test((e as Error).message));
  assert.throws(() => readFromEmulator({ type: 'send', id: 1, wallet: 'proxy-1', messages: [{ to: 'nope', value: '1', body: null, bounce: false }] }), (e: unknown) => e instanceof IpcMessageError);
  assert.throws(() => readToEmulator({ type: 'sent', id: 0, transactions: [] }), (e: unknown) => e instanceof IpcMessageError);
  assert.throws(() => readToEmulator({ type: 'start', options: {} }), (e: unknown) => e instanceof IpcMessageError);
});

test('a forked emulator serves its workers on one port, owned by the forwarders; a payout request is paid on the pool\'s chain; stop ends it', async () => {
  const pool = Address.parse(raw());
  const participants = [raw(), raw()];
  const dataDir = join(dir, 'data');
  const emulator = await spawnEmulator(
    {
      dataDir, workers: 3, participants, basePort: 0, seed: 3, requestsPerSecond: 40, faults: false,
      workerFeePerToken: '1000', autoPayThresholdNanoton: String(1_000_000n * 1_000_000_000n), proxyPayIntervalMs: 200,
      pool: pool.toRawString(), proxy: proxy.toRawString(), proxyWallet: 'proxy-1', workerContractTokens: {}, logLevel: 'silent',
    },
    chain,
    pino({ level: 'silent' }),
  );
  const workers = emulatedWorkers(emulator.url, dataDir, 3, participants);
  try {
    assert.ok(emulator.pid !== process.pid);
    assert.equal(workers.map((w) => w.url), [0, 1, 2].map((i) => `${emulator.url}/w${i}`));
    const owners = await Promise.all(participants.map(async (p) => (await memberForwarderAddress(pool, Address.parse(p))).toRawString()));
    for (const [i, w] of workers.entries()) {
      const stats = parseJsonStats(await (await fetch(`${w.url}/jsonstats`)).text());
      assert.is(stats.localConfig.ownerAddress, owners[i % 2], `w${i} reports participant ${i % 2}'s forwarder`);
    }
    // w1 works for participant 1: once it has earned, its payout request is paid to that forwarder
    await until('w1 knows its proxy', async () => parseJsonStats(await (await fetch(`${workers[1]!.url}/jsonstats`)).text()).proxies.length > 0, 30_000, 250);
    assert.match(await (await fetch(`${workers[1]!.url}/request/payout?proxy=${proxy.toRawString()}`)).text(), /request sent/);
    const forwarder = Address.parse(owners[1]!);
    const payouts = await until('the forwarder paid', async () => {
      const txs = await chain.getTransactions(forwarder, {});
      const paid = txs.filter((tx) => {
        const m = tx.inMessage;
        if (!m || m.info.type !== 'internal' || !m.info.src.equals(proxy)) return false;
        const s = m.body.beginParse();
        return s.remainingBits >= 32 && s.loadUint(32) === DISTRIBUTION_OPS.cocoonPayout;
      });
      return paid.length ? paid : null;
    }, 60_000, 250);
    assert.is(payouts.length, 1);
    assert.equal(await chain.getTransactions(Address.parse(owners[0]!), {}), [], 'participant 0 asked nothing and is below the threshold');
  } finally {
    await emulator.stop();
  }
  assert.is(await emulator.exited, 0);
  const refused = await fetch(`${workers[0]!.url}/jsonstats`).then(() => 'answered', () => 'refused');
  assert.is(refused, 'refused', 'the port is closed');
  for (const w of workers) {
    assert.ok(existsSync(w.logPath), `${w.id} has its log`);
    assert.ok(readFileSync(w.logPath, 'utf8').split('\n').some((l) => parseTaskCompletedLine(l) !== null), `${w.id} logged completed requests`);
  }
});

test.run();
