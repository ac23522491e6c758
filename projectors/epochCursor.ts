/**
 * "Which epoch does this event count for": the epoch after the last one whose cut (EpochClosing)
 * the projection has passed; 1 before any cut. Kept per projection in `epoch_cursors`, in the same
 * transaction as the rows it attributes.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';

export async function loadCurrentEpoch(db: Transaction<Database>, projection: string): Promise<number> {
  const row = await db.selectFrom('epoch_cursors').select('current_epoch').where('projection', '=', projection).executeTakeFirst();
  return row?.current_epoch ?? 1;
}

export async function saveCurrentEpoch(db: Transaction<Database>, projection: string, epoch: number): Promise<void> {
  await db
    .insertInto('epoch_cursors')
    .values({ projection, current_epoch: epoch })
    .onConflict((oc) => oc.column('projection').doUpdateSet({ current_epoch: sql`excluded.current_epoch` }))
    .execute();
}

/** The current epoch after the cut of `closedEpoch` (cuts never move it backwards). */
export function epochAfterCut(current: number, closedEpoch: number): number {
  return Math.max(current, closedEpoch + 1);
}
