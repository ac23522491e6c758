import { headers } from '@nats-io/transport-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventValidationError, type PoolEvent } from '../../schemas/catalog.ts';
import { ConcurrencyError, type EventBatch, type InvalidEvent } from '../../streams/eventStore.ts';
import { sleep } from '../../runtime/sleep.ts';
import { revenue, task } from '../support/events.ts';
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

test('following live, the events that arrived while the reader was busy come as one batch, not one each', async () => {
  const from = (await nats.store.lastSequence()) + 1;
  const ctl = new AbortController();
  const it = nats.store.subscribe({ fromSequence: from, types: ['PoolRevenueReceived'], signal: ctl.signal, batchSize: 500 })[Symbol.asyncIterator]();
  await nats.store.append('pool.chain.distribution', revenue(70_000, 1n));
  const first = await it.next();
  assert.is((first.value as EventBatch).events.length, 1);
  // the reader is busy (it does not ask for the next batch) while 300 events arrive one by one
  for (let i = 1; i <= 300; i++) await nats.store.append('pool.chain.distribution', revenue(70_000 + i, 1n));
  await sleep(1000); // delivered into the consumer's buffer meanwhile
  const sizes: number[] = [];
  while (sizes.reduce((a, b) => a + b, 0) < 300) sizes.push(((await it.next()).value as EventBatch).events.length);
  ctl.abort();
  await it.return?.(undefined);
  assert.ok(sizes.length <= 3, `300 buffered events came in ${sizes.length} batches (${sizes.slice(0, 10).join(', ')}…)`);
});

test('subscribe aborted while it is still creating its consumer ends (a saga stopped during start-up stops)', async () => {
  const ctl = new AbortController();
  const it = nats.store.subscribe({ types: ['DistributionPaused'], signal: ctl.signal })[Symbol.asyncIterator]();
  const next = it.next(); // the generator now awaits the consumer's creation (nothing of that type is stored: no message will wake it)
  ctl.abort();
  const ended = await Promise.race([next, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
  assert.equal(ended, { done: true, value: undefined });
});

test('lastOnSubject returns the newest event or null', async () => {
  assert.is(await nats.store.lastOnSubject('pool.epoch.404'), null);
  const last = await nats.store.lastOnSubject('pool.epoch.2');
  assert.is(last?.id, '2:closing');
});

/** Publishes `event` raw (around the store's checks) with the given event headers. */
async function publishRaw(subject: string, event: PoolEvent, type: string | null = event.type, version: string | null = String(event.version)): Promise<number> {
  const h = headers();
  if (type !== null) h.set('Pool-Event-Type', type);
  if (version !== null) h.set('Pool-Event-Version', version);
  return (await nats.js.publish(subject, new TextEncoder().encode(JSON.stringify(event)), { headers: h })).seq;
}

test('forged messages (another aggregate\'s subject, another context, headers that disagree) are invalid and not delivered', async () => {
  const from = (await nats.store.lastSequence()) + 1;
  const forged = [
    // a TaskCompleted of worker A on worker B's subject (the case)
    { seq: await publishRaw('pool.work.wB', task('wA', 901)), reason: /TaskCompleted on subject pool\.work\.wB: its data belongs on pool\.work\.wA/ },
    // an epoch decision on a work subject
    { seq: await publishRaw('pool.work.w1', opened(77)), reason: /EpochOpened on subject pool\.work\.w1: its data belongs on pool\.epoch\.77/ },
    // a chain event (its data does not name the subject's contract) outside the chain context
    { seq: await publishRaw('pool.epoch.1', revenue(901, 5n)), reason: /PoolRevenueReceived on subject pool\.epoch\.1: it belongs on pool\.chain\./ },
    // header type and body type differ
    { seq: await publishRaw('pool.work.wA', task('wA', 902), 'WorkerStatsSampled'), reason: /Pool-Event-Type "WorkerStatsSampled".*body's TaskCompleted v1/ },
    // header version differs, and no event headers at all
    { seq: await publishRaw('pool.work.wA', task('wA', 903), 'TaskCompleted', '2'), reason: /Pool-Event-Version "2"/ },
    { seq: await publishRaw('pool.work.wA', task('wA', 904), null, null), reason: /Pool-Event-Type "" \/ Pool-Event-Version ""/ },
  ];
  const good = await nats.store.append('pool.work.wA', task('wA', 905));
  const quarantined: InvalidEvent[] = [];
  const delivered: string[] = [];
  for await (const b of nats.store.read({ fromSequence: from, onInvalid: async (i) => void quarantined.push(i) })) delivered.push(...b.events.map((e) => e.id));
  assert.equal(delivered, [task('wA', 905).id]);
  assert.equal(quarantined.map((q) => q.sequence), forged.map((f) => f.seq));
  for (const [i, f] of forged.entries()) assert.match(quarantined[i]!.reason, f.reason);
  assert.ok(good.sequence > forged.at(-1)!.seq);
  // the point reads refuse it too
  try {
    await nats.store.lastOnSubject('pool.work.wB');
    assert.unreachable('lastOnSubject returned a forged event');
  } catch (err) {
    assert.instance(err, EventValidationError);
  }
});

test('append refuses an event on a subject that is not its own, and stores nothing', async () => {
  const before = await nats.store.lastSequence();
  for (const [subject, event] of [['pool.work.w2', task('w1', 950)], ['pool.telemetry.w1', task('w1', 951)], ['pool.epoch.3', opened(4)], ['pool.alerts.distribution', revenue(952, 1n)]] as const) {
    try {
      await nats.store.append(subject, event);
      assert.unreachable(`appended ${event.type} to ${subject}`);
    } catch (err) {
      assert.instance(err, EventValidationError);
      assert.match(String(err), new RegExp(`${event.type} on subject ${subject.replace(/\./g, '\\.')}`));
    }
  }
  try {
    await nats.store.appendMany([{ subject: 'pool.work.w1', event: task('w1', 953) }, { subject: 'pool.work.w3', event: task('w1', 954) }]);
    assert.unreachable('appendMany stored an event on another worker\'s subject');
  } catch (err) {
    assert.instance(err, EventValidationError);
  }
  assert.is(await nats.store.lastSequence(), before);
});

test.run();
