/**
 * Member revenue: what the chain proved each member earned (issue 11, "Using what it proves").
 * Each MemberRevenueReceived (the distribution contract booked a forward from the member's
 * forwarder, schemas/chain.ts) is counted for the epoch open when it was stored, by the
 * EpochClosing cut, as projectors/epochs.ts counts PoolRevenueReceived; each transaction once.
 *
 * Per (epoch, member), `member_revenue`:
 * - verified_revenue_nanoton: Σ amountNanoton of the transactions the contract counted
 *   (`countedByContract`), payouts and backlog flushes alike;
 * - paid_nanoton: Σ paidNanoton of the payouts (what the proxies paid the forwarder);
 * - verified_tokens: Σ verifiedTokens of the payouts from a known proxy whose fee per token was
 *   known (verifiedTokens not null): the adjusted tokens the network paid the member for;
 * - payouts: number of payouts; backlog_nanoton: Σ amountNanoton of the counted backlog flushes.
 * `member_revenue_receipts` keeps one row per transaction (what the totals are the sum of).
 */
import type { MemberRevenueReceiptsTable, MemberRevenueTable } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import { epochAfterCut, loadCurrentEpoch, saveCurrentEpoch } from './epochCursor.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { addRows, jsonColumns, jsonRows } from './rows.ts';

export const MEMBER_REVENUE_PROJECTION = 'member-revenue';

/** Creates the member revenue projection. */
export function memberRevenueProjection(): Projection {
  return {
    name: MEMBER_REVENUE_PROJECTION,
    canHandle: ['MemberRevenueReceived', 'EpochClosing'],
    tables: ['member_revenue_receipts', 'member_revenue'],
    handle: apply,
  };
}

/** The totals one transaction adds to its (epoch, member) row. */
function receiptTotals(r: Pick<MemberRevenueReceiptsTable, 'kind' | 'amount_nanoton' | 'paid_nanoton' | 'verified_tokens' | 'known_proxy' | 'counted_by_contract'>) {
  const counted = r.counted_by_contract ? BigInt(r.amount_nanoton) : 0n;
  return {
    verifiedRevenue: counted,
    paid: r.kind === 'payout' && r.paid_nanoton !== null ? BigInt(r.paid_nanoton) : 0n,
    verifiedTokens: r.kind === 'payout' && r.known_proxy && r.verified_tokens !== null ? BigInt(r.verified_tokens) : 0n,
    payouts: r.kind === 'payout' ? 1 : 0,
    backlog: r.kind === 'backlog' ? counted : 0n,
  };
}

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext): Promise<void> {
  let current = await loadCurrentEpoch(db, MEMBER_REVENUE_PROJECTION);
  const startEpoch = current;
  const hashes = events.flatMap((e) => (e.type === 'MemberRevenueReceived' ? [e.data.txHash] : []));
  const booked = new Set<string>();
  if (hashes.length) for (const r of await db.selectFrom('member_revenue_receipts').select('tx_hash').where('tx_hash', 'in', hashes).execute()) booked.add(r.tx_hash);

  const receipts: MemberRevenueReceiptsTable[] = [];
  for (const e of events) {
    if (e.type === 'EpochClosing') {
      current = epochAfterCut(current, e.data.epochId);
      continue;
    }
    if (e.type !== 'MemberRevenueReceived') continue;
    const d = e.data;
    if (booked.has(d.txHash)) continue; // each transaction once
    booked.add(d.txHash);
    receipts.push({
      tx_hash: d.txHash, epoch_id: current, member: d.member, kind: d.kind, forwarder: d.forwarder, proxy: d.proxy, lt: d.lt, chain_time: d.chainTime,
      amount_nanoton: d.amountNanoton, paid_nanoton: d.paidNanoton, verified_tokens: d.verifiedTokens, known_proxy: d.knownProxy, counted_by_contract: d.countedByContract,
    });
  }

  if (receipts.length) {
    await db.insertInto('member_revenue_receipts').columns(jsonColumns(receipts as never)).expression(jsonRows('member_revenue_receipts', receipts as never) as never).execute();
    const totals = new Map<string, MemberRevenueTable>();
    for (const r of receipts) {
      const key = `${r.epoch_id}:${r.member}`;
      const t = totals.get(key) ?? { epoch_id: r.epoch_id, member: r.member, verified_revenue_nanoton: '0', paid_nanoton: '0', verified_tokens: '0', payouts: 0, backlog_nanoton: '0' };
      const add = receiptTotals(r);
      t.verified_revenue_nanoton = String(BigInt(t.verified_revenue_nanoton) + add.verifiedRevenue);
      t.paid_nanoton = String(BigInt(t.paid_nanoton) + add.paid);
      t.verified_tokens = String(BigInt(t.verified_tokens) + add.verifiedTokens);
      t.payouts += add.payouts;
      t.backlog_nanoton = String(BigInt(t.backlog_nanoton) + add.backlog);
      totals.set(key, t);
    }
    const rows = [...totals.values()];
    // one statement: new rows inserted, existing ones incremented
    await addRows(db, 'member_revenue', ['epoch_id', 'member'], ['verified_revenue_nanoton', 'paid_nanoton', 'verified_tokens', 'payouts', 'backlog_nanoton'], rows as never);
  }
  if (current !== startEpoch) await saveCurrentEpoch(db, MEMBER_REVENUE_PROJECTION, current);
}

/** Per member, what the chain proved it earned in epoch `epochId` (call once the projection has passed the epoch's cut). */
export async function epochMemberRevenue(db: import('kysely').Kysely<import('../db/schema.ts').Database>, epochId: number): Promise<Map<string, MemberRevenueTable>> {
  const rows = await db.selectFrom('member_revenue').selectAll().where('epoch_id', '=', epochId).execute();
  return new Map(rows.map((r) => [r.member, r]));
}
