/**
 * Worker contracts: per (worker, proxy), the last cross-check of the worker's `/jsonstats`
 * `cached_out_tokens` against its Cocoon worker contract on chain (WorkerTokensChecked,
 * WorkerTokensDiverged: producers/chain/workerTokens.ts), so that claimed and on-chain tokens are
 * read side by side; `checks` and `divergences` count the events. Never reads the chain.
 */
import type { WorkerContractChecksTable } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { Projection, ProjectionContext } from './projection.ts';

export const WORKER_CONTRACTS_PROJECTION = 'worker-contracts';

/** Creates the worker contracts projection. */
export function workerContractsProjection(): Projection {
  return {
    name: WORKER_CONTRACTS_PROJECTION,
    canHandle: ['WorkerTokensChecked', 'WorkerTokensDiverged'],
    tables: ['worker_contract_checks'],
    handle: apply,
  };
}

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext): Promise<void> {
  const keys = new Map<string, { worker_id: string; proxy: string }>();
  for (const e of events) if (e.type === 'WorkerTokensChecked' || e.type === 'WorkerTokensDiverged') keys.set(`${e.data.workerId}|${e.data.proxy}`, { worker_id: e.data.workerId, proxy: e.data.proxy });
  if (!keys.size) return;
  const rows = new Map<string, WorkerContractChecksTable>();
  const workerIds = [...new Set([...keys.values()].map((k) => k.worker_id))];
  for (const r of await db.selectFrom('worker_contract_checks').selectAll().where('worker_id', 'in', workerIds).execute()) rows.set(`${r.worker_id}|${r.proxy}`, r);
  for (const e of events) {
    if (e.type === 'WorkerTokensChecked') {
      const d = e.data;
      const key = `${d.workerId}|${d.proxy}`;
      const prev = rows.get(key);
      rows.set(key, {
        worker_id: d.workerId, proxy: d.proxy, worker_contract: d.workerContract, owner_address: d.ownerAddress,
        claimed_tokens: d.claimedTokens, on_chain_tokens: d.onChainTokens, paid_nanoton: d.paidNanoton, worker_fee_per_token: d.workerFeePerTokenNanoton,
        genuine: d.genuine, consistent: d.consistent, divergence: d.consistent ? null : (prev?.divergence ?? null),
        checks: (prev?.checks ?? 0) + 1, divergences: prev?.divergences ?? 0, sample_at_ms: d.sampleAtMs,
      });
    } else if (e.type === 'WorkerTokensDiverged') {
      const row = rows.get(`${e.data.workerId}|${e.data.proxy}`);
      if (!row) continue; // a divergence is appended after its check, in the same batch of appends
      row.divergence = e.data.reason;
      row.divergences += 1;
    }
  }
  const changed = [...keys.keys()].flatMap((k) => (rows.has(k) ? [rows.get(k)!] : []));
  await db
    .insertInto('worker_contract_checks')
    .values(changed)
    .onConflict((oc) =>
      oc.columns(['worker_id', 'proxy']).doUpdateSet((eb) => ({
        worker_contract: eb.ref('excluded.worker_contract'), owner_address: eb.ref('excluded.owner_address'), claimed_tokens: eb.ref('excluded.claimed_tokens'),
        on_chain_tokens: eb.ref('excluded.on_chain_tokens'), paid_nanoton: eb.ref('excluded.paid_nanoton'), worker_fee_per_token: eb.ref('excluded.worker_fee_per_token'),
        genuine: eb.ref('excluded.genuine'), consistent: eb.ref('excluded.consistent'), divergence: eb.ref('excluded.divergence'),
        checks: eb.ref('excluded.checks'), divergences: eb.ref('excluded.divergences'), sample_at_ms: eb.ref('excluded.sample_at_ms'),
      })),
    )
    .execute();
}
