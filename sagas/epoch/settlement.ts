/**
 * The two computations of an epoch's settlement, shared by the epoch saga (which records their
 * results as events) and by `pool audit` (which recomputes them from a replay and compares):
 * - freezing: per-participant contribution of the epoch with the reputation in force, read from
 *   the contribution and reputation read models once they have passed the epoch's cut;
 * - the split: operator fee and rewards table (domain/rewards.ts) and its Merkle tree.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { parseRawAddress } from '../../domain/address.ts';
import { buildRewardsTree, type RewardsTree } from '../../domain/merkle/index.ts';
import { INITIAL_REPUTATION } from '../../domain/reputation.ts';
import { computeEpochRewards, type EpochRewards, type RewardParams } from '../../domain/rewards.ts';
import type { Database } from '../../db/schema.ts';
import { epochContributions, type FrozenContribution } from '../../projectors/contributions.ts';
import type { RewardArtifactRow } from '../../projectors/rewards.ts';

/**
 * Reputation of each participant after epoch `epochId − 1` (the last history row before the
 * epoch; INITIAL_REPUTATION for a newcomer).
 */
async function reputationInForce(db: Kysely<Database>, epochId: number, participants: string[]): Promise<Map<string, number>> {
  const scores = new Map<string, number>();
  for (let i = 0; i < participants.length; i += 1000) {
    const rows = await sql<{ participant: string; score_after: number }>`
      select distinct on (participant) participant, score_after from reputation_history
      where epoch_id < ${epochId} and participant in (${sql.join(participants.slice(i, i + 1000))})
      order by participant, epoch_id desc`.execute(db);
    for (const r of rows.rows) scores.set(r.participant, r.score_after);
  }
  return scores;
}

/**
 * The frozen contribution table of an epoch in which the pool observed its workers for
 * `observedMs` milliseconds (projectors/contributions.ts `epochObservedMs`: the pool's own
 * downtime is excluded), ordered by participant; expected uptime = observedMs × workers.
 * Call only when the contribution projection has passed the epoch's cut and the reputation
 * projection has applied the previous epoch.
 */
export async function freezeContributions(db: Kysely<Database>, epochId: number, observedMs: number): Promise<FrozenContribution[]> {
  const rows = await epochContributions(db, epochId, observedMs);
  const scores = await reputationInForce(db, epochId, rows.map((r) => r.participant));
  const slashed = new Map((await db.selectFrom('slashes').select(['participant', 'slashes']).where('epoch_id', '=', epochId).execute()).map((s) => [s.participant, s.slashes]));
  return rows.map((r) => ({ ...r, slashes: slashed.get(r.participant) ?? 0, reputation: scores.get(r.participant) ?? INITIAL_REPUTATION }));
}

/** Revenue counted for an epoch by the epochs projection (nanoTON). */
export async function epochRevenue(db: Kysely<Database>, epochId: number): Promise<bigint> {
  const row = await db.selectFrom('epochs').select('revenue_nanoton').where('epoch_id', '=', epochId).executeTakeFirst();
  return BigInt(row?.revenue_nanoton ?? '0');
}

export interface EpochSplit {
  result: EpochRewards;
  tree: RewardsTree;
  /** the rewards artifact rows (leaf index = position) */
  table: RewardArtifactRow[];
}

/**
 * The split of an epoch from its frozen contributions.
 * @throws RewardsError on invalid input or a broken conservation invariant.
 */
export function splitEpoch(frozen: readonly FrozenContribution[], revenue: bigint, carryIn: bigint, params: RewardParams): EpochSplit {
  const result = computeEpochRewards({
    revenue,
    carryIn,
    params,
    contributions: frozen.map((r) => ({
      participant: r.participant,
      adjustedTokens: BigInt(r.adjustedTokens),
      tasks: r.tasks,
      tasksSucceeded: r.tasksSucceeded,
      taskMicros: r.taskMicros,
      uptimeMs: r.uptimeMs,
      expectedMs: r.expectedMs,
      reputation: r.reputation,
      slashed: r.slashes > 0,
    })),
  });
  const tree = buildRewardsTree(result.rewards.map((r) => ({ address: parseRawAddress(r.participant), amount: r.amount })));
  const table = result.rewards.map((r, index) => ({ index, participant: r.participant, amountNanoton: String(r.amount), scorePpb: r.scorePpb }));
  return { result, tree, table };
}
