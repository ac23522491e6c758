import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { feeOf, formatTon, MoneyError, parseNanoton, splitLargestRemainder } from '../../domain/money.ts';
import { prng, randomBigInt } from '../support/random.ts';

test('parseNanoton accepts decimal integers only', () => {
  assert.is(parseNanoton('0'), 0n);
  assert.is(parseNanoton('1500000000'), 1_500_000_000n);
  for (const bad of ['', '-1', '01', '1.5', '1e9', ' 1', 'abc']) assert.throws(() => parseNanoton(bad), (e: unknown) => e instanceof MoneyError, bad);
});

test('formatTon', () => {
  assert.is(formatTon(1_500_000_000n), '1.5');
  assert.is(formatTon(1n), '0.000000001');
  assert.is(formatTon(0n), '0');
  assert.is(formatTon(12_000_000_000n), '12');
});

test('feeOf rounds down and checks its rate', () => {
  assert.is(feeOf(10_000n, 500), 500n);
  assert.is(feeOf(19n, 500), 0n);
  assert.is(feeOf(39n, 500), 1n);
  assert.throws(() => feeOf(1n, 10_001), (e: unknown) => e instanceof MoneyError);
  assert.throws(() => feeOf(1n, 1.5), (e: unknown) => e instanceof MoneyError);
});

test('largest remainder: known cases', () => {
  assert.equal(splitLargestRemainder(10n, [1n, 1n, 1n]), [4n, 3n, 3n]); // tie → lower index
  assert.equal(splitLargestRemainder(100n, [1n, 2n, 3n, 4n]), [10n, 20n, 30n, 40n]);
  assert.equal(splitLargestRemainder(7n, [0n, 5n, 0n]), [0n, 7n, 0n]);
  assert.equal(splitLargestRemainder(0n, [0n, 0n]), [0n, 0n]);
  assert.equal(splitLargestRemainder(5n, [2n, 1n, 1n]), [3n, 1n, 1n]); // remainders .5 .25 .25
  assert.throws(() => splitLargestRemainder(1n, [0n, 0n]), (e: unknown) => e instanceof MoneyError);
  assert.throws(() => splitLargestRemainder(1n, [-1n, 2n]), (e: unknown) => e instanceof MoneyError);
});

test('largest remainder: conservation and bounds on random inputs (property)', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const rand = prng(seed);
    const n = 1 + Math.floor(rand() * 60);
    const total = randomBigInt(rand, 10n ** BigInt(1 + Math.floor(rand() * 20)));
    const weights = Array.from({ length: n }, () => (rand() < 0.2 ? 0n : randomBigInt(rand, 10n ** BigInt(1 + Math.floor(rand() * 30)))));
    if (!weights.some((w) => w > 0n)) weights[0] = 1n;
    const shares = splitLargestRemainder(total, weights);
    const W = weights.reduce((a, b) => a + b, 0n);
    assert.is(shares.reduce((a, b) => a + b, 0n), total, `seed ${seed}: Σ shares`);
    shares.forEach((s, i) => {
      const exactFloor = (total * weights[i]!) / W;
      assert.ok(s === exactFloor || s === exactFloor + 1n, `seed ${seed}: share ${i} off its quota`);
      if (weights[i] === 0n) assert.is(s, 0n, `seed ${seed}: zero weight got money`);
    });
  }
});

test.run();
