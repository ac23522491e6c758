import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { afterFailure, afterSample, sampleDelta, type CounterSample } from '../../domain/contribution.ts';

const s = (observedAtMs: number, totalAdjustedTokens: number, queries = totalAdjustedTokens / 100, gitCommit = 'abc'): CounterSample => ({
  observedAtMs, totalAdjustedTokens, queries, gitCommit,
});

test('the first sample is a baseline: work before the pool watched does not count', () => {
  assert.equal(sampleDelta(null, s(1000, 6_700_000), 30_000), { adjustedTokens: 0, uptimeMs: 0, restarted: false });
});

test('delta of cumulative totals between successful polls, uptime credited and capped', () => {
  const prev = afterSample(s(10_000, 1000));
  assert.equal(sampleDelta(prev, s(20_000, 1500), 30_000), { adjustedTokens: 500, uptimeMs: 10_000, restarted: false });
  assert.equal(sampleDelta(prev, s(110_000, 1500), 30_000), { adjustedTokens: 500, uptimeMs: 30_000, restarted: false });
});

test('a total going down is a restart: the new total is the work since it', () => {
  const prev = afterSample(s(10_000, 5000, 50));
  assert.equal(sampleDelta(prev, s(20_000, 300, 3), 30_000), { adjustedTokens: 300, uptimeMs: 10_000, restarted: true });
});

test('a git_commit change is a restart even when totals grew past the old ones', () => {
  const prev = afterSample(s(10_000, 5000, 50, 'old'));
  assert.equal(sampleDelta(prev, s(20_000, 7000, 70, 'new'), 30_000)?.adjustedTokens, 7000);
  // same counters, same commit: ordinary delta
  assert.equal(sampleDelta(prev, s(20_000, 7000, 70, 'old'), 30_000)?.adjustedTokens, 2000);
});

test('queries going down while tokens grew is a restart too', () => {
  const prev = afterSample(s(10_000, 5000, 50));
  const d = sampleDelta(prev, s(20_000, 6000, 2), 30_000);
  assert.is(d?.restarted, true);
  assert.is(d?.adjustedTokens, 6000);
});

test('a failed poll: no uptime for the gap after it, tokens continue from the last totals', () => {
  const prev = afterSample(s(10_000, 1000));
  const failed = afterFailure(prev, 15_000)!;
  assert.is(failed.online, false);
  assert.equal(sampleDelta(failed, s(20_000, 1600), 30_000), { adjustedTokens: 600, uptimeMs: 0, restarted: false });
});

test('a duplicate or older sample is ignored', () => {
  const prev = afterSample(s(10_000, 1000));
  assert.is(sampleDelta(prev, s(10_000, 1000), 30_000), null);
  assert.is(sampleDelta(prev, s(9_000, 900), 30_000), null);
  assert.is(afterFailure(prev, 5_000), prev);
  assert.is(afterFailure(null, 5_000), null);
});

test('%.6f doubles are rounded to whole tokens', () => {
  const prev = afterSample(s(10_000, 1000.000001));
  assert.is(sampleDelta(prev, s(20_000, 1500.000001), 30_000)?.adjustedTokens, 500);
});

test.run();
