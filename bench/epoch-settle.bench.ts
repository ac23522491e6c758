/**
 * Benchmark of the epoch saga's chain steps on the local chain: from a computed epoch (N leaves)
 * to EpochSettled — root commit, plan, payout batches (200 leaves each, 4 in flight), each signed
 * by the operator's highload wallet v3, submitted, indexed and confirmed — with the pool's default
 * payout settings and tick (500 ms). Freeze and compute are not in it (projections; see
 * ledger.bench.ts). Stage table: commit (start → RootCommitConfirmed), payouts (→ last
 * PayoutBatchConfirmed), settle (→ EpochSettled); and the time per batch.
 *
 * Usage: `node --import tsx bench/epoch-settle.bench.ts [leaves=1000]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '../schemas/catalog.ts';
import { sagaOnLocalChain } from '../tests/support/sagaChain.ts';
import { until } from '../tests/support/until.ts';

const LEAVES = Number(process.argv[2] ?? 1000);
const settings = { epochMs: 365 * 24 * 3600 * 1000, batchSize: 200, maxBatchesInFlight: 4, resubmitAfterMs: 30_000, maxRefusedAttempts: 3 };

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-epoch-settle-'));
  const h = await sagaOnLocalChain({ dir: join(dir, 'chain'), leaves: LEAVES, reward: 1_000_000n, fee: 1_000_000n, walletTimeout: 600, settings });
  try {
    const started = Date.now();
    h.saga({ sendMessage: (m) => h.chain.sendMessage(m) }, 500);
    const events = await until('EpochSettled', async () => {
      const es = await h.nats.store.readSubject('pool.epoch.1');
      return es.some((e) => e.type === 'EpochSettled') ? es : null;
    }, 600_000, 100);
    const at = (type: RecordedEvent['type']) => Math.max(...events.filter((e) => e.type === type).map((e) => e.storedAtMs));
    const commit = at('RootCommitConfirmed') - started;
    const payouts = at('PayoutBatchConfirmed') - at('RootCommitConfirmed');
    const settle = at('EpochSettled') - at('PayoutBatchConfirmed');
    const batches = events.filter((e) => e.type === 'PayoutBatchConfirmed').length;
    console.log(`epoch settle, ${LEAVES} leaves, ${batches} batches, local chain, highload v3`);
    console.log('| stage | ms |\n|---|---|');
    console.log(`| commit (signed, submitted, indexed, confirmed) | ${commit} |`);
    console.log(`| payouts (${batches} batches, ${settings.maxBatchesInFlight} in flight) | ${payouts} (${Math.round(payouts / Math.max(1, batches))} per batch) |`);
    console.log(`| settle | ${settle} |`);
    console.log(`| computed → settled | ${at('EpochSettled') - started} |`);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
