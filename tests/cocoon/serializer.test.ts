import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseJsonStats } from '../../producers/cocoon/jsonstats.ts';
import { serializeJsonStats } from '../../emulator/jsonstatsSerializer.ts';
import { printfFixed } from '../../emulator/printfFixed.ts';
import { adjustTokens, adjustUsage } from '../../emulator/tokens.ts';
import { createPrng } from '../../emulator/prng.ts';
import { AmortCounter } from '../../emulator/amortCounter.ts';

const dir = join(import.meta.dirname, '../fixtures/cocoon');
const fixture = (name: string) => readFileSync(join(dir, name), 'utf8');

for (const name of ['worker-jsonstats.synthetic.json', 'worker-jsonstats.fresh.synthetic.json']) {
  test(`serializer reproduces ${name} byte for byte`, () => {
    const body = fixture(name);
    const out = serializeJsonStats(parseJsonStats(body));
    assert.is(Buffer.compare(Buffer.from(out), Buffer.from(body)), 0);
  });
}

test('serializer omits absent keys like the worker (uninitialised trap round-trips)', () => {
  const body = fixture('jsonstats-uninitialised.trap.json');
  assert.not.match(body, /"wallet"|"root_contract_config"|wallet_balance|ton_last_synced_at/);
  assert.is(serializeJsonStats(parseJsonStats(body)), body);
});

test('serializer writes strings unescaped, as the worker does', () => {
  const body = fixture('jsonstats-unescaped-strings.trap.json');
  assert.is(serializeJsonStats(parseJsonStats(body)), body);
});

test('printfFixed is C %.6f: exact value, ties to even, -0, no exponent', () => {
  assert.is(printfFixed(0.0594, 6), '0.059400');
  assert.is(printfFixed(5234, 6), '5234.000000');
  assert.is(printfFixed(1 / 128, 6), '0.007812'); // exact tie 0.0078125 → even; toFixed gives 0.007813
  assert.is(printfFixed(3 / 128, 6), '0.023438'); // 0.0234375 → even (8)
  assert.is(printfFixed(-0, 6), '-0.000000');
  assert.is(printfFixed(1e21, 6), '1000000000000000000000.000000');
  assert.is(printfFixed(0.1, 20), '0.10000000000000000555');
  assert.is(printfFixed(2.5, 0), '2');
  assert.throws(() => printfFixed(NaN, 6), RangeError);
});

test('adjust_tokens uses the worker double arithmetic', () => {
  assert.is(adjustTokens(1000, 1000, 10000), 1000);
  assert.is(adjustTokens(1000, 1500, 5000), 750);
  assert.is(adjustTokens(7, 1000, 3333), 2); // 2.3331 truncated
  const u = adjustUsage({ promptTokens: 500, cachedTokens: 200, completionTokens: 100, reasoningTokens: 40 }, 1000, {
    prompt: 10000,
    cached: 5000,
    completion: 10000,
    reasoning: 20000,
  });
  assert.equal(u, { promptTokens: 300, cachedTokens: 100, completionTokens: 60, reasoningTokens: 80, totalTokens: 540 });
});

test('prng: deterministic per seed and stream, streams independent', () => {
  const draw = (seed: number, stream: string) => {
    const p = createPrng(seed, stream);
    return [p.next(), p.int(1, 6), p.hex(4)];
  };
  assert.equal(draw(7, 'requests'), draw(7, 'requests'));
  assert.not.equal(draw(7, 'requests'), draw(8, 'requests'));
  assert.not.equal(draw(7, 'requests'), draw(7, 'faults'));
  const p = createPrng(1, 'x');
  for (let i = 0; i < 1000; i++) {
    const v = p.int(3, 5);
    assert.ok(v >= 3 && v <= 5 && Number.isInteger(v));
  }
});

test('AmortCounter: [0] total, [1..6] decayed sums divided by 1s/10s/1m/10m/1h/1d', () => {
  const c = new AmortCounter(1000);
  c.add(10, 1000);
  assert.equal(c.read(1000), [10, 10, 1, 10 / 60, 10 / 600, 10 / 3600, 10 / 86400]);
  const later = c.read(1010);
  assert.is(later[0], 10, 'the total never decays');
  assert.ok(Math.abs(later[1]! - 10 * Math.exp(-10)) < 1e-12);
  assert.ok(Math.abs(later[2]! - Math.exp(-1)) < 1e-12);
  c.add(5, 1010);
  assert.is(c.read(1010)[0], 15);
});

test.run();
