/**
 * Reputation read model (0..1000, start 500): updated once per epoch from its frozen
 * contribution (ContributionsFrozen artifact) with domain/reputation.ts; history per epoch.
 * The epoch saga reads the score in force for the next epoch from here.
 */
import { sql } from 'kysely';
import { nextReputation } from '../domain/reputation.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { FrozenContribution } from './contributions.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { artifactRows, jsonColumns, jsonRows } from './rows.ts';

export const REPUTATION_PROJECTION = 'reputation';

export interface ReputationOptions {
  /** task duration at which the response part reaches 0, seconds (domain/reputation.ts) */
  maxTaskSeconds: number;
}

/** Creates the reputation projection. */
export function reputationProjection(options: ReputationOptions): Projection {
  return {
    name: REPUTATION_PROJECTION,
    canHandle: ['ContributionsFrozen'],
    tables: ['reputation', 'reputation_history'],
    handle: (events, ctx) => apply(events, ctx, options),
  };
}

async function apply(events: readonly RecordedEvent[], { db, artifacts }: ProjectionContext, options: ReputationOptions): Promise<void> {
  for (const e of events) {
    if (e.type !== 'ContributionsFrozen') continue;
    const rows = await artifactRows<FrozenContribution>(artifacts, e.data.contributions);
    const updates = rows.map((r) => {
      const { target, score } = nextReputation({
        previous: r.reputation,
        uptimeMs: r.uptimeMs,
        expectedMs: r.expectedMs,
        tasks: r.tasks,
        tasksSucceeded: r.tasksSucceeded,
        taskMicros: r.taskMicros,
        slashes: r.slashes,
        maxTaskSeconds: options.maxTaskSeconds,
      });
      return { participant: r.participant, before: r.reputation, target, score };
    });
    if (!updates.length) continue;
    const history = updates.map((u) => ({ participant: u.participant, epoch_id: e.data.epochId, score_before: u.before, target: u.target, score_after: u.score }));
    await db.insertInto('reputation_history').columns(jsonColumns(history)).expression(jsonRows('reputation_history', history) as never).onConflict((oc) => oc.doNothing()).execute();
    const scores = updates.map((u) => ({ participant: u.participant, score: u.score, last_epoch_id: e.data.epochId }));
    await db
      .insertInto('reputation')
      .columns(jsonColumns(scores))
      .expression(jsonRows('reputation', scores) as never)
      .onConflict((oc) =>
        oc.column('participant').doUpdateSet({ score: sql`excluded.score`, last_epoch_id: sql`excluded.last_epoch_id` }).where('reputation.last_epoch_id', '<', e.data.epochId),
      )
      .execute();
  }
}
