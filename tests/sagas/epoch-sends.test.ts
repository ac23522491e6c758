/**
 * The epoch saga's operator sends on the real local chain (@ton/sandbox, the official highload
 * wallet v3 code), a real nats-server and a real PostgreSQL, with the chain indexer indexing the
 * contracts and the operator wallet. Faults are injected around the REAL chain (a ChainSender that
 * wraps `LocalChain.sendMessage`), never instead of it:
 * - a crash between signing and submitting: the restarted saga submits the recorded message;
 * - every submission's response lost after it landed: confirmed from the chain, nothing paid twice;
 * - a submission the wallet refuses (its query_id spent by another sender): loud, recorded once, resubmitted
 *   until proven expired, then signed again;
 * - a message accepted by the endpoint but never delivered: proven expired in chain time, signed again
 *   with a new wallet query_id, paid exactly once.
 * In each case epoch 1 settles and every leaf is paid exactly once on chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cell } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChainUnavailableError, type ChainSender, type SubmittedMessage } from '../../chain/client.ts';
import type { LocalChain } from '../../chain/localChain.ts';
import { normalizedMessageHash } from '../../chain/messageHash.ts';
import { HighloadQueryId, signTransfer } from '../../chain/wallet/highloadV3.ts';
import type { RecordedEvent, RecordedOf } from '../../schemas/catalog.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { paymentsOnChain, sagaOnLocalChain, type Harness } from '../support/sagaChain.ts';
import { until } from '../support/until.ts';

const LEAVES = 5;
const REWARD = 400_000_000n; // 0.4 TON a leaf
const FEE = 100_000_000n;
const WALLET_TIMEOUT = 120; // seconds a signed message stays valid
const settings = { epochMs: 365 * 24 * 3600 * 1000, batchSize: 2, maxBatchesInFlight: 2, resubmitAfterMs: 300, maxRefusedAttempts: 3 };
const scratch = mkdtempSync(join(tmpdir(), 'pool-epoch-sends-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const harness = (name: string) => sagaOnLocalChain({ dir: join(scratch, name), leaves: LEAVES, reward: REWARD, fee: FEE, walletTimeout: WALLET_TIMEOUT, settings });

const epoch1 = (h: Harness) => h.nats.store.readSubject('pool.epoch.1');
const walletEvents = (h: Harness) => h.nats.store.readSubject('pool.chain.operator-wallet');
const ofType = <T extends RecordedEvent['type']>(events: RecordedEvent[], type: T) => events.filter((e) => e.type === type) as RecordedOf<T>[];

/** Epoch 1 settles; every leaf paid exactly once on chain; every signed message that ran ran once. */
async function assertSettledOnce(h: Harness): Promise<RecordedEvent[]> {
  await until('epoch 1 settled', async () => ofType(await epoch1(h), 'EpochSettled').length === 1, 120_000, 250);
  const paid = await paymentsOnChain(h);
  assert.equal([...paid.keys()].sort(), Array.from({ length: LEAVES }, (_, i) => i), 'every leaf paid');
  assert.ok([...paid.values()].every((n) => n === 1), `a leaf paid twice: ${JSON.stringify([...paid])}`);
  const events = await epoch1(h);
  const settled = ofType(events, 'EpochSettled')[0]!;
  assert.is(settled.data.paidNanoton, String(REWARD * BigInt(LEAVES)));
  const ran = ofType(await walletEvents(h), 'OperatorMessageProcessed').map((e) => e.data.normalizedHash);
  assert.is(new Set(ran).size, ran.length, 'a message ran twice');
  return events;
}

/** Waits until the indexer has indexed the wallet's last transaction (the set-up's deploys included). */
async function indexedThrough(h: Harness): Promise<void> {
  const last = (await h.chain.getAccount(h.wallet.address)).lastTransaction!.lt;
  const cursors = await openCursorStore(h.nats.nc);
  await until('the wallet indexed', async () => BigInt((await cursors.get<{ lt: string }>('chain.operator-wallet'))?.lt ?? 0) >= last);
}

/** A sender over the real chain. */
const direct = (chain: LocalChain): ChainSender => ({ sendMessage: (m) => chain.sendMessage(m) });

test('a crash between signing and submitting: the restart submits the recorded message, paid once', async () => {
  const h = await harness('crash');
  try {
    // the first process dies at its first submission, before the message leaves it
    let first: ReturnType<Harness['saga']>;
    const dying: ChainSender = {
      async sendMessage(): Promise<SubmittedMessage> {
        first.ctl.abort();
        throw new ChainUnavailableError('process killed before the submission', 'network');
      },
    };
    first = h.saga(dying);
    await first.done;
    const before = await epoch1(h);
    const signed = ofType(before, 'OperatorMessageSigned');
    assert.equal(signed.map((e) => [e.data.step, e.data.attempt]), [['commit', 1]], 'the intent and its signed message are recorded');
    await indexedThrough(h);
    const ranBefore = ofType(await walletEvents(h), 'OperatorMessageProcessed').map((e) => e.data.normalizedHash);
    assert.not.ok(ranBefore.includes(signed[0]!.data.normalizedHash), 'nothing reached the chain');

    // a tick of an hour: every step after the first is woken by an event (its own or the indexer's), none waits for a tick
    h.saga(direct(h.chain), 3_600_000);
    const events = await assertSettledOnce(h);
    assert.is(ofType(events, 'RootCommitRequested').length, 1, 'no second commit attempt');
    const commitSigned = ofType(events, 'OperatorMessageSigned').filter((e) => e.data.step === 'commit');
    assert.equal(commitSigned.map((e) => e.data.normalizedHash), [signed[0]!.data.normalizedHash], 'the recorded message, not a new one');
    const ran = ofType(await walletEvents(h), 'OperatorMessageProcessed').map((e) => e.data.normalizedHash);
    assert.ok(ran.includes(signed[0]!.data.normalizedHash), 'the recorded message ran');
  } finally {
    await h.close();
  }
});

test('every submission lands but its response is lost: confirmed from the chain, nothing paid twice', async () => {
  const h = await harness('lost-response');
  try {
    let lost = 0;
    const lossy: ChainSender = {
      async sendMessage(m: Cell) {
        await h.chain.sendMessage(m).catch(() => undefined); // a resubmission of a message that ran is refused: the response is lost anyway
        lost++;
        throw new ChainUnavailableError('timeout waiting for the endpoint', 'timeout');
      },
    };
    h.saga(lossy);
    const events = await assertSettledOnce(h);
    assert.ok(lost >= 4, `every submission's answer was lost (${lost})`);
    assert.is(ofType(events, 'RootCommitRequested').length, 1);
    assert.is(ofType(events, 'PayoutBatchSubmitted').length, 3, 'one attempt per batch');
    assert.is(ofType(events, 'OperatorMessageExpired').length, 0);
    assert.ok(h.logs.some((l) => l.msg === 'chain endpoint unavailable while submitting: the same message is submitted again later' && l.level === 40));
  } finally {
    await h.close();
  }
});

test('a submission the wallet refuses (its query_id spent by another sender): loud and recorded, resubmitted until proven expired, then signed again and paid once', async () => {
  const h = await harness('rejected');
  try {
    // someone else (another tool with the operator key) spends the wallet's first query_id, the one the saga signs with first
    const { keyPair, config, address } = h.wallet;
    const spent = signTransfer({
      secretKey: keyPair.secretKey, walletAddress: address, subwalletId: config.subwalletId, timeout: config.timeout,
      queryId: HighloadQueryId.fromSequence(0), createdAt: await h.chain.chainTime(), messages: [{ to: h.chain.walletAddress('operator'), value: 1_000_000n, bounce: false }],
    });
    await h.chain.sendMessage(spent.message);
    h.saga(direct(h.chain));
    const rejected = await until('OperatorMessageRejected', async () => ofType(await epoch1(h), 'OperatorMessageRejected')[0], 120_000, 250);
    assert.equal([rejected.data.step, rejected.data.attempt], ['commit', 1]);
    const errorLog = await until('the error line', () => h.logs.find((l) => l.level === 50 && String(l.msg).startsWith('the operator wallet refused the message')));
    assert.is(errorLog.normalizedHash, rejected.data.normalizedHash);
    // refused again and again, but recorded once, and no new attempt before the message is proven expired
    await until('three more submissions refused', () => h.logs.filter((l) => l.level === 50 && l.normalizedHash === rejected.data.normalizedHash).length >= 4);
    let events = await epoch1(h);
    assert.is(ofType(events, 'OperatorMessageRejected').length, 1, 'recorded once per message');
    assert.is(ofType(events, 'RootCommitRequested').length, 1, 'no new attempt for a refusal');
    const signed = ofType(events, 'OperatorMessageSigned')[0]!;
    h.chain.setNow(signed.data.expiresAt);
    events = await assertSettledOnce(h);
    assert.equal(ofType(events, 'OperatorMessageExpired').map((e) => e.data.normalizedHash), [rejected.data.normalizedHash]);
    assert.is(ofType(events, 'RootCommitRequested').length, 2);
    const ran = ofType(await walletEvents(h), 'OperatorMessageProcessed').map((e) => e.data.normalizedHash);
    assert.not.ok(ran.includes(rejected.data.normalizedHash), 'the refused message never ran');
  } finally {
    await h.close();
  }
});

test('a message accepted for broadcast but never delivered: proven expired in chain time, signed again with a new query_id, paid once', async () => {
  const h = await harness('expired');
  try {
    let lostHash: string | null = null;
    const dropsFirst: ChainSender = {
      async sendMessage(m: Cell) {
        const hash = normalizedMessageHash(m).toString('hex');
        lostHash ??= hash;
        if (hash === lostHash) return { normalizedHash: Buffer.from(hash, 'hex') }; // "accepted", never delivered
        return h.chain.sendMessage(m);
      },
    };
    h.saga(dropsFirst);
    const first = await until('the first signed message', async () => ofType(await epoch1(h), 'OperatorMessageSigned')[0], 120_000, 250);
    await until('its submission', () => lostHash === first.data.normalizedHash);
    // nothing expires before its time: the saga keeps submitting the same message
    assert.is(ofType(await epoch1(h), 'OperatorMessageExpired').length, 0);
    h.chain.setNow(first.data.expiresAt); // the chain's time reaches the expiry
    const events = await assertSettledOnce(h);
    const expired = ofType(events, 'OperatorMessageExpired');
    assert.equal(expired.map((e) => [e.data.step, e.data.attempt, e.data.normalizedHash]), [['commit', 1, first.data.normalizedHash]]);
    assert.ok(expired[0]!.data.chainTime >= first.data.expiresAt);
    const commits = ofType(events, 'OperatorMessageSigned').filter((e) => e.data.step === 'commit');
    assert.equal(commits.map((e) => e.data.attempt), [1, 2]);
    assert.is.not(commits[1]!.data.walletQueryId, commits[0]!.data.walletQueryId, 'a new wallet query_id');
    const ran = ofType(await walletEvents(h), 'OperatorMessageProcessed').map((e) => e.data.normalizedHash);
    assert.not.ok(ran.includes(first.data.normalizedHash), 'the expired message never ran');
    assert.ok(h.logs.some((l) => l.msg === 'operator message expired without running: signing a new attempt'));
  } finally {
    await h.close();
  }
});

test.run();
