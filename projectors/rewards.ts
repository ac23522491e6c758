/**
 * Rewards and payouts read model: one row per leaf of each epoch's rewards table (from the
 * RewardsComputed artifact), its batch, and whether and how it was paid on chain (a push batch or
 * a pull claim, with the transaction) — only from chain events, never from a send returning.
 */
import type { RecordedEvent } from '../schemas/catalog.ts';
import { ProjectionInputError, type Projection, type ProjectionContext } from './projection.ts';
import { artifactRows } from './rows.ts';

export const REWARDS_PROJECTION = 'rewards';

/** A row of the rewards artifact written by the epoch saga. */
export interface RewardArtifactRow {
  index: number;
  participant: string;
  amountNanoton: string;
  scorePpb: number;
}

/** Creates the rewards projection. */
export function rewardsProjection(): Projection {
  return {
    name: REWARDS_PROJECTION,
    canHandle: ['RewardsComputed', 'PayoutBatchPlanned', 'RewardBatchPaid', 'RewardClaimed'],
    tables: ['rewards'],
    handle: apply,
  };
}

async function apply(events: readonly RecordedEvent[], { db, artifacts }: ProjectionContext): Promise<void> {
  for (const e of events) {
    switch (e.type) {
      case 'RewardsComputed': {
        const rows = await artifactRows<RewardArtifactRow>(artifacts, e.data.rewards);
        if (rows.length !== e.data.leafCount) throw new ProjectionInputError(`epoch ${e.data.epochId}: artifact has ${rows.length} rows, event says ${e.data.leafCount}`);
        for (let i = 0; i < rows.length; i += 1000) {
          await db
            .insertInto('rewards')
            .values(
              rows.slice(i, i + 1000).map((r) => ({
                epoch_id: e.data.epochId,
                leaf_index: r.index,
                participant: r.participant,
                amount_nanoton: r.amountNanoton,
                score_ppb: r.scorePpb,
                status: 'pending',
                method: null,
                batch: null,
                tx_hash: null,
                paid_at_ms: null,
              })),
            )
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
        break;
      }
      case 'PayoutBatchPlanned': {
        const { epochId, batch, fromIndex, count } = e.data;
        await db
          .updateTable('rewards')
          .set({ batch })
          .where('epoch_id', '=', epochId)
          .where('leaf_index', '>=', fromIndex)
          .where('leaf_index', '<', fromIndex + count)
          .execute();
        break;
      }
      case 'RewardBatchPaid': {
        const d = e.data;
        const indexes = d.payouts.map((p) => p.index);
        if (!indexes.length) break;
        await db
          .updateTable('rewards')
          .set({ status: 'paid', method: 'batch', tx_hash: d.txHash, paid_at_ms: d.chainTime * 1000 })
          .where('epoch_id', '=', d.epochId)
          .where('leaf_index', 'in', indexes)
          .where('status', '=', 'pending')
          .execute();
        break;
      }
      case 'RewardClaimed': {
        const d = e.data;
        await db
          .updateTable('rewards')
          .set({ status: 'paid', method: 'claim', tx_hash: d.txHash, paid_at_ms: d.chainTime * 1000 })
          .where('epoch_id', '=', d.epochId)
          .where('leaf_index', '=', d.index)
          .where('status', '=', 'pending')
          .execute();
        break;
      }
    }
  }
}
