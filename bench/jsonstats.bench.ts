/**
 * Benchmark of the poller's /jsonstats check (producers/cocoon/jsonstats.ts `parseJsonStats`: the
 * TD JSON reader, the duplicate-key rule, the compiled shape validator and the conversion), per
 * body, against the raw limit measured in the same run: `JSON.parse` of the same bytes (which
 * checks nothing and loses the duplicate keys and the uint64 amounts the reader keeps exact).
 * The body is a worker's /jsonstats as the Cocoon serializer prints it
 * (tests/fixtures/cocoon/worker-jsonstats.synthetic.json, 4.6 kB). A pool of 10,000 workers
 * polled every 10 s checks 1,000 bodies a second: the table says what share of one core that takes.
 *
 * Usage: `node --import tsx bench/jsonstats.bench.ts [bodies=20000]`
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseJsonStats } from '../producers/cocoon/jsonstats.ts';
import { readTdJson } from '../producers/cocoon/tdJson.ts';

const BODIES = Number(process.argv[2] ?? 20_000);
const body = readFileSync(join(import.meta.dirname, '..', 'tests', 'fixtures', 'cocoon', 'worker-jsonstats.synthetic.json'), 'utf8');

/** µs per call of `fn` over BODIES calls, the best of 5 rounds (the machine may be shared). */
function microsPerBody(fn: (text: string) => unknown): number {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < BODIES; i++) sink += fn(body) ? 1 : 0;
    best = Math.min(best, ((performance.now() - started) * 1000) / BODIES);
  }
  if (sink !== 5 * BODIES) throw new Error('a body was not parsed');
  return best;
}

const raw = microsPerBody((t) => JSON.parse(t));
const reader = microsPerBody((t) => readTdJson(t));
const whole = microsPerBody((t) => parseJsonStats(t));
const row = (name: string, us: number) =>
  `${name.padEnd(34)} ${us.toFixed(1).padStart(7)} µs  ${Math.round(1e6 / us).toLocaleString('en').padStart(9)} bodies/s  ${(us / raw).toFixed(2).padStart(5)}× JSON.parse  ${((us * 1000) / 1e4).toFixed(1).padStart(5)} % of a core at 1,000 bodies/s`;

console.log(`/jsonstats check benchmark — node ${process.version}, ${body.length} B body, ${BODIES} bodies × 5 rounds (best), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
console.log(row('JSON.parse (raw limit)', raw));
console.log(row('readTdJson (the TD JSON reader)', reader));
console.log(row('parseJsonStats (reader + checks)', whole));
console.log(`\nchecks beyond the reader: ${(whole - reader).toFixed(1)} µs a body`);
