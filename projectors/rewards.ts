/**
 * Rewards and payouts read model: one row per leaf of each epoch's rewards table (from the
 * RewardsComputed artifact), its batch, and whether and how it was paid on chain (a push batch or
 * a pull claim, with the transaction) — only from chain events, never from a send returning.
 * For an epoch computed with formula v2, its token credits (claimed and verified tokens side by
 * side, credited, carries) from the RewardsComputed `tokenCredits` artifact, in `token_credits`.
 */
import { sql } from 'kysely';
import type { RecordedEvent } from '../schemas/catalog.ts';
import { ProjectionInputError, type Projection, type ProjectionContext } from './projection.ts';
import { artifactRows, jsonColumns, jsonRows } from './rows.ts';

export const REWARDS_PROJECTION = 'rewards';

/** A row of the rewards artifact written by the epoch saga. */
export interface RewardArtifactRow {
  index: number;
  participant: string;
  amountNanoton: string;
  scorePpb: number;
}

/** A row of the token credits artifact of an epoch computed with formula v2 (domain/rewardsV2.ts TokenCredit; tokens as decimal strings). */
export interface TokenCreditRow {
  participant: string;
  claimedTokens: string;
  verifiedTokens: string;
  unpaidClaimsIn: string;
  unclaimedPaymentsIn: string;
  creditedTokens: string;
  unpaidClaimsOut: string;
  unclaimedPaymentsOut: string;
  divergent: boolean;
}

/** Creates the rewards projection. */
export function rewardsProjection(): Projection {
  return {
    name: REWARDS_PROJECTION,
    canHandle: ['RewardsComputed', 'PayoutBatchPlanned', 'RewardBatchPaid', 'RewardClaimed'],
    tables: ['rewards', 'token_credits'],
    handle: apply,
  };
}

/** A leaf paid on chain: by a push batch or a pull claim. */
interface Payment {
  epoch_id: number;
  leaf_index: number;
  method: 'batch' | 'claim';
  tx_hash: string;
  paid_at_ms: number;
}

/**
 * Applies the batch in order with few statements: the leaves of a RewardsComputed in one insert,
 * and the batch numbers (PayoutBatchPlanned) and payments (RewardBatchPaid, RewardClaimed) seen
 * since the last RewardsComputed in one update each, which give what applying them one by one
 * gives: planned ranges that overlap are applied one by one (the last wins), and a leaf paid
 * twice keeps its first payment (a leaf is paid only while pending).
 */
async function apply(events: readonly RecordedEvent[], { db, artifacts }: ProjectionContext): Promise<void> {
  let planned: { epoch_id: number; batch: number; from_index: number; count: number }[] = [];
  let payments = new Map<string, Payment>();
  const flush = async () => {
    await applyPlanned(db, planned);
    await applyPayments(db, [...payments.values()]);
    planned = [];
    payments = new Map();
  };
  const pay = (p: Payment) => {
    const key = `${p.epoch_id}:${p.leaf_index}`;
    if (!payments.has(key)) payments.set(key, p);
  };
  for (const e of events) {
    switch (e.type) {
      case 'RewardsComputed': {
        await flush();
        const rows = await artifactRows<RewardArtifactRow>(artifacts, e.data.rewards);
        if (rows.length !== e.data.leafCount) throw new ProjectionInputError(`epoch ${e.data.epochId}: artifact has ${rows.length} rows, event says ${e.data.leafCount}`);
        if (e.data.tokenCredits) await applyCredits(db, e.data.epochId, await artifactRows<TokenCreditRow>(artifacts, e.data.tokenCredits));
        if (!rows.length) break;
        const leaves = rows.map((r) => ({
          epoch_id: e.data.epochId,
          leaf_index: r.index,
          participant: r.participant,
          amount_nanoton: r.amountNanoton,
          score_ppb: r.scorePpb,
          status: 'pending',
        }));
        await db.insertInto('rewards').columns(jsonColumns(leaves)).expression(jsonRows('rewards', leaves) as never).onConflict((oc) => oc.doNothing()).execute();
        break;
      }
      case 'PayoutBatchPlanned': {
        const { epochId, batch, fromIndex, count } = e.data;
        planned.push({ epoch_id: epochId, batch, from_index: fromIndex, count });
        break;
      }
      case 'RewardBatchPaid': {
        const d = e.data;
        for (const p of d.payouts) pay({ epoch_id: d.epochId, leaf_index: p.index, method: 'batch', tx_hash: d.txHash, paid_at_ms: d.chainTime * 1000 });
        break;
      }
      case 'RewardClaimed': {
        const d = e.data;
        pay({ epoch_id: d.epochId, leaf_index: d.index, method: 'claim', tx_hash: d.txHash, paid_at_ms: d.chainTime * 1000 });
        break;
      }
    }
  }
  await flush();
}

/** Stores an epoch's token credits (one statement; rows already stored are kept). */
async function applyCredits(db: ProjectionContext['db'], epochId: number, credits: TokenCreditRow[]): Promise<void> {
  if (!credits.length) return;
  const rows = credits.map((c) => ({
    epoch_id: epochId, participant: c.participant, claimed_tokens: c.claimedTokens, verified_tokens: c.verifiedTokens, unpaid_claims_in: c.unpaidClaimsIn,
    unclaimed_payments_in: c.unclaimedPaymentsIn, credited_tokens: c.creditedTokens, unpaid_claims_out: c.unpaidClaimsOut, unclaimed_payments_out: c.unclaimedPaymentsOut, divergent: c.divergent,
  }));
  await db.insertInto('token_credits').columns(jsonColumns(rows)).expression(jsonRows('token_credits', rows) as never).onConflict((oc) => oc.doNothing()).execute();
}

/** Sets the batch of each planned range: one statement, unless ranges of an epoch overlap (then one each, in order). */
async function applyPlanned(db: ProjectionContext['db'], planned: { epoch_id: number; batch: number; from_index: number; count: number }[]): Promise<void> {
  if (!planned.length) return;
  const sorted = [...planned].sort((a, b) => a.epoch_id - b.epoch_id || a.from_index - b.from_index);
  const overlap = sorted.some((p, i) => i > 0 && sorted[i - 1]!.epoch_id === p.epoch_id && sorted[i - 1]!.from_index + sorted[i - 1]!.count > p.from_index);
  for (const group of overlap ? planned.map((p) => [p]) : [planned]) {
    await sql`update rewards r set batch = p.batch
              from json_to_recordset(${JSON.stringify(group)}::json) as p(epoch_id integer, batch integer, from_index integer, count integer)
              where r.epoch_id = p.epoch_id and r.leaf_index >= p.from_index and r.leaf_index < p.from_index + p.count`.execute(db);
  }
}

/** Marks each paid leaf that is still pending (one statement; `payments` has one entry per leaf). */
async function applyPayments(db: ProjectionContext['db'], payments: Payment[]): Promise<void> {
  if (!payments.length) return;
  await sql`update rewards r set status = 'paid', method = p.method, tx_hash = p.tx_hash, paid_at_ms = p.paid_at_ms
            from json_to_recordset(${JSON.stringify(payments)}::json) as p(epoch_id integer, leaf_index integer, method text, tx_hash text, paid_at_ms bigint)
            where r.epoch_id = p.epoch_id and r.leaf_index = p.leaf_index and r.status = 'pending'`.execute(db);
}
