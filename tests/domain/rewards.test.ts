import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  computeEpochRewards,
  DEFAULT_REWARD_PARAMS,
  isEligible,
  qualityPpm,
  RewardsError,
  type ParticipantContribution,
} from '../../domain/rewards.ts';
import { prng, randomBigInt } from '../support/random.ts';

const addr = (n: number) => `0:${n.toString(16).padStart(64, '0')}`;
const person = (n: number, over: Partial<ParticipantContribution> = {}): ParticipantContribution => ({
  participant: addr(n),
  adjustedTokens: 1000n,
  tasks: 10,
  tasksSucceeded: 10,
  taskMicros: 10_000_000,
  uptimeMs: 600_000,
  expectedMs: 600_000,
  reputation: 500,
  slashed: false,
  ...over,
});

test('equal contributors split equally after the 5% fee; leaves ordered by address', () => {
  const r = computeEpochRewards({ revenue: 1_000_000n, carryIn: 0n, params: DEFAULT_REWARD_PARAMS, contributions: [person(2), person(1)] });
  assert.is(r.operatorFee, 50_000n);
  assert.equal(r.rewards.map((x) => [x.participant, x.amount]), [[addr(1), 475_000n], [addr(2), 475_000n]]);
  assert.is(r.rewardsTotal + r.operatorFee, 1_000_000n);
  assert.is(r.eligible, 2);
});

test('tokens weigh 50%: double tokens, all else equal, earns more but not double', () => {
  const r = computeEpochRewards({
    revenue: 10_000_000n, carryIn: 0n, params: DEFAULT_REWARD_PARAMS,
    contributions: [person(1, { adjustedTokens: 2000n }), person(2, { adjustedTokens: 1000n })],
  });
  const [a, b] = r.rewards;
  // shares: a = .5·2/3 + .5·1/2 = 0.58333…, b = 0.41666…
  assert.is(a!.amount, 5_541_667n);
  assert.is(b!.amount, 3_958_333n);
});

test('reputation multiplies the score', () => {
  const r = computeEpochRewards({
    revenue: 1_000_000n, carryIn: 0n, params: { ...DEFAULT_REWARD_PARAMS, operatorFeeBps: 0 },
    contributions: [person(1, { reputation: 1000 }), person(2, { reputation: 500 })],
  });
  assert.equal(r.rewards.map((x) => x.amount), [666_667n, 333_333n]);
});

test('below minimum uptime is ineligible; its share goes to the others', () => {
  const r = computeEpochRewards({
    revenue: 1_000_000n, carryIn: 0n, params: DEFAULT_REWARD_PARAMS,
    contributions: [person(1), person(2, { uptimeMs: 299_999 })],
  });
  assert.equal(r.rewards.map((x) => x.participant), [addr(1)]);
  assert.is(r.rewards[0]!.amount, 950_000n);
  assert.ok(isEligible({ uptimeMs: 300_000, expectedMs: 600_000 }, 5000));
  assert.not.ok(isEligible({ uptimeMs: 300_000, expectedMs: 0 }, 5000));
});

test('a slashed participant forfeits its share: recorded as slashed, not paid', () => {
  const r = computeEpochRewards({
    revenue: 1_000_000n, carryIn: 0n, params: DEFAULT_REWARD_PARAMS,
    contributions: [person(1), person(2, { slashed: true })],
  });
  assert.is(r.slashed, 475_000n);
  assert.equal(r.rewards.map((x) => x.participant), [addr(1)]);
});

test('nobody eligible: the pot is carried over, the fee is still taken from revenue only', () => {
  const r = computeEpochRewards({
    revenue: 1_000_000n, carryIn: 200_000n, params: DEFAULT_REWARD_PARAMS,
    contributions: [person(1, { uptimeMs: 0 })],
  });
  assert.is(r.operatorFee, 50_000n);
  assert.is(r.carryOut, 1_150_000n);
  assert.is(r.rewards.length, 0);
});

test('quality: success rate and response', () => {
  assert.is(qualityPpm({ tasks: 0, tasksSucceeded: 0, taskMicros: 0 }, 60), 0n);
  assert.is(qualityPpm({ tasks: 10, tasksSucceeded: 10, taskMicros: 0 }, 60), 1_000_000n);
  assert.is(qualityPpm({ tasks: 10, tasksSucceeded: 5, taskMicros: 300_000_000 }, 60), 500_000n); // .8·.5 + .2·.5
});

test('invalid input is refused', () => {
  const base = { revenue: 1n, carryIn: 0n, params: DEFAULT_REWARD_PARAMS };
  assert.throws(() => computeEpochRewards({ ...base, contributions: [person(1), person(1)] }), (e: unknown) => e instanceof RewardsError);
  assert.throws(() => computeEpochRewards({ ...base, contributions: [person(1, { reputation: 1001 })] }), (e: unknown) => e instanceof RewardsError);
  assert.throws(() => computeEpochRewards({ ...base, contributions: [person(1, { tasksSucceeded: 11 })] }), (e: unknown) => e instanceof RewardsError);
  assert.throws(() => computeEpochRewards({ ...base, revenue: -1n, contributions: [] }), (e: unknown) => e instanceof RewardsError);
});

test('conservation on random epochs (property): revenue + carryIn = fee + rewards + slashed + carryOut', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = prng(seed);
    const n = Math.floor(rand() * 40);
    const contributions = Array.from({ length: n }, (_, i) => {
      const tasks = Math.floor(rand() * 1000);
      return person(i + 1, {
        adjustedTokens: randomBigInt(rand, 10n ** 12n),
        tasks,
        tasksSucceeded: Math.floor(tasks * rand()),
        taskMicros: Math.floor(tasks * rand() * 100_000_000),
        uptimeMs: Math.floor(rand() * 700_000),
        expectedMs: 600_000,
        reputation: Math.floor(rand() * 1001),
        slashed: rand() < 0.1,
      });
    });
    const revenue = randomBigInt(rand, 10n ** 15n);
    const carryIn = rand() < 0.3 ? randomBigInt(rand, 10n ** 12n) : 0n;
    const params = { ...DEFAULT_REWARD_PARAMS, operatorFeeBps: Math.floor(rand() * 10_001) };
    const r = computeEpochRewards({ revenue, carryIn, params, contributions });
    assert.is(r.operatorFee + r.rewardsTotal + r.slashed + r.carryOut, revenue + carryIn, `seed ${seed}`);
    assert.ok(r.rewards.every((x) => x.amount > 0n), `seed ${seed}: zero leaf`);
    const sorted = [...r.rewards].sort((a, b) => (a.participant < b.participant ? -1 : 1));
    assert.equal(r.rewards, sorted, `seed ${seed}: leaf order`);
    // the same input gives the same output (no hidden state)
    assert.equal(computeEpochRewards({ revenue, carryIn, params, contributions: [...contributions].reverse() }), r, `seed ${seed}: determinism`);
  }
});

test.run();
