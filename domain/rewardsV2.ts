/**
 * The epoch's rewards split, formula version 2: verified contribution (issue 11, "Using what it
 * proves"). Pure and in integers (bigint tokens, nanoTON).
 *
 * Version 1 (domain/rewards.ts) rests a member's token component on what its workers' /jsonstats
 * claim. Each member's workers now name the member's forwarder as `owner_address`, so the chain
 * tells what the network paid each member: the MemberRevenueReceived events, whose
 * `verifiedTokens` = paidNanoton / worker_fee_per_token are the adjusted tokens a genuine Cocoon
 * proxy paid for (Cocoon pays exactly Δtokens × worker_fee_per_token; projectors/memberRevenue.ts
 * sums them per epoch and member).
 *
 * Rule: a member's token component counts at most what its verified revenue covers. Payouts lag
 * claims (a proxy pays a worker once ≥ 10 TON is owed, `min_worker_payout_sum`,
 * ../shared/cocoon/runtime-constants.json), so claims and payments are compared cumulatively with
 * two non-negative carries per member, recorded in the epoch's token credits artifact:
 *   C = claimedTokens + unpaidClaimsIn          (claimedTokens: the epoch's adjusted tokens)
 *   V = verifiedTokens + unclaimedPaymentsIn
 *   credited = min(C, V);  unpaidClaimsOut = C − credited;  unclaimedPaymentsOut = V − credited
 * One of the two outs is 0. Carries in are the previous epoch's outs (0 for the first epoch and
 * after an epoch computed with version 1). So every claimed token is credited at most once and
 * only once paid for: Σcredited + unpaidClaimsOut = Σclaimed, Σcredited + unclaimedPaymentsOut =
 * Σverified over any run of v2 epochs. The token component uses `credited` instead of the claimed
 * adjusted tokens; every other component (uptime, tasks, quality, reputation, eligibility, fee,
 * largest remainder, carry of the pot) is version 1's, unchanged.
 *
 * Divergence: a member whose unpaidClaimsOut > divergenceGraceTokens + divergenceToleranceBps /
 * 10000 × C claims more than the network paid it beyond what payout lag explains: an anomaly (the
 * saga records ContributionDivergenceDetected). The grace is a plain token count, recorded with
 * the params: its default, 20 000 000 tokens, is 2 × the 10 TON auto-pay threshold at the
 * emulator's worker_fee_per_token of 1000 nanoTON (2 × 10^10 / 1000); a pool on the real network
 * sets it to 2 × 10^10 / its proxies' worker_fee_per_token. The anomaly changes no amount: the
 * formula already credits only what was paid.
 */
import { computeEpochRewards, RewardsError, type EpochRewards, type ParticipantContribution, type RewardParams } from './rewards.ts';

export const REWARDS_FORMULA_V2 = 2;

/** The parameters version 2 adds to version 1's. */
export interface DivergenceParams {
  /** share of the cumulative claim (C) that may be unpaid before an anomaly, basis points (default 2000 = 20%) */
  divergenceToleranceBps: number;
  /** unpaid claimed tokens always tolerated, adjusted tokens (default 20 000 000, see the module doc) */
  divergenceGraceTokens: number;
}

export const DEFAULT_DIVERGENCE_PARAMS: DivergenceParams = {
  divergenceToleranceBps: 2000,
  divergenceGraceTokens: 20_000_000,
};

export type RewardParamsV2 = RewardParams & DivergenceParams;

/** A member's token carries between epochs (adjusted tokens, ≥ 0; at most one of them non-zero). */
export interface TokenCarry {
  /** tokens claimed and not yet paid for */
  unpaidClaims: bigint;
  /** tokens paid for and not yet claimed */
  unclaimedPayments: bigint;
}

export const NO_CARRY: TokenCarry = { unpaidClaims: 0n, unclaimedPayments: 0n };

/** One member's token credit for the epoch. */
export interface TokenCredit {
  participant: string;
  claimedTokens: bigint;
  verifiedTokens: bigint;
  unpaidClaimsIn: bigint;
  unclaimedPaymentsIn: bigint;
  /** min(C, V): the tokens the token component counts */
  creditedTokens: bigint;
  unpaidClaimsOut: bigint;
  unclaimedPaymentsOut: bigint;
  /** unpaidClaimsOut beyond grace + tolerance × C */
  divergent: boolean;
}

/**
 * The token credit of one member (module doc).
 * @throws RewardsError when a token count or carry is negative.
 */
export function creditTokens(
  participant: string,
  claimedTokens: bigint,
  verifiedTokens: bigint,
  carryIn: TokenCarry,
  params: DivergenceParams,
): TokenCredit {
  if (claimedTokens < 0n || verifiedTokens < 0n || carryIn.unpaidClaims < 0n || carryIn.unclaimedPayments < 0n) {
    throw new RewardsError(`participant ${participant}: negative token count or carry`);
  }
  const c = claimedTokens + carryIn.unpaidClaims;
  const v = verifiedTokens + carryIn.unclaimedPayments;
  const credited = c < v ? c : v;
  const unpaidClaimsOut = c - credited;
  const divergent = unpaidClaimsOut * 10_000n > BigInt(params.divergenceGraceTokens) * 10_000n + BigInt(params.divergenceToleranceBps) * c;
  return {
    participant,
    claimedTokens,
    verifiedTokens,
    unpaidClaimsIn: carryIn.unpaidClaims,
    unclaimedPaymentsIn: carryIn.unclaimedPayments,
    creditedTokens: credited,
    unpaidClaimsOut,
    unclaimedPaymentsOut: v - credited,
    divergent,
  };
}

/** A participant's frozen contribution with what version 2 also reads. */
export interface VerifiedContribution extends ParticipantContribution {
  /** adjusted tokens the network paid the participant for during the epoch */
  verifiedTokens: bigint;
  carryIn: TokenCarry;
}

export interface EpochRewardsV2Input {
  revenue: bigint;
  carryIn: bigint;
  params: RewardParamsV2;
  /** `adjustedTokens` of each is its claimed tokens */
  contributions: readonly VerifiedContribution[];
}

export interface EpochRewardsV2 extends EpochRewards {
  /** per participant, ordered by participant address */
  credits: TokenCredit[];
}

/**
 * Computes the epoch's operator fee, rewards table and token credits with version 2 (module doc):
 * version 1 with each participant's adjusted tokens replaced by its credited tokens.
 * @throws RewardsError on invalid input or a broken invariant (money or tokens).
 */
export function computeEpochRewardsV2(input: EpochRewardsV2Input): EpochRewardsV2 {
  const people = [...input.contributions].sort((a, b) => (a.participant < b.participant ? -1 : a.participant > b.participant ? 1 : 0));
  const credits = people.map((c) => creditTokens(c.participant, c.adjustedTokens, c.verifiedTokens, c.carryIn, input.params));
  for (const k of credits) {
    if (k.creditedTokens + k.unpaidClaimsOut !== k.claimedTokens + k.unpaidClaimsIn || k.creditedTokens + k.unclaimedPaymentsOut !== k.verifiedTokens + k.unclaimedPaymentsIn) {
      throw new RewardsError(`participant ${k.participant}: token carries do not conserve`);
    }
  }
  const result = computeEpochRewards({
    revenue: input.revenue,
    carryIn: input.carryIn,
    params: input.params,
    contributions: people.map(({ verifiedTokens: _v, carryIn: _c, ...c }, i) => ({ ...c, adjustedTokens: credits[i]!.creditedTokens })),
  });
  return { ...result, credits };
}
