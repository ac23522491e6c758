/** Write helpers shared by projections that keep whole rows in memory during a batch. */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ArtifactError, type ArtifactRef, type ArtifactStore } from '../streams/artifacts.ts';
import { ProjectionInputError } from './projection.ts';

/**
 * `rows` as a relation of `table`'s row type, passed as ONE json parameter and typed by
 * PostgreSQL (`json_populate_recordset`): one bind whatever rows × columns (a multi-row VALUES
 * list binds every cell, and stops at 65 535 parameters). Rows must all have the same columns, in
 * the table's terms: numbers, decimal strings for numeric/int8, objects for jsonb (not strings).
 * Use with `.insertInto(table).columns(jsonColumns(rows)).expression(jsonRows(table, rows))`.
 */
export function jsonRows<T extends keyof Database>(table: T, rows: readonly Record<string, unknown>[]): RawBuilder<unknown> {
  const columns = jsonColumns(rows);
  return sql`select ${sql.join(columns.map((c) => sql.ref(c)))} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::json)`;
}

/** The columns of `rows` (those of the first row). */
export function jsonColumns(rows: readonly Record<string, unknown>[]): never[] {
  return Object.keys(rows[0] ?? {}) as never[];
}

/**
 * Inserts `rows` into `table`, replacing every column of an existing row with the same `key`
 * (one statement, one parameter for the whole batch: {@link jsonRows}).
 */
export async function upsertRows<T extends keyof Database>(db: Transaction<Database>, table: T, key: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (!rows.length) return;
  const columns = Object.keys(rows[0]!).filter((c) => c !== key);
  await db
    .insertInto(table)
    .columns(jsonColumns(rows))
    .expression(jsonRows(table, rows) as never)
    .onConflict((oc) => oc.column(key as never).doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}` as never)])) as never))
    .execute();
}

/**
 * Inserts `rows` into `table`, or for a row whose `keys` exist adds each of `sums` to the stored
 * value (`col = table.col + excluded.col`): counters a batch accumulates (tokens, tasks, uptime,
 * nanoTON). One statement, one parameter for the whole batch ({@link jsonRows}); other columns of
 * an existing row are left as they are.
 */
export async function addRows<T extends keyof Database>(db: Transaction<Database>, table: T, keys: readonly string[], sums: readonly string[], rows: readonly Record<string, unknown>[]): Promise<void> {
  if (!rows.length) return;
  await db
    .insertInto(table)
    .columns(jsonColumns(rows))
    .expression(jsonRows(table, rows) as never)
    .onConflict((oc) => oc.columns(keys as never).doUpdateSet(Object.fromEntries(sums.map((c) => [c, sql`${sql.ref(`${table}.${c}`)} + ${sql.ref(`excluded.${c}`)}`])) as never))
    .execute();
}

/**
 * Inserts `rows` into `table` where their `key` is not there yet (`on conflict do nothing`) and
 * returns the keys it inserted: the first sighting of each (a request id counted once ever).
 */
export async function insertNew<T extends keyof Database>(db: Transaction<Database>, table: T, key: string, rows: readonly Record<string, unknown>[]): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const inserted = await db
    .insertInto(table)
    .columns(jsonColumns(rows))
    .expression(jsonRows(table, rows) as never)
    .onConflict((oc) => oc.doNothing())
    .returning(key as never)
    .execute();
  return new Set(inserted.map((r) => String((r as Record<string, unknown>)[key])));
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
