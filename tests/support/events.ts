/** Builders of valid events for tests. */
import type { PoolEvent } from '../../schemas/catalog.ts';
import type { ArtifactRef } from '../../streams/artifacts.ts';

export const participant = (n: number) => `0:${n.toString(16).padStart(64, '0')}`;
export const requestId = (n: number) => n.toString(16).padStart(64, '0');

export function bound(workerId: string, p: number, atMs = 1): PoolEvent {
  return { type: 'WorkerBound', version: 1, id: `bound:${workerId}:${p}`, data: { workerId, participant: participant(p), endpoint: `http://127.0.0.1/${workerId}`, boundAtMs: atMs } };
}

export function sample(workerId: string, observedAtMs: number, tokens: number, queries = tokens / 100, gitCommit = 'c0ffee'): PoolEvent {
  return {
    type: 'WorkerStatsSampled',
    version: 1,
    id: `stats:${workerId}:${observedAtMs}`,
    data: {
      workerId, observedAtMs, pollMs: 1, gitCommit,
      totals: {
        queries, success: queries, failed: 0, bytesReceived: 0, bytesSent: 0, timeSeconds: 0,
        totalAdjustedTokens: tokens, promptAdjustedTokens: tokens, cachedAdjustedTokens: 0, completionAdjustedTokens: 0, reasoningAdjustedTokens: 0,
      },
      health: { healthy: true, reasons: [], walletBalanceNanoton: '4731250113', tonLastSyncedAt: 1 },
      ownerAddress: null,
      model: 'Qwen/Qwen3-8B',
    },
  };
}

export function pollFailed(workerId: string, observedAtMs: number): PoolEvent {
  return { type: 'WorkerPollFailed', version: 1, id: `pollfail:${workerId}:${observedAtMs}`, data: { workerId, observedAtMs, kind: 'connect', reason: 'ECONNREFUSED' } };
}

export function task(workerId: string, n: number, success = true, seconds = 1.5, total = 100): PoolEvent {
  return {
    type: 'TaskCompleted',
    version: 1,
    id: `task:${requestId(n)}`,
    data: {
      workerId, requestId: requestId(n), success, seconds, payloadParts: 3, payloadBytes: 1000,
      promptTokens: total, cachedTokens: 0, completionTokens: 0, reasoningTokens: 0, totalTokens: total, loggedAtMs: null, observedAtMs: 1,
    },
  };
}

export function closing(epochId: number, atMs = 1): PoolEvent {
  return { type: 'EpochClosing', version: 1, id: `${epochId}:closing`, data: { epochId, closedAtMs: atMs } };
}

export function revenue(n: number, amount: bigint): PoolEvent {
  return {
    type: 'PoolRevenueReceived',
    version: 1,
    id: requestId(1_000_000 + n),
    data: {
      contract: participant(999), txHash: requestId(1_000_000 + n), lt: String(1000 + n), chainTime: 1, kind: 'cocoon_payout',
      sender: participant(777), amountNanoton: String(amount), queryId: String(n), knownProxy: true,
    },
  };
}

/**
 * A MemberRevenueReceived of member `m` (transaction `n`): a payout of `paid` nanoTON from a known
 * proxy at `feePerToken` nanoTON per token (verifiedTokens = paid / fee), of which `amount` reached
 * the distribution contract; `extra` overrides any field.
 */
export function memberRevenue(n: number, m: number, paid: bigint, extra: Partial<Extract<PoolEvent, { type: 'MemberRevenueReceived' }>['data']> = {}, feePerToken = 1000n): PoolEvent {
  const txHash = requestId(2_000_000 + n);
  return {
    type: 'MemberRevenueReceived',
    version: 1,
    id: txHash,
    data: {
      contract: participant(999), txHash, lt: String(5000 + n), chainTime: 1, kind: 'payout', member: participant(m), forwarder: participant(500 + m),
      proxy: participant(777), paidNanoton: String(paid), amountNanoton: String(paid - 5_000_000n), queryId: String(n), knownProxy: true,
      workerFeePerTokenNanoton: String(feePerToken), verifiedTokens: String(paid / feePerToken), countedByContract: true, ...extra,
    },
  };
}

/**
 * The ContributionsFrozen and RewardsComputed of an epoch computed with formula 1: `revenue`
 * nanoTON, `feeBps` to the operator and the rest to the leaves of `merkleRoot` (`leafCount` of
 * them, all eligible), no carry; `rewards` and `contributions` the epoch's artifacts.
 */
export function frozenAndComputed(epochId: number, c: { revenue: bigint; feeBps: number; merkleRoot: string; leafCount: number; rewards: ArtifactRef; contributions: ArtifactRef; participants: number; cutSequence: number }): PoolEvent[] {
  const fee = (c.revenue * BigInt(c.feeBps)) / 10_000n;
  return [
    {
      type: 'ContributionsFrozen', version: 1, id: `${epochId}:frozen`,
      data: { epochId, cutSequence: c.cutSequence, durationSeconds: 20, participants: c.participants, revenueNanoton: String(c.revenue), carryInNanoton: '0', contributions: c.contributions },
    },
    {
      type: 'RewardsComputed', version: 1, id: `${epochId}:computed`,
      data: {
        epochId, formulaVersion: 1, params: { operatorFeeBps: c.feeBps }, revenueNanoton: String(c.revenue), carryInNanoton: '0', operatorFeeNanoton: String(fee),
        rewardsNanoton: String(c.revenue - fee), slashedNanoton: '0', carryOutNanoton: '0', eligible: c.leafCount, leafCount: c.leafCount, merkleRoot: c.merkleRoot, rewards: c.rewards,
      },
    },
  ];
}

/** Subject of an event per the catalog conventions used by the producers. */
export function subjectOf(e: PoolEvent): string {
  switch (e.type) {
    case 'WorkerBound': return `pool.membership.${e.data.workerId}`;
    case 'WorkerStatsSampled': case 'WorkerPollFailed': return `pool.telemetry.${e.data.workerId}`;
    case 'TaskCompleted': return `pool.work.${e.data.workerId}`;
    case 'PoolRevenueReceived': case 'MemberRevenueReceived': return 'pool.chain.distribution';
    default: return `pool.epoch.${(e.data as { epochId: number }).epochId}`;
  }
}
