/**
 * Epoch artifacts as files (issue 8): each epoch keeps the ArtifactRef
 * (`{ bucket, name, sha256, bytes, rows }`, streams/artifacts.ts) of its frozen contributions
 * (ContributionsFrozen) and of its rewards table (RewardsComputed), set by the epochs projection,
 * so the read API serves the stored objects byte for byte (GET /api/v1/epochs/:id/artifacts/:kind).
 * Epochs projected before this migration keep null references until the read models are rebuilt
 * (`pool start --rebuild`): the API then answers 404 for their files.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table epochs add column contributions_artifact jsonb, add column rewards_artifact jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table epochs drop column contributions_artifact, drop column rewards_artifact`.execute(db);
}
