/** Applies the read-model migrations in db/migrations/ (kysely Migrator, in-code provider). */
import type { Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import * as m0001 from './migrations/0001_read_models.ts';
import * as m0002 from './migrations/0002_registry.ts';
import * as m0003 from './migrations/0003_telemetry_evidence.ts';
import * as m0004 from './migrations/0004_observation.ts';
import * as m0005 from './migrations/0005_stream_identity.ts';
import * as m0006 from './migrations/0006_member_floats.ts';
import * as m0007 from './migrations/0007_member_revenue.ts';
import * as m0008 from './migrations/0008_worker_contracts.ts';
import * as m0009 from './migrations/0009_epoch_artifacts.ts';
import * as m0010 from './migrations/0010_alerts.ts';
import * as m0011 from './migrations/0011_worker_stats.ts';

const migrations: Record<string, Migration> = {
  '0001_read_models': m0001,
  '0002_registry': m0002,
  '0003_telemetry_evidence': m0003,
  '0004_observation': m0004,
  '0005_stream_identity': m0005,
  '0006_member_floats': m0006,
  '0007_member_revenue': m0007,
  '0008_worker_contracts': m0008,
  '0009_epoch_artifacts': m0009,
  '0010_alerts': m0010,
  '0011_worker_stats': m0011,
};

/**
 * Migrates to the latest version; safe to call at every start (kysely takes a lock table).
 * Unordered migrations are allowed: 0009 was added after 0010 had shipped, so a database already
 * at 0010 gets 0009 applied at its next start instead of kysely refusing the history as corrupted.
 * @throws Error carrying the failing migration's error.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
