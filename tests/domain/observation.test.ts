import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { observationDelta, observedMs } from '../../domain/observation.ts';
import { isEligible } from '../../domain/rewards.ts';

const beat = (atMs: number, validForMs = 6_000) => ({ atMs, validForMs });
/** heartbeats every `every` ms over [from, to] */
const running = (from: number, to: number, every = 2_000) => Array.from({ length: Math.floor((to - from) / every) + 1 }, (_, i) => beat(from + i * every));

test('a pool running the whole time observes the whole time', () => {
  assert.is(observedMs(running(0, 60_000)), 60_000);
});

test('a crash: observation ends when the last heartbeat\'s promise runs out; the time until the next start is the outage', () => {
  // up 0..10 s, crashed, restarted at 50 s, up until 60 s
  const beats = [...running(0, 10_000), ...running(50_000, 60_000)];
  assert.is(observedMs(beats), 10_000 + 6_000 + 10_000);
});

test('a clean stop promises nothing: only the time up to it is observed', () => {
  const beats = [...running(0, 10_000), beat(11_000, 0), ...running(50_000, 60_000)];
  assert.is(observedMs(beats), 11_000 + 10_000);
});

test('heartbeats late but within their promise are all observed; a duplicate or an older one counts nothing', () => {
  assert.is(observedMs([beat(0), beat(5_000), beat(5_000), beat(4_000), beat(9_000)]), 9_000);
  assert.is(observationDelta(null, beat(7)), 0);
  assert.is(observationDelta(beat(10), beat(10)), null);
  assert.is(observationDelta(beat(10, 3), beat(100)), 3);
});

test('a worker up whenever the pool was up stays eligible when the pool was down most of the epoch', () => {
  // 60 s epoch, pool up 10 s at the start and 6 s at the end: a worker credited for 13 s of it
  const observed = observedMs([...running(0, 10_000), ...running(54_000, 60_000)]);
  assert.is(observed, 10_000 + 6_000 + 6_000);
  assert.ok(isEligible({ uptimeMs: 13_000, expectedMs: observed }, 5_000));
  // against wall time, as before, it was not
  assert.not.ok(isEligible({ uptimeMs: 13_000, expectedMs: 60_000 }, 5_000));
});

test.run();
