/**
 * Benchmark of the rewards Merkle tree (domain/merkle): build time, memory and proof times at
 * 1k, 100k and 1M leaves, against two references measured in the same run:
 * - the raw hashing limit: 2n − 1 SHA-256 of the sizes of the tree's cell representations
 *   (n leaf cells of ~42 bytes, n − 1 fork cells of 71 bytes), with node:crypto's one-shot
 *   `hash()`, with the tree's own SHA-256 over bytes (`sha256Into`) and over message words
 *   already laid out and padded (`sha256Words`, what the build calls), whichever is fastest;
 * - @ton/core 0.63.1 Dictionary (set + storeDictDirect, generateMerkleProof) at 1k and 100k;
 *   1M is skipped (minutes per build and per proof). Its roots must equal ours.
 *
 * Two inputs: RewardLeaf objects (@ton/core Address each), and the pool's own path, the epoch
 * saga's: the rewards artifact's rows (raw address strings, decimal amounts) put into a LeafStore
 * with `setRaw` (no Address object), then built; it reports the fill, the fill and first build
 * (one epoch close), and the build of the filled store alone, median of repeats: the tree's own
 * cost against the raw hashing limit (issue 12's target: ≥ 0.8× at 1M leaves).
 *
 * Every size runs in a fresh child process so its peak RSS is its own. Times are wall clock,
 * medians of repeats (build: 21 at ≤ 1k, 3 at ≤ 100k, 1 above; proofs: 7); build cpu ms is the
 * process CPU time per build (GC threads included). The machine may be shared: the load average
 * is printed.
 *
 * Usage: `node --import tsx bench/merkle.bench.ts [sizes=1000,100000,1000000]`
 */
import { Address, beginCell, Dictionary, type DictionaryValue } from '@ton/core';
import { spawnSync } from 'node:child_process';
import { hash as nodeHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { buildRewardsTree, LeafStore, readRewardsProof, type RewardLeaf } from '../domain/merkle/index.ts';
import { paddedLength, sha256Into, sha256Words } from '../domain/merkle/sha256.ts';

const CORE_MAX_LEAVES = 100_000;
const RANGE = 200;
const LEAF_REPR_BYTES = 42; // d1 d2 + label(2) + addr_std(267) + Coins of 5 bytes (44) = 313 bits → 40 bytes
const FORK_REPR_BYTES = 71; // d1 d2 + label(2 bits) → 1 byte + 2 depths + 2 hashes

/** xorshift32 from a fixed seed: every child draws the same leaves, so roots can be compared. */
function xorshift(): () => number {
  let s = 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Deterministic leaves as RewardLeaf objects. */
function makeLeaves(n: number): RewardLeaf[] {
  const next = xorshift();
  const leaves: RewardLeaf[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const hash = Buffer.allocUnsafe(32);
    for (let j = 0; j < 32; j += 4) hash.writeUInt32BE(next(), j);
    leaves[i] = { address: new Address(next() % 4 === 0 ? -1 : 0, hash), amount: 1n + BigInt(next()) * 233n }; // up to ~1000 TON
  }
  return leaves;
}

/** The same leaves as rewards artifact rows: a raw address string and a decimal nanoTON string each. */
function makeRows(n: number): { participant: string; amountNanoton: string }[] {
  const next = xorshift();
  const hash = Buffer.allocUnsafe(32);
  const rows = new Array<{ participant: string; amountNanoton: string }>(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 32; j += 4) hash.writeUInt32BE(next(), j);
    const workchain = next() % 4 === 0 ? '-1' : '0';
    rows[i] = { participant: `${workchain}:${hash.toString('hex')}`, amountNanoton: String(1n + BigInt(next()) * 233n) };
  }
  return rows;
}

function timed<T>(fn: () => T): [T, number] {
  const started = performance.now();
  const result = fn();
  return [result, performance.now() - started];
}

function median(fn: () => unknown, repeats: number): number {
  const times = Array.from({ length: repeats }, () => timed(fn)[1]).sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

const mb = (bytes: number) => bytes / 2 ** 20;

interface OursResult {
  n: number;
  root: string;
  proofs: string; // BoC hex of the range and single-leaf proofs, compared with @ton/core
  buildMs: number;
  buildCpuMs: number;
  buildGcMs: number;
  inputMb: number;
  treeMb: number;
  peakRssMb: number;
  proofRangeMs: number;
  proofOneMs: number;
  readRangeMs: number;
}

async function runOurs(n: number): Promise<OursResult> {
  const gcPauses: Array<{ start: number; ms: number }> = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => gcPauses.push({ start: e.startTime, ms: e.duration })));
  observer.observe({ entryTypes: ['gc'] });
  const gc = globalThis.gc!;
  gc();
  const empty = process.memoryUsage();
  const leaves = makeLeaves(n);
  gc();
  const withInput = process.memoryUsage();
  const repeats = n <= 1000 ? 21 : n <= 100_000 ? 3 : 1;
  const times: number[] = [];
  let tree = buildRewardsTree([]);
  const cpu = process.cpuUsage();
  const buildsStart = performance.now();
  for (let r = 0; r < repeats; r++) {
    let ms: number;
    [tree, ms] = timed(() => buildRewardsTree(leaves));
    times.push(ms);
  }
  const buildsEnd = performance.now();
  const cpuUsed = process.cpuUsage(cpu);
  const buildMs = times.sort((a, b) => a - b)[times.length >> 1]!;
  gc();
  const withTree = process.memoryUsage();
  const total = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
  const from = Math.max(0, (n >> 1) - RANGE / 2);
  const count = Math.min(RANGE, n);
  const proofRangeMs = median(() => tree.proofForRange(from, count), 7);
  const proofOneMs = median(() => tree.proof([n - 1]), 7);
  const proof = tree.proofForRange(from, count);
  const readRangeMs = median(() => readRewardsProof(proof, tree.root), 7);
  if (readRewardsProof(proof, tree.root).size !== count) throw new Error('proof read back wrong');
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the GC observer report
  observer.disconnect();
  const buildGc = gcPauses.filter((p) => p.start >= buildsStart && p.start < buildsEnd).reduce((sum, p) => sum + p.ms, 0);
  return {
    n,
    root: tree.rootHex,
    proofs: [proof, tree.proof([n - 1])].map((p) => p.toBoc().toString('hex')).join(' '),
    buildMs,
    buildCpuMs: (cpuUsed.user + cpuUsed.system) / 1000 / repeats,
    buildGcMs: buildGc / repeats,
    inputMb: mb(total(withInput) - total(empty)),
    treeMb: mb(total(withTree) - total(withInput)),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    proofRangeMs,
    proofOneMs,
    readRangeMs,
  };
}

interface PoolPathResult {
  n: number;
  root: string;
  /** rows → LeafStore.setRaw, once */
  fillMs: number;
  /** fill + the first build: what one epoch close costs */
  fillAndBuildMs: number;
  /** buildRewardsTree of the filled LeafStore, median of repeats */
  buildMs: number;
  inputMb: number;
  /** after the first build (the repeats allocate more trees) */
  peakRssMb: number;
}

/**
 * The epoch saga's path: artifact rows (strings) → LeafStore.setRaw → build, in a fresh process;
 * then the build alone repeated on the same store (the tree hashing, against the raw limit).
 */
function runPoolPath(n: number): PoolPathResult {
  const gc = globalThis.gc!;
  gc();
  const empty = process.memoryUsage();
  const rows = makeRows(n);
  gc();
  const withInput = process.memoryUsage();
  const total = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
  const [store, fillMs] = timed(() => {
    const store = new LeafStore(rows.length);
    for (let i = 0; i < rows.length; i++) store.setRaw(i, rows[i]!.participant, BigInt(rows[i]!.amountNanoton));
    return store;
  });
  const [tree, firstBuildMs] = timed(() => buildRewardsTree(store));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const buildMs = median(() => buildRewardsTree(store), n <= 1000 ? 21 : 5);
  return { n, root: tree.rootHex, fillMs, fillAndBuildMs: fillMs + firstBuildMs, buildMs, inputMb: mb(total(withInput) - total(empty)), peakRssMb };
}

interface CoreResult {
  n: number;
  root: string;
  proofs: string;
  buildMs: number;
  proofRangeMs: number;
  proofOneMs: number;
}

function runCore(n: number): CoreResult {
  const value: DictionaryValue<RewardLeaf> = {
    serialize: (v, b) => {
      b.storeAddress(v.address);
      b.storeCoins(v.amount);
    },
    parse: (s) => ({ address: s.loadAddress(), amount: s.loadCoins() }),
  };
  const leaves = makeLeaves(n);
  const [dict, buildMs] = timed(() => {
    const d = Dictionary.empty(Dictionary.Keys.Uint(32), value);
    leaves.forEach((l, i) => d.set(i, l));
    return { d, root: beginCell().storeDictDirect(d).endCell() };
  });
  const from = Math.max(0, (n >> 1) - RANGE / 2);
  const keys = Array.from({ length: Math.min(RANGE, n) }, (_, i) => from + i);
  const [rangeProof, proofRangeMs] = timed(() => dict.d.generateMerkleProof(keys));
  const [oneProof, proofOneMs] = timed(() => dict.d.generateMerkleProof([n - 1]));
  const proofs = [rangeProof, oneProof].map((p) => p.toBoc().toString('hex')).join(' ');
  return { n, root: dict.root.hash().toString('hex'), proofs, buildMs, proofRangeMs, proofOneMs };
}

/** Hashes per second of `len`-byte inputs: node:crypto one-shot, the tree's own SHA-256 over bytes and over words. */
function hashRates(len: number): { node: number; own: number; words: number } {
  const count = 400_000;
  const msg = Buffer.alloc(paddedLength(len), 7);
  const out = new Uint8Array(32);
  const node = median(() => {
    for (let i = 0; i < count; i++) {
      msg[0] = i;
      nodeHash('sha256', msg.subarray(0, len), 'buffer');
    }
  }, 3);
  const own = median(() => {
    for (let i = 0; i < count; i++) {
      msg.fill(7, 0, len);
      msg[0] = i;
      sha256Into(msg, len, out, 0);
    }
  }, 3);
  const message = new Int32Array(32);
  const digest = new Int32Array(8);
  const blocks = (len * 8 + 8 + 64 + 511) >>> 9;
  const words = median(() => {
    for (let i = 0; i < count; i++) {
      message[0] = i;
      sha256Words(message, blocks, digest, 0);
    }
  }, 3);
  return { node: (count / node) * 1000, own: (count / own) * 1000, words: (count / words) * 1000 };
}

function child(kind: string, n: number): unknown {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', kind, String(n)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`child ${kind} ${n} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const fmt = (x: number, digits = 1) => x.toFixed(digits);
const pad = (cells: string[], widths: number[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))].join('\n');
}

function main(): void {
  const sizes = (process.argv[2] ?? '1000,100000,1000000').split(',').map(Number);
  console.log(`rewards Merkle tree benchmark — node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

  const leafRate = hashRates(LEAF_REPR_BYTES);
  const forkRate = hashRates(FORK_REPR_BYTES);
  console.log(
    table(
      ['raw SHA-256', `${LEAF_REPR_BYTES} B (leaf) hashes/s`, `${FORK_REPR_BYTES} B (fork) hashes/s`],
      [
        ['node:crypto hash()', fmt(leafRate.node / 1e6, 2) + ' M', fmt(forkRate.node / 1e6, 2) + ' M'],
        ['own sha256Into', fmt(leafRate.own / 1e6, 2) + ' M', fmt(forkRate.own / 1e6, 2) + ' M'],
        ['own sha256Words', fmt(leafRate.words / 1e6, 2) + ' M', fmt(forkRate.words / 1e6, 2) + ' M'],
      ],
    ),
  );
  const bestLeaf = Math.max(leafRate.node, leafRate.own, leafRate.words);
  const bestFork = Math.max(forkRate.node, forkRate.own, forkRate.words);
  const rawMs = (n: number) => (n / bestLeaf + (n - 1) / bestFork) * 1000;

  const rows: string[][] = [];
  const poolRows: string[][] = [];
  const coreRows: string[][] = [];
  for (const n of sizes) {
    const ours = child('ours', n) as OursResult;
    const pool = child('pool', n) as PoolPathResult;
    if (pool.root !== ours.root) throw new Error(`${n} leaves: the LeafStore path built root ${pool.root}, the RewardLeaf path ${ours.root}`);
    const digits = n <= 1000 ? 2 : 0;
    poolRows.push([
      n.toLocaleString('en'),
      fmt(pool.fillMs, digits),
      fmt(pool.fillAndBuildMs, digits),
      fmt(pool.buildMs, digits),
      fmt(rawMs(n), digits),
      fmt((rawMs(n) / pool.buildMs) * 100, 0) + ' %',
      fmt((rawMs(n) / pool.fillAndBuildMs) * 100, 0) + ' %',
      fmt(pool.inputMb, 0),
      fmt(pool.peakRssMb, 0),
    ]);
    rows.push([
      n.toLocaleString('en'),
      fmt(ours.buildMs, n <= 1000 ? 2 : 0),
      fmt(ours.buildCpuMs, 0),
      fmt(ours.buildGcMs, 0),
      fmt(rawMs(n), n <= 1000 ? 2 : 0),
      fmt((rawMs(n) / ours.buildMs) * 100, 0) + ' %',
      fmt(ours.inputMb, 0),
      fmt(ours.treeMb, 0),
      fmt(ours.peakRssMb, 0),
      fmt(ours.proofRangeMs, 2),
      fmt(ours.proofOneMs, 2),
      fmt(ours.readRangeMs, 2),
    ]);
    if (n <= CORE_MAX_LEAVES) {
      const core = child('core', n) as CoreResult;
      coreRows.push([
        n.toLocaleString('en'),
        fmt(core.buildMs, 0),
        fmt(core.proofRangeMs, 0),
        fmt(core.proofOneMs, 0),
        fmt(core.buildMs / ours.buildMs, 0) + '×',
        fmt(core.proofRangeMs / ours.proofRangeMs, 0) + '×',
        fmt(core.proofOneMs / ours.proofOneMs, 0) + '×',
        core.root === ours.root ? 'yes' : 'NO',
        core.proofs === ours.proofs ? 'yes' : 'NO',
      ]);
    } else {
      coreRows.push([n.toLocaleString('en'), 'skipped', 'skipped', 'skipped', '-', '-', '-', '-', '-']);
    }
  }
  console.log('\nours (domain/merkle)');
  console.log(
    table(
      ['leaves', 'build ms', 'build cpu ms', 'GC ms in build', 'raw hash ms', 'of raw limit', 'input MB', 'tree MB', 'peak RSS MB', `proof ${RANGE} ms`, 'proof 1 ms', `read ${RANGE} ms`],
      rows,
    ),
  );
  console.log('\nthe epoch saga\'s path: rewards rows (raw address strings) → LeafStore.setRaw (fill) → build; build ms = the build of the filled store, median of repeats');
  console.log(table(['leaves', 'fill ms', 'fill + first build ms', 'build ms', 'raw hash ms', 'build of raw limit', 'fill + build of raw limit', 'input MB', 'peak RSS MB'], poolRows));
  console.log('\n@ton/core 0.63.1 Dictionary (1M skipped: minutes per build and per proof)');
  console.log(table(['leaves', 'build ms', `proof ${RANGE} ms`, 'proof 1 ms', 'build speed-up', `proof ${RANGE} speed-up`, 'proof 1 speed-up', 'same root', 'same proof BoCs'], coreRows));
  console.log(
    `\nraw hash ms = n × ${LEAF_REPR_BYTES}-byte + (n−1) × ${FORK_REPR_BYTES}-byte SHA-256 at the fastest rate above; ` +
      `of raw limit = raw hash ms / build ms. GC ms in build = main-thread GC pauses during a build; marking runs ` +
      `on helper threads (so build cpu ms can exceed build ms). proof ms include building the @ton/core cells ` +
      `(its Cell constructor hashes each cell with jssha). input MB = the caller's RewardLeaf objects (@ton/core Address), ` +
      `or for the saga's path its rows of strings, ` +
      `tree MB = heap + array buffers the built tree keeps, peak RSS = the child process (inputs included).`,
  );
  if (coreRows.some((r) => r.includes('NO'))) {
    console.log('\nMISMATCH with @ton/core');
    process.exitCode = 1;
  }
}

if (process.argv[2] === '--child') {
  const n = Number(process.argv[4]);
  const kind = process.argv[3];
  console.log(JSON.stringify(kind === 'core' ? runCore(n) : kind === 'pool' ? runPoolPath(n) : await runOurs(n)));
} else {
  main();
}
