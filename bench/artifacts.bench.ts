/**
 * Epoch artifacts at scale (streams/artifacts.ts): putRows/getRows of a rewards table of N rows
 * (default 100 000) in the streamed line format, against the raw object store moving the same
 * bytes (`putBlob`/`getBlob`, no encoding, no hashing) and against the JSON-array blob format of
 * before (JSON.stringify + putBlob, getBlob + JSON.parse), all in the same run on one nats-server
 * (temp store, removed afterwards). Medians of `--repeats` (default 3).
 *
 * Usage: `node --import tsx bench/artifacts.bench.ts [--rows N] [--repeats N]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Objm } from '@nats-io/obj';
import { startNatsServer } from '../infra/nats/server.ts';
import { openArtifactStore } from '../streams/artifacts.ts';
import { connectJetStream } from '../streams/connect.ts';
import { ARTIFACT_BUCKET, ensureTopology } from '../streams/topology.ts';
import { participant } from '../tests/support/events.ts';
import { integerArgs } from './args.ts';

function parseArgs(argv: string[]) {
  return integerArgs(argv, 'artifacts.bench.ts', { rows: 100_000, repeats: 3 }, { rows: [1, 5_000_000], repeats: [1, 20] });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const { rows: n, repeats } = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'pool-bench-artifacts-'));
  const server = await startNatsServer({ storeDir: dir });
  const conn = await connectJetStream({ url: server.url, name: 'bench-artifacts' });
  try {
    await ensureTopology(conn.nc, conn.jsm);
    const artifacts = await openArtifactStore(conn.nc);
    const os = await new Objm(conn.nc).open(ARTIFACT_BUCKET);
    const rows = Array.from({ length: n }, (_, i) => ({ index: i, participant: participant(i + 1), amountNanoton: String(1_000_000_000n + BigInt(i) * 7919n), scorePpb: (i * 104729) % 1_000_000_000 }));
    const t = { put: [] as number[], get: [] as number[], rawPut: [] as number[], rawGet: [] as number[], jsonPut: [] as number[], jsonGet: [] as number[] };
    let bytes = 0;
    let jsonBytes = 0;
    for (let r = 0; r < repeats; r++) {
      let ref = await artifacts.putRows(`bench-${r}`, rows);
      t.put.push(await timed(async () => (ref = await artifacts.putRows(`bench-${r}`, rows))));
      bytes = ref.bytes;
      let got: unknown[] = [];
      t.get.push(await timed(async () => (got = await artifacts.getRows(ref))));
      if (got.length !== n) throw new Error(`read ${got.length} rows of ${n}`);
      const stored = (await os.getBlob(ref.name))!;
      t.rawPut.push(await timed(() => os.putBlob({ name: `bench-raw-${r}` }, stored)));
      t.rawGet.push(await timed(() => os.getBlob(`bench-raw-${r}`)));
      t.jsonPut.push(await timed(async () => {
        const blob = new TextEncoder().encode(JSON.stringify(rows));
        jsonBytes = blob.length;
        await os.putBlob({ name: `bench-json-${r}` }, blob);
      }));
      t.jsonGet.push(await timed(async () => JSON.parse(new TextDecoder().decode((await os.getBlob(`bench-json-${r}`))!))));
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    console.log(`${n.toLocaleString('en-US')} rewards rows; line format ${(bytes / 2 ** 20).toFixed(1)} MB, JSON array ${(jsonBytes / 2 ** 20).toFixed(1)} MB; medians of ${repeats}`);
    const table = [
      ['measure', 'streamed lines', 'raw object store, same bytes', 'ratio', 'JSON blob (before)'],
      ['put', s(median(t.put)), s(median(t.rawPut)), `${(median(t.put) / median(t.rawPut)).toFixed(2)}×`, s(median(t.jsonPut))],
      ['get', s(median(t.get)), s(median(t.rawGet)), `${(median(t.get) / median(t.rawGet)).toFixed(2)}×`, s(median(t.jsonGet))],
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const [k, r] of table.entries()) {
      console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
      if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    }
  } finally {
    await conn.nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
