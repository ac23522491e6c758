/** Write helpers shared by projections that keep whole rows in memory during a batch. */
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ArtifactError, type ArtifactRef, type ArtifactStore } from '../streams/artifacts.ts';
import { ProjectionInputError } from './projection.ts';

/**
 * Inserts `rows` into `table`, replacing every column of an existing row with the same `key`
 * (one statement for the whole batch). Rows must all have the same columns.
 */
export async function upsertRows<T extends keyof Database>(db: Transaction<Database>, table: T, key: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (!rows.length) return;
  const columns = Object.keys(rows[0]!).filter((c) => c !== key);
  await db
    .insertInto(table)
    .values(rows as never)
    .onConflict((oc) => oc.column(key as never).doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}` as never)])) as never))
    .execute();
}

/**
 * Reads an artifact referenced by an event; a missing or altered one is bad input for the
 * projection (ProjectionInputError: the runner quarantines the event).
 */
export async function artifactRows<R>(artifacts: ArtifactStore, ref: ArtifactRef): Promise<R[]> {
  try {
    return await artifacts.getRows<R>(ref);
  } catch (err) {
    if (err instanceof ArtifactError) throw new ProjectionInputError(err.message);
    throw err;
  }
}
