/**
 * Two epoch-saga instances under one lease (streams/lease.ts), as two `pool start --role sagas`
 * run them: each with its own NATS connection, against one real nats-server, one PostgreSQL and
 * the real local chain. The active instance dies mid-payout (its connection cut, nothing released,
 * as under SIGKILL); the standby takes over once the dead instance's lease expires, resumes from the
 * recorded messages, and the epoch settles with every leaf paid exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChainSender } from '../../chain/client.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import type { RecordedOf } from '../../schemas/catalog.ts';
import { distributionActions } from '../../sagas/epoch/distributionActions.ts';
import { runEpochSaga } from '../../sagas/epoch/processManager.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { connectJetStream } from '../../streams/connect.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { LEASE_TTL_MS, runUnderLease } from '../../streams/lease.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { paymentsOnChain, sagaOnLocalChain, type Harness } from '../support/sagaChain.ts';
import { until } from '../support/until.ts';

const LEAVES = 8;
const REWARD = 300_000_000n;
const settings = { epochMs: 365 * 24 * 3600 * 1000, batchSize: 2, maxBatchesInFlight: 1, resubmitAfterMs: 300, maxRefusedAttempts: 3 };
const scratch = mkdtempSync(join(tmpdir(), 'pool-epoch-takeover-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** One saga instance: its own connection, store and lease holder id; `sender` wraps the chain. */
async function instance(h: Harness, holder: string, sender: (inst: { kill(): Promise<void> }) => ChainSender) {
  const conn = await connectJetStream({ url: h.nats.server.url, name: holder });
  const store = new NatsEventStore(conn.js, conn.jsm);
  const artifacts = await openArtifactStore(conn.nc);
  const ctl = new AbortController();
  const transitions: { active: boolean; atMs: number; reason: string }[] = [];
  let killedAtMs = 0;
  const self = {
    transitions,
    get killedAtMs() {
      return killedAtMs;
    },
    /** as SIGKILL: the connection goes at once (no release, no more appends), then the work stops */
    async kill() {
      killedAtMs = Date.now();
      await conn.nc.close();
      ctl.abort();
    },
    stop: () => ctl.abort(),
    done: Promise.resolve(),
  };
  const logger = pino({ level: 'silent' });
  self.done = runUnderLease({ nc: conn.nc, key: 'epoch-saga', holder, logger, signal: ctl.signal, onTransition: (t) => transitions.push(t) }, (signal) =>
    runEpochSaga({
      store, deadLetter: deadLetterTo(conn.js), db: h.pg.db, artifacts, actions: distributionActions(h.chain, sender(self), h.wallet, h.contracts.distribution),
      settings, rewardParams: DEFAULT_REWARD_PARAMS, logger, tickMs: 20, signal,
    }),
  )
    .catch(() => {}) // the killed instance's calls fail on its closed connection
    .finally(() => conn.nc.close().catch(() => {}));
  return self;
}

test('the active saga dies mid-payout; the standby takes over and every leaf is paid exactly once', async () => {
  const h = await sagaOnLocalChain({ dir: join(scratch, 'chain'), leaves: LEAVES, reward: REWARD, fee: 100_000_000n, walletTimeout: 120, settings });
  try {
    let submissions = 0;
    const a = await instance(h, 'host:a', (self) => ({
      async sendMessage(message) {
        const submitted = await h.chain.sendMessage(message);
        // dies right after its second payout batch left it, before it could record anything about it
        if (++submissions === 3) void self.kill();
        return submitted;
      },
    }));
    await until('a active', () => a.transitions.some((t) => t.active));
    const b = await instance(h, 'host:b', () => ({ sendMessage: (m) => h.chain.sendMessage(m) }));
    await until('a killed mid-payout', () => a.killedAtMs > 0, 120_000, 100);
    assert.not.ok(b.transitions.some((t) => t.active), 'the standby was active while a held the lease');

    const events = () => h.nats.store.readSubject('pool.epoch.1');
    await until('epoch 1 settled', async () => (await events()).some((e) => e.type === 'EpochSettled'), 180_000, 250);
    const takeover = b.transitions.find((t) => t.active)!;
    assert.ok(takeover.atMs > a.killedAtMs, 'b started before a died');
    // a's lease was never released: b could only take it once a's last renewal expired on the server
    assert.ok(takeover.atMs - a.killedAtMs >= LEASE_TTL_MS - 2_000, `taken over ${takeover.atMs - a.killedAtMs} ms after the kill`);
    console.log(`[takeover] epoch saga: ${takeover.atMs - a.killedAtMs} ms from the kill to the standby acting (lease TTL ${LEASE_TTL_MS} ms)`);

    const paid = await paymentsOnChain(h);
    assert.equal([...paid.keys()].sort((x, y) => x - y), Array.from({ length: LEAVES }, (_, i) => i), 'every leaf paid');
    assert.ok([...paid.values()].every((n) => n === 1), `a leaf paid twice: ${JSON.stringify([...paid])}`);
    const settled = (await events()).find((e) => e.type === 'EpochSettled') as RecordedOf<'EpochSettled'>;
    assert.is(settled.data.paidNanoton, String(REWARD * BigInt(LEAVES)));
    const ids = (await events()).map((e) => e.id);
    assert.is(new Set(ids).size, ids.length, 'an epoch event appended twice');
    b.stop();
    await Promise.all([a.done, b.done]);
  } finally {
    await h.close();
  }
});

test.run();
