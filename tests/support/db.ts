/** A fresh, migrated read-model database on the real PostgreSQL for one test. */
import type { Kysely } from 'kysely';
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
