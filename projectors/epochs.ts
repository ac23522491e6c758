/**
 * Epoch read model: status and timing, revenue (PoolRevenueReceived counted for the epoch open
 * when it was stored, each transaction once), the split (fee, rewards, slashed, carry), Merkle
 * root, payout progress, and the references (ArtifactRef) of its contributions and rewards
 * artifacts (ContributionsFrozen, RewardsComputed) as the events carry them. Also the `revenue`
 * table, one row per revenue transaction, labelled with its kind (domain/revenue.ts: proxy revenue only from a genuine Cocoon proxy). A cocoon wallet's
 * returned float is no PoolRevenueReceived and never counts (projectors/revenueFloats.ts).
 * A member's revenue booked through its forwarder (MemberRevenueReceived) that the contract
 * counted is epoch revenue too, exactly like a PoolRevenueReceived (its row kind: `member_payout`
 * or `member_backlog`); one the contract did not count is not (the value stayed outside its counter).
 */
import type { Database, EpochsTable } from '../db/schema.ts';
import { memberRevenueKind, revenueKind } from '../domain/revenue.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import { epochAfterCut, loadCurrentEpoch, saveCurrentEpoch } from './epochCursor.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { upsertRows } from './rows.ts';

export const EPOCHS_PROJECTION = 'epochs';

/** Creates the epochs projection. */
export function epochsProjection(): Projection {
  return {
    name: EPOCHS_PROJECTION,
    canHandle: [
      'PoolRevenueReceived',
      'MemberRevenueReceived',
      'EpochOpened',
      'EpochScheduleChanged',
      'EpochClosing',
      'ContributionsFrozen',
      'RewardsComputed',
      'RootCommitConfirmed',
      'PayoutBatchPlanned',
      'PayoutBatchConfirmed',
      'EpochSettled',
      'EpochHalted',
    ],
    tables: ['epochs', 'revenue'],
    handle: apply,
  };
}

type EpochRow = Database['epochs'];

const blank = (epoch_id: number): EpochsTable => ({
  epoch_id,
  status: 'open',
  started_at_ms: null,
  ends_at_ms: null,
  closed_at_ms: null,
  cut_sequence: null,
  revenue_nanoton: '0',
  carry_in_nanoton: null,
  operator_fee_nanoton: null,
  rewards_nanoton: null,
  slashed_nanoton: null,
  carry_out_nanoton: null,
  eligible: null,
  leaf_count: null,
  merkle_root: null,
  formula_version: null,
  params: null,
  root_tx_hash: null,
  batches_planned: 0,
  batches_confirmed: 0,
  payouts_confirmed: 0,
  paid_nanoton: '0',
  settled_at_ms: null,
  contributions_artifact: null,
  rewards_artifact: null,
});

const add = (a: string, b: string) => String(BigInt(a) + BigInt(b));

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext): Promise<void> {
  let current = await loadCurrentEpoch(db, EPOCHS_PROJECTION);
  const startEpoch = current;
  const wanted = new Set<number>([current]);
  for (const e of events) if ('epochId' in e.data) wanted.add(e.data.epochId as number);
  const epochs = new Map<number, EpochRow>();
  for (const r of await db.selectFrom('epochs').selectAll().where('epoch_id', 'in', [...wanted]).execute()) epochs.set(r.epoch_id, r);
  const epoch = (id: number) => {
    let r = epochs.get(id);
    if (!r) epochs.set(id, (r = blank(id)));
    return r;
  };

  const revenue = events.filter((e) => e.type === 'PoolRevenueReceived' || e.type === 'MemberRevenueReceived');
  const known = new Set<string>();
  if (revenue.length) {
    const hashes = revenue.map((e) => e.data.txHash);
    for (const r of await db.selectFrom('revenue').select('tx_hash').where('tx_hash', 'in', hashes).execute()) known.add(r.tx_hash);
  }
  const newRevenue: Database['revenue'][] = [];

  for (const e of events) {
    switch (e.type) {
      case 'PoolRevenueReceived': {
        if (known.has(e.data.txHash)) break; // each transaction counts once
        known.add(e.data.txHash);
        const row = epoch(current);
        row.revenue_nanoton = add(row.revenue_nanoton, e.data.amountNanoton);
        const d = e.data;
        newRevenue.push({
          tx_hash: d.txHash, epoch_id: current, lt: d.lt, chain_time: d.chainTime, sender: d.sender, kind: revenueKind(d),
          amount_nanoton: d.amountNanoton, query_id: d.queryId, known_proxy: d.knownProxy,
        });
        break;
      }
      case 'MemberRevenueReceived': {
        const d = e.data;
        if (!d.countedByContract || known.has(d.txHash)) break; // counted by the contract, each transaction once
        known.add(d.txHash);
        const row = epoch(current);
        row.revenue_nanoton = add(row.revenue_nanoton, d.amountNanoton);
        newRevenue.push({
          tx_hash: d.txHash, epoch_id: current, lt: d.lt, chain_time: d.chainTime, sender: d.forwarder, kind: memberRevenueKind(d),
          amount_nanoton: d.amountNanoton, query_id: d.queryId, known_proxy: d.knownProxy,
        });
        break;
      }
      case 'EpochOpened': {
        const row = epoch(e.data.epochId);
        row.started_at_ms = e.data.startedAtMs;
        row.ends_at_ms = e.data.endsAtMs;
        break;
      }
      case 'EpochScheduleChanged': {
        epoch(e.data.epochId).ends_at_ms = e.data.endsAtMs;
        break;
      }
      case 'EpochClosing': {
        const row = epoch(e.data.epochId);
        row.status = 'closing';
        row.closed_at_ms = e.data.closedAtMs;
        row.cut_sequence = e.sequence;
        current = epochAfterCut(current, e.data.epochId);
        epoch(current);
        break;
      }
      case 'ContributionsFrozen': {
        epoch(e.data.epochId).contributions_artifact = e.data.contributions;
        break;
      }
      case 'RewardsComputed': {
        const row = epoch(e.data.epochId);
        const d = e.data;
        Object.assign(row, {
          rewards_artifact: d.rewards,
          status: 'computed',
          carry_in_nanoton: d.carryInNanoton,
          operator_fee_nanoton: d.operatorFeeNanoton,
          rewards_nanoton: d.rewardsNanoton,
          slashed_nanoton: d.slashedNanoton,
          carry_out_nanoton: d.carryOutNanoton,
          eligible: d.eligible,
          leaf_count: d.leafCount,
          merkle_root: d.merkleRoot,
          formula_version: d.formulaVersion,
          params: d.params,
        });
        break;
      }
      case 'RootCommitConfirmed': {
        const row = epoch(e.data.epochId);
        row.status = 'committed';
        row.root_tx_hash = e.data.txHash;
        break;
      }
      case 'PayoutBatchPlanned': {
        const row = epoch(e.data.epochId);
        row.status = 'paying';
        row.batches_planned += 1;
        break;
      }
      case 'PayoutBatchConfirmed': {
        const row = epoch(e.data.epochId);
        row.batches_confirmed += 1;
        row.paid_nanoton = add(row.paid_nanoton, e.data.paidNanoton);
        break;
      }
      case 'EpochSettled': {
        const row = epoch(e.data.epochId);
        row.status = 'settled';
        row.payouts_confirmed = e.data.payoutsConfirmed;
        row.paid_nanoton = e.data.paidNanoton;
        row.settled_at_ms = e.data.settledAtMs;
        break;
      }
      case 'EpochHalted':
        epoch(e.data.epochId).status = 'halted';
        break;
    }
  }

  if (newRevenue.length) await db.insertInto('revenue').values(newRevenue).execute();
  if (epochs.size) {
    await upsertRows(db, 'epochs', 'epoch_id', [...epochs.values()] as unknown as Record<string, unknown>[]);
  }
  if (current !== startEpoch) await saveCurrentEpoch(db, EPOCHS_PROJECTION, current);
}
