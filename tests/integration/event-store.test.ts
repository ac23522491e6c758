import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { ConcurrencyError, type InvalidEvent } from '../../streams/eventStore.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
test.before(async () => {
  nats = await startTestNats();
});
test.after(async () => {
  await nats.stop();
});

const opened = (epochId: number): PoolEvent => ({
  type: 'EpochOpened',
  version: 1,
  id: `${epochId}:opened`,
  data: { epochId, startedAtMs: 1_000, endsAtMs: 2_000 },
});

test('an event appended twice with the same Nats-Msg-Id is stored once', async () => {
  const a = await nats.store.append('pool.epoch.1', opened(1));
  const b = await nats.store.append('pool.epoch.1', opened(1));
  assert.is(a.duplicate, false);
  assert.is(b.duplicate, true);
  assert.is(b.sequence, a.sequence);
  const all = await nats.store.readSubject('pool.epoch.1');
  assert.is(all.length, 1);
  assert.is(all[0]!.type, 'EpochOpened');
  assert.is(all[0]!.sequence, a.sequence);
});

test('a conflicting expect.lastSubjectSequence is rejected and stores nothing', async () => {
  const first = await nats.store.append('pool.epoch.2', opened(2), { expectedLastSubjectSequence: 0 });
  const closing: PoolEvent = { type: 'EpochClosing', version: 1, id: '2:closing', data: { epochId: 2, closedAtMs: 2_000 } };
  await nats.store.append('pool.epoch.2', closing, { expectedLastSubjectSequence: first.sequence });
  // a second instance deciding from the same (now stale) state
  const rival: PoolEvent = { type: 'EpochClosing', version: 1, id: '2:closing-rival', data: { epochId: 2, closedAtMs: 2_500 } };
  try {
    await nats.store.append('pool.epoch.2', rival, { expectedLastSubjectSequence: first.sequence });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ConcurrencyError);
  }
  // expecting an empty subject where there is history is refused too
  try {
    await nats.store.append('pool.epoch.2', { ...opened(2), id: '2:opened-again' }, { expectedLastSubjectSequence: 0 });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, ConcurrencyError);
  }
  const events = await nats.store.readSubject('pool.epoch.2');
  assert.equal(events.map((e) => e.id), ['2:opened', '2:closing']);
});

test('an invalid event is refused before it reaches the stream', async () => {
  const before = await nats.store.lastSequence();
  try {
    await nats.store.append('pool.epoch.3', { type: 'EpochOpened', version: 1, id: 'x', data: { epochId: 0, startedAtMs: 1, endsAtMs: 2 } } as PoolEvent);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.match(String(err), /epochId/);
  }
  assert.is(await nats.store.lastSequence(), before);
});

test('read filters by type, batches, reports the covered position and quarantines garbage', async () => {
  // garbage published around the store (e.g. by a foreign client)
  await nats.js.publish('pool.work.w9', new TextEncoder().encode('{not json'));
  const items = Array.from({ length: 25 }, (_, i) => ({
    subject: 'pool.work.w1',
    event: {
      type: 'TaskCompleted',
      version: 1,
      id: `task:${i.toString(16).padStart(64, '0')}`,
      data: {
        workerId: 'w1', requestId: i.toString(16).padStart(64, '0'), success: true, seconds: 1.5, payloadParts: 1, payloadBytes: 10,
        promptTokens: 1, cachedTokens: 0, completionTokens: 2, reasoningTokens: 0, totalTokens: 3, loggedAtMs: null, observedAtMs: 5,
      },
    } as PoolEvent,
  }));
  const acks = await nats.store.appendMany(items);
  assert.equal(acks.map((a) => a.sequence), [...acks.map((a) => a.sequence)].sort((x, y) => x - y));
  const last = await nats.store.lastSequence();
  const quarantined: InvalidEvent[] = [];
  const batches = [];
  for await (const b of nats.store.read({ types: ['TaskCompleted'], batchSize: 10, onInvalid: async (i) => void quarantined.push(i) })) batches.push(b);
  assert.is(batches.reduce((s, b) => s + b.events.length, 0), 25);
  assert.ok(batches.length >= 3);
  assert.is(batches.at(-1)!.lastSequence, last);
  assert.is(quarantined.length, 1);
  assert.is(quarantined[0]!.subject, 'pool.work.w9');
  // an empty filter result ends at once
  const none = [];
  for await (const b of nats.store.read({ types: ['WorkerBound'] })) none.push(b);
  assert.is(none.length, 0);
});

test('subscribe delivers events appended after it started, until aborted', async () => {
  const ctl = new AbortController();
  const from = (await nats.store.lastSequence()) + 1;
  const seen: string[] = [];
  const done = (async () => {
    for await (const b of nats.store.subscribe({ fromSequence: from, types: ['EpochOpened'], signal: ctl.signal })) {
      seen.push(...b.events.map((e) => e.id));
      if (seen.length >= 2) ctl.abort();
    }
  })();
  await nats.store.append('pool.epoch.10', opened(10));
  await nats.store.append('pool.epoch.11', opened(11));
  await done;
  assert.equal(seen, ['10:opened', '11:opened']);
});

test('lastOnSubject returns the newest event or null', async () => {
  assert.is(await nats.store.lastOnSubject('pool.epoch.404'), null);
  const last = await nats.store.lastOnSubject('pool.epoch.2');
  assert.is(last?.id, '2:closing');
});

test.run();
