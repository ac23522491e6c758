/**
 * A projection turns events into read-model rows. Shape after Emmett's projections:
 * `{ name, canHandle, handle(events, context) }`; the runner (projectors/runner.ts) feeds it
 * batches and commits its writes and its checkpoint in one transaction.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { EventType, RecordedEvent } from '../schemas/catalog.ts';
import type { ArtifactStore } from '../streams/artifacts.ts';

export interface ProjectionContext {
  /** The batch's transaction: every write goes through it. */
  db: Transaction<Database>;
  /** Epoch artifacts referenced by events (read-only use). */
  artifacts: ArtifactStore;
}

export interface Projection {
  /** Checkpoint key; also the dead-letter source token. */
  name: string;
  /** Event types it reads; the runner subscribes to exactly these. */
  canHandle: readonly EventType[];
  /** Tables it owns (emptied by a rebuild). */
  tables: readonly (keyof Database)[];
  /**
   * Applies a batch, in order. Must batch its writes and be deterministic: the same events give
   * the same rows. Throwing rolls the whole batch back; see the runner for retries and quarantine.
   */
  handle(events: readonly RecordedEvent[], context: ProjectionContext): Promise<void>;
}

/**
 * Thrown by a handler for an event that is valid by schema but cannot be applied (e.g. it refers
 * to an artifact that does not exist). The runner quarantines that event and goes on.
 */
export class ProjectionInputError extends Error {
  override name = 'ProjectionInputError';
}
