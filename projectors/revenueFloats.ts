/**
 * Members' floats: a cocoon wallet's "w" reply to the pool (CocoonWalletFloatReturned) returns the
 * gas float of the member whose worker uses that wallet; it is owed to that member, never revenue
 * (issue 10 "Revenue authenticity"; the epochs projection does not read it).
 *
 * The wallet → worker → participant link comes from the stream, folded here in stream order so a
 * replay attributes alike: `wallet.address` of each worker's /jsonstats (WorkerStatsSampled
 * `walletAddress`), its `owner_address` (the wallet is the pool's to empty only when the worker's
 * owner_address is the pool contract that received the reply) and its WorkerBound participant.
 * When the reply arrives, the participants of the workers owned by that contract and reporting that
 * wallet decide (domain/revenue.ts `floatOwner`): one → owed to it; none → unattributed; several →
 * disputed. Each transaction is booked once.
 */
import type { FloatWorkersTable } from '../db/schema.ts';
import { floatOwner } from '../domain/revenue.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { upsertRows } from './rows.ts';

export const MEMBER_FLOATS_PROJECTION = 'member-floats';

/** Creates the member floats projection. */
export function memberFloatsProjection(): Projection {
  return {
    name: MEMBER_FLOATS_PROJECTION,
    canHandle: ['WorkerStatsSampled', 'WorkerBound', 'CocoonWalletFloatReturned'],
    tables: ['float_workers', 'member_floats'],
    handle: apply,
  };
}

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext): Promise<void> {
  // the workers this batch touches, and those reporting a wallet whose reply it brings
  const ids = [...new Set(events.flatMap((e) => ('workerId' in e.data ? [e.data.workerId as string] : [])))];
  const wallets = [...new Set(events.flatMap((e) => (e.type === 'CocoonWalletFloatReturned' ? [e.data.wallet] : [])))];
  const workers = new Map<string, FloatWorkersTable>();
  const rows = !ids.length && !wallets.length ? [] : await db
    .selectFrom('float_workers')
    .selectAll()
    .where((eb) => eb.or([...(ids.length ? [eb('worker_id', 'in', ids)] : []), ...(wallets.length ? [eb('wallet_address', 'in', wallets)] : [])]))
    .execute();
  for (const r of rows) workers.set(r.worker_id, r);
  const changed = new Set<string>();
  const worker = (id: string) => {
    let w = workers.get(id);
    if (!w) workers.set(id, (w = { worker_id: id, participant: null, owner_address: null, wallet_address: null }));
    return w;
  };
  const floats = events.flatMap((e) => (e.type === 'CocoonWalletFloatReturned' ? [e.data.txHash] : []));
  const booked = new Set<string>();
  if (floats.length) for (const r of await db.selectFrom('member_floats').select('tx_hash').where('tx_hash', 'in', floats).execute()) booked.add(r.tx_hash);

  for (const e of events) {
    switch (e.type) {
      case 'WorkerStatsSampled': {
        const w = worker(e.data.workerId);
        const wallet = e.data.walletAddress ?? null; // absent in samples recorded before it was kept
        if (w.owner_address === e.data.ownerAddress && w.wallet_address === wallet) break;
        Object.assign(w, { owner_address: e.data.ownerAddress, wallet_address: wallet });
        changed.add(w.worker_id);
        break;
      }
      case 'WorkerBound': {
        worker(e.data.workerId).participant = e.data.participant;
        changed.add(e.data.workerId);
        break;
      }
      case 'CocoonWalletFloatReturned': {
        const d = e.data;
        if (booked.has(d.txHash)) break; // each transaction once
        booked.add(d.txHash);
        const claimants = [...workers.values()].filter((w) => w.wallet_address === d.wallet && w.owner_address === d.contract).sort((a, b) => a.worker_id.localeCompare(b.worker_id));
        const owner = floatOwner(claimants.map((w) => w.participant));
        await db
          .insertInto('member_floats')
          .values({
            tx_hash: d.txHash, contract: d.contract, lt: d.lt, chain_time: d.chainTime, wallet_address: d.wallet, amount_nanoton: d.amountNanoton,
            status: owner.status, participant: owner.participant, workers: JSON.stringify(claimants.map((w) => w.worker_id)) as never,
          })
          .execute();
        break;
      }
    }
  }
  await upsertRows(db, 'float_workers', 'worker_id', [...changed].map((id) => workers.get(id)!) as never);
}
