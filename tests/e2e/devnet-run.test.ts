/**
 * The README's bounded run on `--chain devnet` with every fault of the endpoint switched on
 * (devnet/faults.ts `all`: 429s, timeouts, lost send responses, late, duplicate, out-of-order and
 * skipped rows): every chain read and send of the pool goes through the TON Center client over HTTP
 * to the pool's own endpoint. Afterwards, from the chain itself and the stream: the roots are the
 * computed ones, every leaf was paid exactly once, conservation holds, and every revenue
 * transaction the indexer reached was booked exactly once (none missed, none doubled).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNatsServer } from '../../infra/nats/server.ts';
import { connectJetStream } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { auditChain, lastJson, spawnPool } from '../support/pool.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-devnet-run-'));
chmodSync(dataDir, 0o711); // the embedded PostgreSQL server (run as `postgres` under root) must reach <dataDir>/pg
test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test('--chain devnet with every fault on: two epochs settle, each leaf paid once, each revenue transaction booked once', async () => {
  const run = spawnPool('node', ['--chain', 'devnet', '--devnet-faults', 'all', '--epoch-seconds', '20', '--epochs', '2', '--exit-when-settled'], dataDir);
  const started = JSON.parse(await run.waitFor(/"msg":"pool started"/, 300_000)) as Record<string, string>;
  assert.match(started.tonCenter!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(started.chain!, 'faults all');
  assert.is(await run.exited, 0);
  const epochs = lastJson(run.lines).epochs;
  assert.equal(epochs.map((e) => [e.id, e.status]), [[1, 'settled'], [2, 'settled']]);
  for (const e of epochs) {
    assert.ok(BigInt(e.revenueNanoton) > 0n, `epoch ${e.id} earned nothing`);
    assert.is(BigInt(e.operatorFeeNanoton) + BigInt(e.rewardsNanoton), BigInt(e.revenueNanoton), `epoch ${e.id}: fee + rewards = revenue`);
    assert.is(e.payoutsConfirmed, e.leafCount);
  }

  const audit = await auditChain(dataDir, started.distributionContract!, epochs.map((e) => e.id));
  for (const e of epochs) {
    assert.is(audit.roots.get(e.id), e.merkleRoot, `epoch ${e.id} root on chain`);
    const paid = [...audit.payments].filter(([k]) => k.startsWith(`${e.id}:`));
    assert.is(paid.length, e.leafCount, `epoch ${e.id}: every leaf paid`);
    assert.ok(paid.every(([, v]) => v.times === 1), `epoch ${e.id}: no leaf paid twice`);
    assert.is(paid.reduce((s, [, v]) => s + v.amount, 0n), BigInt(e.rewardsNanoton), `epoch ${e.id}: paid = rewards`);
  }

  const server = await startNatsServer({ storeDir: join(dataDir, 'nats') });
  try {
    const conn = await connectJetStream({ url: server.url });
    const store = new NatsEventStore(conn.js, conn.jsm);
    const booked = new Map<string, number>();
    let lastLt = 0n;
    for await (const b of store.read({ types: ['PoolRevenueReceived', 'MemberRevenueReceived'] })) {
      for (const e of b.events) {
        if ((e.type !== 'PoolRevenueReceived' && e.type !== 'MemberRevenueReceived') || e.subject !== 'pool.chain.distribution') continue;
        booked.set(e.data.txHash, (booked.get(e.data.txHash) ?? 0) + 1);
        if (BigInt(e.data.lt) > lastLt) lastLt = BigInt(e.data.lt);
      }
    }
    await conn.nc.close();
    assert.ok(booked.size > 0);
    assert.equal([...booked].filter(([, n]) => n > 1), [], 'a revenue transaction booked twice');
    const onChain = [...audit.revenue].filter(([, r]) => r.lt <= lastLt).map(([hash]) => hash);
    assert.equal(onChain.filter((h) => !booked.has(h)), [], 'a revenue transaction the indexer passed was not booked');
    assert.equal([...booked.keys()].filter((h) => !audit.revenue.has(h)), [], 'a booked revenue transaction is not on chain');
  } finally {
    await server.stop();
  }
});

test.run();
