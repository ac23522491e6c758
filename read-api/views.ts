/**
 * Read models as the API shows them: worker and epoch rows in their JSON shape, and a member's
 * claimed and verified tokens per epoch (joined over contributions, member_revenue, token_credits).
 */
import { sql, type Kysely } from 'kysely';
import Type from 'typebox';
import type { Database, EpochsTable, WorkersTable } from '../db/schema.ts';
import { DecimalString, OrNull } from './common.ts';

/**
 * A member's tokens in one epoch, claimed and verified side by side (issue 11): `claimedTokens`
 * its workers' adjusted tokens (/jsonstats; frozen ones once the epoch is computed with formula 2),
 * `verifiedTokens` and `verifiedRevenueNanoton` what the network paid it through its forwarder
 * (projectors/memberRevenue.ts); for an epoch computed with formula 2, `creditedTokens` (what its
 * token component counted), the carries out and `divergent` (domain/rewardsV2.ts), else null.
 */
export const MemberTokens = Type.Object(
  {
    epochId: Type.Integer({ minimum: 1 }),
    participant: Type.String({ description: 'raw address' }),
    claimedTokens: DecimalString('adjusted tokens'),
    verifiedTokens: DecimalString('adjusted tokens'),
    verifiedRevenueNanoton: DecimalString('nanoTON'),
    creditedTokens: OrNull(DecimalString('adjusted tokens')),
    unpaidClaimsTokens: OrNull(DecimalString('adjusted tokens')),
    unclaimedPaymentsTokens: OrNull(DecimalString('adjusted tokens')),
    divergent: OrNull(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** {@link MemberTokens} rows of one epoch or one participant, ordered by epoch then participant, after `after` (epoch, participant). */
export async function memberTokens(db: Kysely<Database>, filter: { epochId: number } | { participant: string }, limit: number, after?: { epochId: number; participant: string }) {
  const where = (column: string) => ('epochId' in filter ? sql`epoch_id = ${filter.epochId}` : sql`${sql.ref(column)} = ${filter.participant}`);
  const rows = await sql<{
    epoch_id: number; participant: string; claimed_tokens: string; verified_tokens: string; verified_revenue_nanoton: string;
    credited_tokens: string | null; unpaid_claims_out: string | null; unclaimed_payments_out: string | null; divergent: boolean | null;
  }>`
    with keys as (
      select epoch_id, participant from contributions where ${where('participant')}
      union select epoch_id, member from member_revenue where ${where('member')}
      union select epoch_id, participant from token_credits where ${where('participant')}
    )
    select k.epoch_id, k.participant,
      coalesce(t.claimed_tokens, c.claimed, 0)::text as claimed_tokens,
      coalesce(m.verified_tokens, 0)::text as verified_tokens,
      coalesce(m.verified_revenue_nanoton, 0)::text as verified_revenue_nanoton,
      t.credited_tokens::text as credited_tokens, t.unpaid_claims_out::text as unpaid_claims_out,
      t.unclaimed_payments_out::text as unclaimed_payments_out, t.divergent
    from keys k
    left join lateral (select sum(adjusted_tokens) as claimed from contributions c where c.epoch_id = k.epoch_id and c.participant = k.participant) c on true
    left join member_revenue m on m.epoch_id = k.epoch_id and m.member = k.participant
    left join token_credits t on t.epoch_id = k.epoch_id and t.participant = k.participant
    where ${after ? sql`(k.epoch_id, k.participant) > (${after.epochId}, ${after.participant})` : sql`true`}
    order by k.epoch_id, k.participant
    limit ${limit}`.execute(db);
  return rows.rows.map((r) => ({
    epochId: r.epoch_id, participant: r.participant, claimedTokens: r.claimed_tokens, verifiedTokens: r.verified_tokens, verifiedRevenueNanoton: r.verified_revenue_nanoton,
    creditedTokens: r.credited_tokens, unpaidClaimsTokens: r.unpaid_claims_out, unclaimedPaymentsTokens: r.unclaimed_payments_out, divergent: r.divergent,
  }));
}

const Time = (description = 'ISO 8601 time') => Type.String({ description });
const Count = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });

/** A worker as every route shows it ({@link worker}): its binding, health, poll counters and credited tokens. */
export const Worker = Type.Object(
  {
    id: Type.String({ description: 'worker id' }),
    participant: OrNull(Type.String({ description: 'raw address of the bound participant; null while unbound' })),
    endpoint: OrNull(Type.String({ description: 'the worker\'s /jsonstats URL' })),
    status: Type.String({ description: 'unknown | online | offline' }),
    healthy: OrNull(Type.Boolean()),
    healthReasons: Type.Array(Type.String()),
    lastSeenAt: OrNull(Time()),
    consecutiveFailures: Count(),
    pollsOk: Count(),
    pollsFailed: Count(),
    uptimeSeconds: Type.Number({ minimum: 0, description: 'credited uptime, seconds' }),
    restarts: Count(),
    anomalous: Type.Boolean({ description: 'whether the last sample was not credible (credited nothing)' }),
    anomalies: Count('samples that were not credible'),
    lastAnomaly: OrNull(Type.Object({ at: Time(), reason: Type.String(), detail: Type.String() }, { additionalProperties: false })),
    gitCommit: OrNull(Type.String()),
    model: OrNull(Type.String()),
    ownerAddress: OrNull(Type.String({ description: 'raw address' })),
    walletBalanceNanoton: OrNull(DecimalString('nanoTON')),
    adjustedTokens: DecimalString('adjusted tokens'),
  },
  { additionalProperties: false },
);

/** A worker row in the {@link Worker} shape (times ISO 8601, uptime in seconds). */
export function worker(w: WorkersTable) {
  return {
    id: w.worker_id,
    participant: w.participant,
    endpoint: w.endpoint,
    status: w.status,
    healthy: w.healthy,
    healthReasons: w.health_reasons,
    lastSeenAt: w.last_seen_at_ms === null ? null : new Date(w.last_seen_at_ms).toISOString(),
    consecutiveFailures: w.consecutive_failures,
    pollsOk: w.polls_ok,
    pollsFailed: w.polls_failed,
    uptimeSeconds: w.uptime_ms / 1000,
    restarts: w.restarts,
    // samples that were not credible and credited nothing (domain/telemetry.ts)
    anomalous: w.anomalous,
    anomalies: w.anomalies,
    lastAnomaly: w.last_anomaly && { at: new Date(w.last_anomaly.atMs).toISOString(), reason: w.last_anomaly.reason, detail: w.last_anomaly.detail },
    gitCommit: w.git_commit,
    model: w.model,
    ownerAddress: w.owner_address,
    walletBalanceNanoton: w.wallet_balance_nanoton,
    adjustedTokens: w.adjusted_tokens,
  };
}

/** An epoch as every route shows it ({@link epoch}): its span, the split of its revenue, its root and its payout progress. */
export const Epoch = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    status: Type.String({ description: 'open | closing | computed | committed | paying | settled' }),
    startedAt: OrNull(Time()),
    endsAt: OrNull(Time()),
    closedAt: OrNull(Time()),
    revenueNanoton: DecimalString('nanoTON'),
    carryInNanoton: OrNull(DecimalString('nanoTON')),
    operatorFeeNanoton: OrNull(DecimalString('nanoTON')),
    rewardsNanoton: OrNull(DecimalString('nanoTON')),
    slashedNanoton: OrNull(DecimalString('nanoTON')),
    carryOutNanoton: OrNull(DecimalString('nanoTON')),
    eligibleParticipants: OrNull(Count()),
    leafCount: OrNull(Count()),
    merkleRoot: OrNull(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Merkle root of the rewards table, hex' })),
    formulaVersion: OrNull(Type.Integer({ minimum: 1 })),
    params: OrNull(Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]), { description: 'the reward formula\'s parameters' })),
    rootTxHash: OrNull(Type.String()),
    batchesPlanned: Count(),
    batchesConfirmed: Count(),
    payoutsConfirmed: Count(),
    paidNanoton: DecimalString('nanoTON'),
    settledAt: OrNull(Time()),
  },
  { additionalProperties: false },
);

/** An epoch row in the {@link Epoch} shape (times ISO 8601, amounts nanoTON decimal strings). */
export function epoch(e: EpochsTable) {
  const ms = (v: number | null) => (v === null ? null : new Date(v).toISOString());
  return {
    id: e.epoch_id,
    status: e.status,
    startedAt: ms(e.started_at_ms),
    endsAt: ms(e.ends_at_ms),
    closedAt: ms(e.closed_at_ms),
    revenueNanoton: e.revenue_nanoton,
    carryInNanoton: e.carry_in_nanoton,
    operatorFeeNanoton: e.operator_fee_nanoton,
    rewardsNanoton: e.rewards_nanoton,
    slashedNanoton: e.slashed_nanoton,
    carryOutNanoton: e.carry_out_nanoton,
    eligibleParticipants: e.eligible,
    leafCount: e.leaf_count,
    merkleRoot: e.merkle_root,
    formulaVersion: e.formula_version,
    params: e.params,
    rootTxHash: e.root_tx_hash,
    batchesPlanned: e.batches_planned,
    batchesConfirmed: e.batches_confirmed,
    payoutsConfirmed: e.payouts_confirmed,
    paidNanoton: e.paid_nanoton,
    settledAt: ms(e.settled_at_ms),
  };
}

