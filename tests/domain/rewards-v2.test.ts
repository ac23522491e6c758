/**
 * Reward formula v2 (domain/rewardsV2.ts): the token component counts at most what the network
 * paid (verified tokens), compared cumulatively with two carries per member.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeEpochRewards, DEFAULT_REWARD_PARAMS, RewardsError, type ParticipantContribution } from '../../domain/rewards.ts';
import { computeEpochRewardsV2, creditTokens, DEFAULT_DIVERGENCE_PARAMS, NO_CARRY, type RewardParamsV2, type TokenCarry, type VerifiedContribution } from '../../domain/rewardsV2.ts';
import { prng } from '../support/random.ts';
import { classifySample, EMPTY_TELEMETRY, type Verdict } from '../../domain/telemetry.ts';
import { Process } from '../support/telemetry.ts';

const params: RewardParamsV2 = { ...DEFAULT_REWARD_PARAMS, ...DEFAULT_DIVERGENCE_PARAMS };
const addr = (n: number) => `0:${n.toString(16).padStart(64, '0')}`;
const M = 1_000_000n;
const person = (n: number, claimed: bigint, verified: bigint, carryIn: TokenCarry = NO_CARRY, over: Partial<ParticipantContribution> = {}): VerifiedContribution => ({
  participant: addr(n), adjustedTokens: claimed, tasks: 10, tasksSucceeded: 10, taskMicros: 10_000_000, uptimeMs: 600_000, expectedMs: 600_000,
  reputation: 500, slashed: false, verifiedTokens: verified, carryIn, ...over,
});
const carryOf = (k: { unpaidClaimsOut: bigint; unclaimedPaymentsOut: bigint }): TokenCarry => ({ unpaidClaims: k.unpaidClaimsOut, unclaimedPayments: k.unclaimedPaymentsOut });
const amountOf = (r: { rewards: { participant: string; amount: bigint }[] }, n: number) => r.rewards.find((x) => x.participant === addr(n))?.amount ?? 0n;

test('credited = min(C, V); the difference is carried on one side only', () => {
  const over = creditTokens(addr(1), 30n * M, 10n * M, NO_CARRY, params);
  assert.equal([over.creditedTokens, over.unpaidClaimsOut, over.unclaimedPaymentsOut], [10n * M, 20n * M, 0n]);
  const under = creditTokens(addr(1), 4n * M, 10n * M, { unpaidClaims: 1n * M, unclaimedPayments: 0n }, params);
  assert.equal([under.creditedTokens, under.unpaidClaimsOut, under.unclaimedPaymentsOut], [5n * M, 0n, 5n * M]);
  const paidAhead = creditTokens(addr(1), 7n * M, 0n, { unpaidClaims: 0n, unclaimedPayments: 5n * M }, params);
  assert.equal([paidAhead.creditedTokens, paidAhead.unpaidClaimsOut, paidAhead.unclaimedPaymentsOut], [5n * M, 2n * M, 0n]);
});

test('divergence: unpaid claims beyond grace + tolerance × C, and not one token less', () => {
  // C = 100M: threshold = 20M grace + 20% × 100M = 40M unpaid
  const at = creditTokens(addr(1), 100n * M, 60n * M, NO_CARRY, params);
  assert.is(at.unpaidClaimsOut, 40n * M);
  assert.is(at.divergent, false);
  const beyond = creditTokens(addr(1), 100n * M, 60n * M - 1n, NO_CARRY, params);
  assert.is(beyond.divergent, true);
  assert.is(creditTokens(addr(1), 15n * M, 0n, NO_CARRY, params).divergent, false, 'a payout not yet due (under the grace) is no anomaly');
  assert.is(creditTokens(addr(1), 1n, 0n, NO_CARRY, { divergenceGraceTokens: 0, divergenceToleranceBps: 0 }).divergent, true);
});

test('a member faking counters (claimed ×10) gains nothing beyond what the network paid it', () => {
  // A and B each really serve 10M tokens per epoch and are paid for them; B's workers claim ×10
  const epochs = 4;
  let fakeCarry = NO_CARRY;
  let honestCarry = NO_CARRY;
  let credited = 0n;
  for (let e = 1; e <= epochs; e++) {
    const revenue = 1_000n * M;
    const faking = computeEpochRewardsV2({ revenue, carryIn: 0n, params, contributions: [person(1, 10n * M, 10n * M), person(2, 100n * M, 10n * M, fakeCarry)] });
    const honest = computeEpochRewardsV2({ revenue, carryIn: 0n, params, contributions: [person(1, 10n * M, 10n * M), person(2, 10n * M, 10n * M, honestCarry)] });
    assert.is(amountOf(faking, 2), amountOf(honest, 2), `epoch ${e}: B earns exactly what it earns claiming the truth`);
    assert.is(amountOf(faking, 1), amountOf(honest, 1), `epoch ${e}: A loses nothing to B's fake`);
    const b = faking.credits.find((k) => k.participant === addr(2))!;
    assert.is(b.creditedTokens, 10n * M);
    assert.is(b.divergent, true, 'and the divergence is flagged');
    credited += b.creditedTokens;
    fakeCarry = carryOf(b);
    honestCarry = carryOf(honest.credits.find((k) => k.participant === addr(2))!);
  }
  assert.is(credited, BigInt(epochs) * 10n * M, 'over the run: credited = what the network paid for');
  assert.is(fakeCarry.unpaidClaims, BigInt(epochs) * 90n * M, 'the fake stays an unpaid claim, never credited');
  // under v1 the same fake pays: that is what v2 closes
  const v1 = computeEpochRewards({ revenue: 1_000n * M, carryIn: 0n, params: DEFAULT_REWARD_PARAMS, contributions: [person(1, 10n * M, 0n), person(2, 100n * M, 0n)] });
  assert.ok(amountOf(v1, 2) > amountOf(v1, 1) * 2n);
});

test('a member faking restarts (a fresh process every poll, re-claiming thousands of requests) gains nothing beyond what the network paid it', () => {
  // both workers really serve one 100-token request a second; B's worker presents a "restarted"
  // process at every poll, every total and decayed rate reset together, each a little below the
  // last, so the telemetry checks credit each sample in full as a genuine restart
  const limits = { maxAdjustedTokensPerSecond: 10_000 };
  const T0 = 1_000_000;
  const honestProcess = new Process(T0).steady(T0, T0 + 60);
  let honest = EMPTY_TELEMETRY;
  let faker = EMPTY_TELEMETRY;
  let honestClaim = 0;
  let fakeClaim = 0;
  const creditedOf = (v: Verdict) => (v.kind === 'continued' || v.kind === 'restarted' ? v.adjustedTokens : 0);
  for (let poll = 1; poll <= 10; poll++) {
    const at = T0 + 60 * poll;
    honestProcess.steady(at - 60, at);
    const h = classifySample(honest, honestProcess.sample(at), limits);
    honest = h.state;
    honestClaim += creditedOf(h.verdict);
    const fake = new Process(at - 30).work(at - 20, 3000 - poll);
    const f = classifySample(faker, fake.sample(at), limits);
    faker = f.state;
    if (poll > 1) assert.is(f.verdict.kind, 'restarted', `poll ${poll}: the fake passes as a restart`);
    fakeClaim += creditedOf(f.verdict);
  }
  const served = 9 * 60 * 100; // tokens each really served after the first (baseline) poll
  assert.is(honestClaim, served);
  assert.ok(fakeClaim > 40 * served, `B claims ${fakeClaim} tokens for ${served} served`);
  // the network pays each of them for what it served: verified = served
  const contributions = (bClaim: number) => [person(1, BigInt(served), BigInt(served)), person(2, BigInt(bClaim), BigInt(served))];
  const withFake = computeEpochRewardsV2({ revenue: 1_000n * M, carryIn: 0n, params, contributions: contributions(fakeClaim) });
  const truthful = computeEpochRewardsV2({ revenue: 1_000n * M, carryIn: 0n, params, contributions: contributions(served) });
  assert.is(amountOf(withFake, 2), amountOf(truthful, 2), 'B earns what it earns telling the truth');
  assert.is(amountOf(withFake, 1), amountOf(truthful, 1), 'A loses nothing');
  const b = withFake.credits.find((k) => k.participant === addr(2))!;
  assert.equal([b.creditedTokens, b.unpaidClaimsOut], [BigInt(served), BigInt(fakeClaim - served)], 'the fake stays an unpaid claim (under the 20M-token grace here, so not yet flagged)');
  // formula 1 would have paid the fake
  const v1 = computeEpochRewards({ revenue: 1_000n * M, carryIn: 0n, params: DEFAULT_REWARD_PARAMS, contributions: contributions(fakeClaim) });
  assert.ok(amountOf(v1, 2) > amountOf(truthful, 2), 'under v1 the fake pays');
});

test('a faked payout claim does not help either: tokens only count once paid, even carried over', () => {
  // B claims 50M in epoch 1, never paid; then it serves honestly and is paid for exactly what it claims
  const first = computeEpochRewardsV2({ revenue: 1_000n * M, carryIn: 0n, params, contributions: [person(1, 10n * M, 10n * M), person(2, 50n * M, 0n)] });
  const b1 = first.credits.find((k) => k.participant === addr(2))!;
  assert.is(b1.creditedTokens, 0n);
  const second = computeEpochRewardsV2({ revenue: 1_000n * M, carryIn: 0n, params, contributions: [person(1, 10n * M, 10n * M), person(2, 10n * M, 10n * M, carryOf(b1))] });
  const b2 = second.credits.find((k) => k.participant === addr(2))!;
  assert.equal([b2.creditedTokens, b2.unpaidClaimsOut], [10n * M, 50n * M], 'the old fake claim stays unpaid; only paid tokens are credited');
});

test('honest lagging payouts are credited the epoch they arrive, and raise no anomaly', () => {
  // a member serving 5M tokens per epoch is paid once 15M are owed (the proxy's 10 TON threshold)
  const served = [5n * M, 5n * M, 5n * M, 5n * M, 5n * M, 5n * M];
  const paid = [0n, 0n, 15n * M, 0n, 0n, 15n * M];
  let carry = NO_CARRY;
  const credited: bigint[] = [];
  for (let e = 0; e < served.length; e++) {
    const r = computeEpochRewardsV2({ revenue: 100n * M, carryIn: 0n, params, contributions: [person(1, served[e]!, paid[e]!, carry), person(2, 5n * M, 5n * M)] });
    const k = r.credits.find((x) => x.participant === addr(1))!;
    assert.is(k.divergent, false, `epoch ${e + 1}`);
    credited.push(k.creditedTokens);
    carry = carryOf(k);
  }
  assert.equal(credited, [0n, 0n, 15n * M, 0n, 0n, 15n * M]);
  assert.equal(carry, NO_CARRY);
  // a payment indexed before the claim it pays (the poll lags the chain) is carried the other way
  const early = creditTokens(addr(1), 0n, 15n * M, NO_CARRY, params);
  const late = creditTokens(addr(1), 15n * M, 0n, carryOf(early), params);
  assert.equal([early.creditedTokens, late.creditedTokens, late.unpaidClaimsOut, late.unclaimedPaymentsOut], [0n, 15n * M, 0n, 0n]);
});

test('carries conserve tokens over any run: Σcredited + unpaid = Σclaimed, Σcredited + unclaimed = Σverified, one carry 0', () => {
  const rand = prng(11);
  for (let run = 0; run < 200; run++) {
    let carry = NO_CARRY;
    let [claimed, verified, credited] = [0n, 0n, 0n];
    for (let e = 0; e < 12; e++) {
      const c = BigInt(Math.floor(rand() * 4)) * BigInt(Math.floor(rand() * 1e9));
      const v = BigInt(Math.floor(rand() * 4)) * BigInt(Math.floor(rand() * 1e9));
      const k = creditTokens(addr(1), c, v, carry, params);
      assert.ok(k.unpaidClaimsOut === 0n || k.unclaimedPaymentsOut === 0n);
      assert.ok(k.unpaidClaimsOut >= 0n && k.unclaimedPaymentsOut >= 0n);
      [claimed, verified, credited] = [claimed + c, verified + v, credited + k.creditedTokens];
      carry = carryOf(k);
      assert.is(credited + carry.unpaidClaims, claimed);
      assert.is(credited + carry.unclaimedPayments, verified);
    }
  }
});

test('v2 with every claim paid for splits exactly as v1; money conserves', () => {
  const rand = prng(5);
  for (let run = 0; run < 50; run++) {
    const people = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, i) => {
      const t = BigInt(Math.floor(rand() * 1e12));
      return person(i + 1, t, t + BigInt(Math.floor(rand() * 3)), NO_CARRY, { uptimeMs: Math.floor(rand() * 600_000), tasks: 10, tasksSucceeded: Math.floor(rand() * 11), reputation: Math.floor(rand() * 1001) });
    });
    const revenue = BigInt(Math.floor(rand() * 1e15));
    const v1 = computeEpochRewards({ revenue, carryIn: 7n, params: DEFAULT_REWARD_PARAMS, contributions: people });
    const v2 = computeEpochRewardsV2({ revenue, carryIn: 7n, params, contributions: people });
    const { credits, ...split } = v2;
    assert.equal(split, v1);
    assert.is(v2.operatorFee + v2.rewardsTotal + v2.slashed + v2.carryOut, revenue + 7n);
    assert.is(credits.length, people.length);
  }
});

test('negative tokens or carries are refused', () => {
  assert.throws(() => creditTokens(addr(1), -1n, 0n, NO_CARRY, params), (e: unknown) => e instanceof RewardsError);
  assert.throws(() => creditTokens(addr(1), 0n, 0n, { unpaidClaims: 0n, unclaimedPayments: -1n }, params), (e: unknown) => e instanceof RewardsError);
});

test.run();
