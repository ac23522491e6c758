import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { afterFailure, afterSample, sampleDelta, type CounterState } from '../../domain/contribution.ts';
import {
  classifySample,
  COUNTER_KEYS,
  EMPTY_TELEMETRY,
  type TelemetrySample,
  type TelemetryState,
  type Verdict,
} from '../../domain/telemetry.ts';
import { OWNER, Process } from '../support/telemetry.ts';

const LIMITS = { maxAdjustedTokensPerSecond: 10_000 };
/** Feeds samples in order from an empty state; returns each verdict and the final state. */
function run(samples: TelemetrySample[], limits = LIMITS): { verdicts: Verdict[]; state: TelemetryState } {
  let state = EMPTY_TELEMETRY;
  const verdicts: Verdict[] = [];
  for (const s of samples) {
    const c = classifySample(state, s, limits);
    verdicts.push(c.verdict);
    state = c.state;
  }
  return { verdicts, state };
}
const kinds = (vs: Verdict[]) => vs.map((v) => (v.kind === 'anomaly' ? `anomaly:${v.reason}` : v.kind));
const credited = (vs: Verdict[]) => vs.reduce((sum, v) => sum + (v.kind === 'continued' || v.kind === 'restarted' ? v.adjustedTokens : 0), 0);
const withTotals = (s: TelemetrySample, totals: Partial<TelemetrySample['totals']>, atMs = s.observedAtMs + 2000): TelemetrySample => ({
  ...s,
  observedAtMs: atMs,
  totals: { ...s.totals, ...totals },
});

const T0 = 1_000_000; // seconds

test('the first sample is a baseline: work before the pool watched does not count', () => {
  const p = new Process(T0).steady(T0, T0 + 3600);
  const { verdicts } = run([p.sample(T0 + 3600)]);
  assert.equal(verdicts, [{ kind: 'first' }]);
});

test('a running process: the delta of its totals is credited', () => {
  const p = new Process(T0).steady(T0, T0 + 3600);
  const first = p.sample(T0 + 3600);
  p.work(T0 + 3601, 7);
  const { verdicts } = run([first, p.sample(T0 + 3602)]);
  assert.equal(verdicts[1], { kind: 'continued', adjustedTokens: 700 });
});

test('T−1 after T is an anomaly, credits nothing, and the next good sample counts from T', () => {
  const p = new Process(T0).steady(T0, T0 + 3600);
  const t = p.sample(T0 + 3600);
  const tMinus1 = withTotals(t, { totalAdjustedTokens: t.totals.totalAdjustedTokens - 1 });
  p.work(T0 + 3604, 1, 5);
  const { verdicts } = run([t, tMinus1, p.sample(T0 + 3605)]);
  assert.equal(kinds(verdicts), ['first', 'anomaly:counter-decreased', 'continued']);
  assert.is(credited(verdicts), 5);
  assert.match((verdicts[1] as { detail: string }).detail, /totalAdjustedTokens 360000 → 359999 without a restart/);
});

test('git_commit flapping every poll credits exactly the real work, never the running total again', () => {
  const p = new Process(T0).steady(T0, T0 + 600);
  const samples: TelemetrySample[] = [];
  for (let i = 0; i < 56; i++) {
    const at = T0 + 600 + i * 2;
    if (i > 0) p.work(at - 1, 1, 100 / 55);
    samples.push(p.sample(at, { gitCommit: i % 2 ? 'flap-a' : 'b75d4447' }));
  }
  const { verdicts } = run(samples);
  assert.ok(kinds(verdicts).filter((k) => k === 'anomaly:commit-changed').length >= 27);
  assert.not.ok(verdicts.some((v) => v.kind === 'restarted'));
  // 100 real tokens over the polls: at most 100 credited (the last flapped sample's work comes later)
  assert.ok(credited(verdicts) <= 100 && credited(verdicts) >= 97, `credited ${credited(verdicts)}`);
});

test('values of 2^63 and beyond are implausible: 2^70 and 1e23 credit nothing', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const base = p.sample(T0 + 60);
  for (const v of [2 ** 70, 1e23, 2 ** 63]) {
    const { verdicts, state } = run([base, withTotals(base, { totalAdjustedTokens: v })]);
    assert.is(kinds(verdicts)[1], 'anomaly:implausible-value', String(v));
    assert.equal(state.baseline?.totals, base.totals);
  }
  const bytes = run([base, withTotals(base, { bytesSent: 2 ** 70 })]);
  assert.is(kinds(bytes.verdicts)[1], 'anomaly:implausible-value');
  const first = run([withTotals(base, { queries: 1e23 })]);
  assert.equal(kinds(first.verdicts), ['anomaly:implausible-value']);
  assert.is(first.state.baseline, null);
});

test('a jump over the per-worker ceiling is an anomaly; the work is credited once the time since the baseline covers it', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const base = p.sample(T0 + 60);
  p.work(T0 + 61, 300); // 30,000 tokens in 2 s: over 10,000/s
  const jump = p.sample(T0 + 62);
  const later = p.sample(T0 + 64); // 30,000 in 4 s: under
  const { verdicts } = run([base, jump, later]);
  assert.equal(kinds(verdicts), ['first', 'anomaly:over-ceiling', 'continued']);
  assert.is(credited(verdicts), 30_000);
  // one poll never takes an epoch: 10^15 tokens claimed after one poll interval
  const epoch = run([base, withTotals(base, { totalAdjustedTokens: 1e15 })]);
  assert.is(kinds(epoch.verdicts)[1], 'anomaly:over-ceiling');
});

test('a real restart: every total and every decayed rate reset together, the new total is credited', () => {
  const old = new Process(T0).steady(T0, T0 + 7200);
  const before = old.sample(T0 + 7200);
  const fresh = new Process(T0 + 7200.5).work(T0 + 7201, 3).work(T0 + 7201.5, 2);
  const { verdicts } = run([before, fresh.sample(T0 + 7202)]);
  assert.equal(verdicts[1], { kind: 'restarted', adjustedTokens: 500 });
  // an upgrade: new git_commit with the reset
  const upgraded = new Process(T0 + 7200.5, 'c0ffee').work(T0 + 7201, 1);
  assert.equal(run([before, upgraded.sample(T0 + 7202)]).verdicts[1], { kind: 'restarted', adjustedTokens: 100 });
  // an idle restart: everything zero
  assert.equal(run([before, new Process(T0 + 7201).sample(T0 + 7202)]).verdicts[1], { kind: 'restarted', adjustedTokens: 0 });
  // after the pool was away for a day the restarted process may be hours old
  const away = new Process(T0 + 7200 + 50_000).steady(T0 + 7200 + 50_000, T0 + 7200 + 80_000, 10);
  const v = run([before, away.sample(T0 + 7200 + 86_400)]).verdicts[1]!;
  assert.is(v.kind, 'restarted');
});

test('a partial reset is an anomaly: tokens back to 0 while queries go on', () => {
  const p = new Process(T0).steady(T0, T0 + 3600);
  const before = p.sample(T0 + 3600);
  p.work(T0 + 3601, 1);
  const s = p.sample(T0 + 3602);
  const partial = { ...s, totals: { ...s.totals, totalAdjustedTokens: 100, promptAdjustedTokens: 50, completionAdjustedTokens: 50 } };
  const { verdicts } = run([before, partial]);
  assert.is(kinds(verdicts)[1], 'anomaly:counter-decreased');
});

test('totals reset but decayed rates of the old process kept: an anomaly', () => {
  const p = new Process(T0).steady(T0, T0 + 3600);
  const before = p.sample(T0 + 3600);
  const zeros = Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0])) as TelemetrySample['totals'];
  const faked = { ...p.sample(T0 + 3602), totals: zeros };
  assert.is(kinds(run([before, faked]).verdicts)[1], 'anomaly:counter-decreased');
  // and a git_commit change with totals that kept growing: not a restart
  p.work(T0 + 3603, 1);
  assert.is(kinds(run([before, p.sample(T0 + 3604, { gitCommit: 'other' })]).verdicts)[1], 'anomaly:commit-changed');
});

test('a restart that claims more than the ceiling allows since the previous poll is an anomaly', () => {
  const before = new Process(T0).steady(T0, T0 + 3600).sample(T0 + 3600);
  const fresh = new Process(T0 + 3600.2).work(T0 + 3601, 500); // 50,000 tokens in 2 s
  assert.is(kinds(run([before, fresh.sample(T0 + 3602)]).verdicts)[1], 'anomaly:over-ceiling');
});

test('an owner change or another worker answering: nothing credited, not even after it is back', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const other = `0:${'c'.repeat(64)}`;
  const samples = [p.sample(T0 + 60)];
  p.work(T0 + 61, 5);
  samples.push(p.sample(T0 + 62, { ownerAddress: other }));
  p.work(T0 + 63, 5);
  samples.push(p.sample(T0 + 64, { ownerAddress: other }));
  samples.push(p.sample(T0 + 66)); // back: a new baseline, the 1,000 tokens done meanwhile are not credited
  p.work(T0 + 67, 1);
  samples.push(p.sample(T0 + 68));
  const { verdicts, state } = run(samples);
  assert.equal(kinds(verdicts), ['first', 'anomaly:owner-changed', 'anomaly:owner-changed', 'first', 'continued']);
  assert.is(credited(verdicts), 100);
  assert.is(state.ownerAddress, OWNER);

  const wallet = run([p.sample(T0 + 70), p.sample(T0 + 72, { walletAddress: `0:${'d'.repeat(64)}` }), p.sample(T0 + 74, { walletAddress: null })]);
  assert.equal(kinds(wallet.verdicts), ['first', 'anomaly:identity-changed', 'first']);
});

test('events recorded before rates were kept: a restart needs every positive total to go down', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const before = { ...p.sample(T0 + 60), rates: null };
  const zeros = Object.fromEntries(COUNTER_KEYS.map((k) => [k, 0])) as TelemetrySample['totals'];
  assert.equal(run([before, { ...withTotals(before, zeros), rates: null }]).verdicts[1], { kind: 'restarted', adjustedTokens: 0 });
  assert.is(kinds(run([before, withTotals(before, { totalAdjustedTokens: 1 })]).verdicts)[1], 'anomaly:counter-decreased');
});

test('%.6f doubles: credits are differences of rounded totals, so they telescope exactly', () => {
  const p = new Process(T0);
  const samples: TelemetrySample[] = [p.sample(T0)];
  for (let i = 1; i <= 10; i++) {
    p.work(T0 + i - 0.5, 1, 0.4);
    samples.push(p.sample(T0 + i));
  }
  assert.is(credited(run(samples).verdicts), Math.round(samples.at(-1)!.totals.totalAdjustedTokens));
});

// ---- sampleDelta: tokens from the classification, uptime from the heartbeat ----

const state = (s: TelemetrySample, online = true): CounterState => {
  const c = sampleDelta(null, s, 30_000, LIMITS)!;
  return { ...afterSample(s, c), online };
};

test('sampleDelta: uptime credited and capped; an anomaly credits no tokens', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const first = p.sample(T0 + 60);
  assert.equal(sampleDelta(null, first, 30_000, LIMITS)?.adjustedTokens, 0);
  const prev = state(first);
  p.work(T0 + 65, 5);
  const d = sampleDelta(prev, p.sample(T0 + 70), 30_000, LIMITS)!;
  assert.equal([d.adjustedTokens, d.uptimeMs, d.restarted], [500, 10_000, false]);
  assert.is(sampleDelta(prev, p.sample(T0 + 160), 30_000, LIMITS)?.uptimeMs, 30_000);
  const bad = sampleDelta(prev, withTotals(first, { totalAdjustedTokens: 2 ** 70 }), 30_000, LIMITS)!;
  assert.equal([bad.adjustedTokens, bad.verdict.kind], [0, 'anomaly']);
});

test('sampleDelta: a failed poll credits no uptime for the gap after it, tokens continue', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const prev = state(p.sample(T0 + 60));
  const failed = afterFailure(prev, (T0 + 65) * 1000)!;
  assert.is(failed.online, false);
  p.work(T0 + 66, 6);
  const d = sampleDelta(failed, p.sample(T0 + 70), 30_000, LIMITS)!;
  assert.equal([d.adjustedTokens, d.uptimeMs], [600, 0]);
});

test('sampleDelta: a duplicate or older sample is ignored', () => {
  const p = new Process(T0).steady(T0, T0 + 60);
  const s = p.sample(T0 + 60);
  const prev = state(s);
  assert.is(sampleDelta(prev, s, 30_000, LIMITS), null);
  assert.is(sampleDelta(prev, { ...s, observedAtMs: s.observedAtMs - 1000 }, 30_000, LIMITS), null);
  assert.is(afterFailure(prev, 5_000), prev);
  assert.is(afterFailure(null, 5_000), null);
});

test.run();
