/**
 * The two computations of an epoch's settlement, shared by the epoch saga (which records their
 * results as events) and by `pool audit` (which recomputes them from a replay and compares):
 * - freezing: per-participant contribution of the epoch with the reputation in force, read from
 *   the contribution and reputation read models once they have passed the epoch's cut;
 * - the split: operator fee and rewards table (domain/rewards.ts; formula v2 domain/rewardsV2.ts,
 *   with the token credits) and its Merkle tree.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { buildRewardsTree, LeafStore, type RewardsTree } from '../../domain/merkle/index.ts';
import { INITIAL_REPUTATION } from '../../domain/reputation.ts';
import { computeEpochRewards, DEFAULT_REWARD_PARAMS, type EpochRewards, type ParticipantContribution, type RewardParams } from '../../domain/rewards.ts';
import { computeEpochRewardsV2, NO_CARRY, type DivergenceParams, type TokenCarry } from '../../domain/rewardsV2.ts';
import type { Database } from '../../db/schema.ts';
import { epochContributions, type FrozenContribution } from '../../projectors/contributions.ts';
import { epochMemberRevenue } from '../../projectors/memberRevenue.ts';
import type { RewardArtifactRow, TokenCreditRow } from '../../projectors/rewards.ts';

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
 *
 * With `carriesIn` (reward formula v2: each member's token carries after the previous epoch,
 * {@link tokenCarriesAfter}) each row also carries the member's verified tokens and revenue of the
 * epoch (call only when the member-revenue projection has passed the cut too) and its carries in,
 * and every member paid during the epoch or carrying tokens has a row (zero contribution when it
 * has none: it is then ineligible, but its tokens carry on).
 */
export async function freezeContributions(
  db: Kysely<Database>,
  epochId: number,
  observedMs: number,
  carriesIn?: ReadonlyMap<string, TokenCarry>,
): Promise<FrozenContribution[]> {
  const rows: Omit<FrozenContribution, 'reputation' | 'slashes'>[] = await epochContributions(db, epochId, observedMs);
  const verified = carriesIn ? await epochMemberRevenue(db, epochId) : new Map();
  if (carriesIn) {
    const present = new Set(rows.map((r) => r.participant));
    for (const member of [...verified.keys(), ...carriesIn.keys()]) {
      if (present.has(member)) continue;
      present.add(member);
      rows.push({ participant: member, workers: 0, adjustedTokens: '0', tasks: 0, tasksSucceeded: 0, taskMicros: 0, uptimeMs: 0, expectedMs: 0, pollsOk: 0, pollsFailed: 0, restarts: 0 });
    }
    rows.sort((a, b) => (a.participant < b.participant ? -1 : a.participant > b.participant ? 1 : 0));
  }
  const scores = await reputationInForce(db, epochId, rows.map((r) => r.participant));
  const slashed = new Map((await db.selectFrom('slashes').select(['participant', 'slashes']).where('epoch_id', '=', epochId).execute()).map((s) => [s.participant, s.slashes]));
  return rows.map((r) => {
    const frozen: FrozenContribution = { ...r, slashes: slashed.get(r.participant) ?? 0, reputation: scores.get(r.participant) ?? INITIAL_REPUTATION };
    if (!carriesIn) return frozen;
    const paid = verified.get(r.participant);
    const carry = carriesIn.get(r.participant) ?? NO_CARRY;
    return {
      ...frozen,
      verifiedTokens: paid?.verified_tokens ?? '0',
      verifiedRevenueNanoton: paid?.verified_revenue_nanoton ?? '0',
      unpaidClaimsIn: String(carry.unpaidClaims),
      unclaimedPaymentsIn: String(carry.unclaimedPayments),
    };
  });
}

/**
 * Each member's token carries after an epoch, from its token credits artifact rows (formula v2);
 * members carrying nothing are left out. Pass no rows after an epoch computed with formula 1.
 */
export function tokenCarriesAfter(credits: readonly TokenCreditRow[]): Map<string, TokenCarry> {
  const out = new Map<string, TokenCarry>();
  for (const c of credits) {
    const carry = { unpaidClaims: BigInt(c.unpaidClaimsOut), unclaimedPayments: BigInt(c.unclaimedPaymentsOut) };
    if (carry.unpaidClaims || carry.unclaimedPayments) out.set(c.participant, carry);
  }
  return out;
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
  /** formula v2: the token credits artifact rows, ordered by participant; null for formula 1 */
  credits: TokenCreditRow[] | null;
}

/** The formula 1 parameters out of settings that may hold more (config `rewards`): what formula 1 reads and records. */
export function rewardParamsOf(settings: RewardParams): RewardParams {
  return Object.fromEntries(Object.keys(DEFAULT_REWARD_PARAMS).map((k) => [k, settings[k as keyof RewardParams]])) as unknown as RewardParams;
}

/**
 * The split of an epoch from its frozen contributions: formula 1, or formula 2 with `divergence`
 * (the rows must then be frozen for v2: verified tokens and carries in).
 * @throws RewardsError on invalid input or a broken conservation invariant; Error when a row
 *   frozen for formula 1 is computed with formula 2.
 */
export function splitEpoch(frozen: readonly FrozenContribution[], revenue: bigint, carryIn: bigint, params: RewardParams, divergence?: DivergenceParams): EpochSplit {
  const contributions: ParticipantContribution[] = frozen.map((r) => ({
    participant: r.participant,
    adjustedTokens: BigInt(r.adjustedTokens),
    tasks: r.tasks,
    tasksSucceeded: r.tasksSucceeded,
    taskMicros: r.taskMicros,
    uptimeMs: r.uptimeMs,
    expectedMs: r.expectedMs,
    reputation: r.reputation,
    slashed: r.slashes > 0,
  }));
  let result: EpochRewards;
  let credits: TokenCreditRow[] | null = null;
  if (divergence) {
    const v2 = computeEpochRewardsV2({
      revenue,
      carryIn,
      params: { ...params, ...divergence },
      contributions: contributions.map((c, i) => {
        const r = frozen[i]!;
        if (r.verifiedTokens === undefined || r.unpaidClaimsIn === undefined || r.unclaimedPaymentsIn === undefined) {
          throw new Error(`participant ${r.participant}: contribution frozen without verified tokens, cannot compute formula 2`);
        }
        return { ...c, verifiedTokens: BigInt(r.verifiedTokens), carryIn: { unpaidClaims: BigInt(r.unpaidClaimsIn), unclaimedPayments: BigInt(r.unclaimedPaymentsIn) } };
      }),
    });
    result = v2;
    credits = v2.credits.map((k) => ({
      participant: k.participant, claimedTokens: String(k.claimedTokens), verifiedTokens: String(k.verifiedTokens), unpaidClaimsIn: String(k.unpaidClaimsIn),
      unclaimedPaymentsIn: String(k.unclaimedPaymentsIn), creditedTokens: String(k.creditedTokens), unpaidClaimsOut: String(k.unpaidClaimsOut),
      unclaimedPaymentsOut: String(k.unclaimedPaymentsOut), divergent: k.divergent,
    }));
  } else {
    result = computeEpochRewards({ revenue, carryIn, params, contributions });
  }
  const table = result.rewards.map((r, index) => ({ index, participant: r.participant, amountNanoton: String(r.amount), scorePpb: r.scorePpb }));
  return { result, tree: rewardsTreeOf(table), table, credits };
}

/**
 * The rewards tree of the rewards table (rows in leaf order: raw address, nanoTON as a decimal
 * string), filled straight into a LeafStore: no Address object per leaf.
 * @throws RewardsTreeError on a row that is not a raw address and an amount in 1..2^120-1.
 */
export function rewardsTreeOf(rows: readonly Pick<RewardArtifactRow, 'participant' | 'amountNanoton'>[]): RewardsTree {
  const store = new LeafStore(rows.length);
  for (let i = 0; i < rows.length; i++) store.setRaw(i, rows[i]!.participant, BigInt(rows[i]!.amountNanoton));
  return buildRewardsTree(store);
}
