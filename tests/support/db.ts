/** A fresh, migrated read-model database on the real PostgreSQL for one test. */
import { sql, type Kysely } from 'kysely';
import { join } from 'node:path';
import { openDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Database } from '../../db/schema.ts';
import { createTestDatabase } from './postgres.ts';

export interface TestDb {
  db: Kysely<Database>;
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export async function createMigratedDatabase(): Promise<TestDb> {
  const created = await createTestDatabase();
  const opened = await openDatabase({ url: created.url, maxConnections: 4 });
  await migrateToLatest(opened.db);
  return {
    db: opened.db,
    url: created.url,
    async drop() {
      await opened.close();
      await created.drop();
    },
  };
}

/** Raw SQL over the read models a pool left on its embedded server in `<dataDir>/pg`. */
export interface PoolReadModels {
  query<T = Record<string, unknown>>(text: string): Promise<{ rows: T[] }>;
  /** Stops the embedded server started by {@link openPoolReadModels}. */
  close(): Promise<void>;
}

/**
 * Starts the embedded PostgreSQL server on `<dataDir>/pg` of a pool that has exited (or was killed:
 * the server it left running is stopped first, db/embedded.ts), to check its read models.
 */
export async function openPoolReadModels(dataDir: string): Promise<PoolReadModels> {
  const opened = await openDatabase({ embeddedDir: join(dataDir, 'pg'), maxConnections: 2 });
  return {
    query: async <T,>(text: string) => ({ rows: (await sql.raw<T>(text).execute(opened.db)).rows }),
    close: () => opened.close(),
  };
}
