/**
 * A participant's pull claim of its reward (ClaimReward, op 0x50c0e003, contracts/reward_distribution.tact),
 * built from the read API's proof answer and checked before anything is built: the proof's Merkle
 * root, recomputed from its cells, is the epoch's root, and the participant's leaf in it carries
 * the index and amount the API named (domain/merkle readRewardsProof). Pure: no I/O. Used by
 * `pool claim` (cli/claim.ts) and by the read API's claim route (read-api/routes/epochs.ts).
 *
 * Link format: `ton://transfer/<address>?amount=<nanoTON>&bin=<body>` with `bin` the URL-safe
 * base64 of the BoC of the message body (Tonkeeper wallet-api "ton://transfer/<address>?bin=
 * <url-encoded-base64-boc>"; docs.ton.org "Deep links"; Tonhub "Transfer link": amount in nanoTON,
 * bin the payload BoC).
 */
import { Address, Cell } from '@ton/core';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { readRewardsProof, RewardsProofError } from '../domain/merkle/index.ts';
import { formatTonFixed } from '../domain/money.ts';
import { DISTRIBUTION_LIMITS, claimRewardBody } from './distribution.ts';

/**
 * What went wrong, each with its exit code:
 * - `bad-input` (1): an address, amount or root that does not parse, an amount below the claim's cost
 * - `bad-proof` (2): the API's proof does not verify (or names another leaf, or another root than `--root`)
 * - `not-settled` (3): the epoch's rewards are not computed or its root not committed on chain yet: try later
 * - `no-epoch` (4): the API knows no such epoch
 * - `no-reward` (4): the address has no reward in the epoch
 * - `already-paid` (4): the API says the reward is paid already (by a batch or a claim)
 * - `unreachable` (5): the API did not answer, or answered something that is not the read API's
 */
export type ClaimErrorKind = 'bad-input' | 'bad-proof' | 'not-settled' | 'no-epoch' | 'no-reward' | 'already-paid' | 'unreachable';

/** The exit code of `pool claim` for each kind of ClaimError. */
export const CLAIM_EXIT: Record<ClaimErrorKind, number> = {
  'bad-input': 1,
  'bad-proof': 2,
  'not-settled': 3,
  'no-epoch': 4,
  'no-reward': 4,
  'already-paid': 4,
  unreachable: 5,
};

/** A claim that cannot be built: `kind` says why (and the exit code, CLAIM_EXIT). */
export class ClaimError extends Error {
  override name = 'ClaimError';
  constructor(
    readonly kind: ClaimErrorKind,
    message: string,
  ) {
    super(message);
  }
  get exitCode(): number {
    return CLAIM_EXIT[this.kind];
  }
}

/** Basechain gas price (nanoTON per gas unit, config param 21) the least claim value is estimated with. */
const GAS_PRICE = 400n;
/** A one-cell message's forward fee (nanoTON, config param 25), rounded up as the sagas do. */
const FORWARD_FEE = 1_000_000n;

/**
 * The least value (nanoTON) `pool claim` lets a claim carry: the contract's `claimCost` (CLAIM_GAS =
 * 30,000 gas + 2 one-cell forward fees, ≈ 0.0128 TON at today's basechain prices) estimated with
 * rounded-up prices: 30,000 × 400 + 2 × 1,000,000 = 14,000,000 (0.014 TON). Below claimCost the
 * contract refuses the claim (exit 1123) and the value bounces back less the fees.
 */
export const MIN_CLAIM_VALUE = DISTRIBUTION_LIMITS.claimGas * GAS_PRICE + 2n * FORWARD_FEE;

/**
 * The value (nanoTON) a claim carries unless `--amount` says otherwise: 0.05 TON. What exceeds
 * claimCost by more than CLAIM_CHANGE_MIN (0.01 TON) comes back to the sender as Excesses (less
 * ≈ 3k gas), so about 0.036 TON returns at today's prices.
 */
export const DEFAULT_CLAIM_VALUE = 50_000_000n;

/** `value` (nanoTON) when it is at least MIN_CLAIM_VALUE. @throws ClaimError `bad-input`. */
export function checkClaimValue(value: bigint): bigint {
  if (value >= MIN_CLAIM_VALUE) return value;
  throw new ClaimError('bad-input', `--amount ${formatTonFixed(value)} TON is below the claim's cost (at least ${formatTonFixed(MIN_CLAIM_VALUE)} TON: ${DISTRIBUTION_LIMITS.claimGas} gas and 2 forward fees); the contract would refuse it`);
}

/** The answer of `GET /api/v1/epochs/:id/proofs/:address` (read-api/routes/epochs.ts). */
export const ProofAnswer = Type.Object(
  {
    epochId: Type.Integer({ minimum: 1 }),
    index: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    address: Type.String(),
    amountNanoton: Type.String({ pattern: '^(0|[1-9][0-9]*)$' }),
    root: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    proofBoc: Type.String(),
  },
  { additionalProperties: false },
);
export type ProofAnswer = Static<typeof ProofAnswer>;

/** A claim ready to send: the message and what it claims. */
export interface Claim {
  epochId: number;
  /** the leaf index in the epoch's rewards tree */
  index: number;
  /** the participant (the leaf's address), who gets paid whoever sends the message */
  address: Address;
  /** the reward, nanoTON */
  amountNanoton: bigint;
  /** the epoch's Merkle root, 64 hex (the RewardDistribution's committed root of the epoch, as uint256) */
  root: string;
  /** the RewardDistribution the message goes to */
  distribution: Address;
  /** nanoTON the message carries (gas and fees; the change above claimCost + 0.01 TON comes back) */
  value: bigint;
  /** ClaimReward query_id: epoch_id × 2^32 + index (uint64), so the RewardClaimed event names the claim */
  queryId: bigint;
  /** the ClaimReward body */
  body: Cell;
  /** the body's BoC, standard base64 */
  bodyBase64: string;
  /** `ton://transfer/<distribution>?amount=<value>&bin=<base64url BoC>` */
  link: string;
}

/**
 * The `ton://transfer` link that makes a wallet send `value` nanoTON with body `body` to
 * `destination`: `ton://transfer/<user-friendly, bounceable address>?amount=<nanoTON>&bin=<base64url
 * of the body's BoC, unpadded>` (Tonkeeper wallet-api, docs.ton.org "Deep links"). Bounceable, so
 * a refused claim returns its value. `testOnly` writes the test-only form of the address (off mainnet).
 */
export function claimLink(destination: Address, value: bigint, body: Cell, testOnly: boolean): string {
  const bin = body.toBoc().toString('base64url');
  return `ton://transfer/${destination.toString({ bounceable: true, testOnly })}?amount=${value}&bin=${bin}`;
}

/**
 * Checks the read API's proof answer for `address` in epoch `epochId` and builds the claim of it.
 * Pure (no I/O). Checks: the answer names that epoch and address; `proofBoc` is one cell, an exotic
 * Merkle proof whose root, recomputed from its cells, is the answer's `root` (readRewardsProof), and
 * `expectedRoot` too when given (a root the participant got elsewhere, e.g. the contract's getter
 * `epoch(id)` in an explorer); the proof holds the leaf `index` whole, with `address` and
 * `amountNanoton`. The body is ClaimReward{queryId: epochId·2^32 + index, epochId, index, proof}.
 * @param value nanoTON the message carries (default DEFAULT_CLAIM_VALUE, at least MIN_CLAIM_VALUE)
 * @param testOnly the link's address in test-only form (every network but mainnet)
 * @throws ClaimError `bad-proof` when any check fails, `bad-input` for a value below MIN_CLAIM_VALUE
 *   or an `expectedRoot` that parseRoot refuses.
 */
export function buildClaim(
  answer: ProofAnswer,
  wanted: { epochId: number; address: Address; distribution: Address; value?: bigint; expectedRoot?: string; testOnly: boolean },
): Claim {
  const value = checkClaimValue(wanted.value ?? DEFAULT_CLAIM_VALUE);
  if (!Value.Check(ProofAnswer, answer)) throw new ClaimError('bad-proof', 'the read API\'s proof answer is not {epochId, index, address, amountNanoton, root, proofBoc}');
  const expected = wanted.expectedRoot === undefined ? undefined : parseRoot(wanted.expectedRoot);
  if (answer.epochId !== wanted.epochId) throw new ClaimError('bad-proof', `the read API answered for epoch ${answer.epochId}, not ${wanted.epochId}`);
  if (answer.address !== wanted.address.toRawString()) throw new ClaimError('bad-proof', `the read API answered for ${answer.address}, not ${wanted.address.toRawString()}`);
  if (expected !== undefined && answer.root !== expected) throw new ClaimError('bad-proof', `the read API's root of epoch ${wanted.epochId} is ${answer.root}, not the --root ${expected}: not claiming`);
  const amount = BigInt(answer.amountNanoton);
  let proof: Cell;
  try {
    const cells = Cell.fromBoc(Buffer.from(answer.proofBoc, 'base64'));
    if (cells.length !== 1) throw new Error(`${cells.length} root cells`);
    proof = cells[0]!;
  } catch (err) {
    throw new ClaimError('bad-proof', `the read API's proofBoc is not a BoC of one cell (${(err as Error).message})`);
  }
  let leaves;
  try {
    leaves = readRewardsProof(proof, Buffer.from(answer.root, 'hex'));
  } catch (err) {
    if (err instanceof RewardsProofError) throw new ClaimError('bad-proof', `the proof does not verify against root ${answer.root}: ${err.message}`);
    throw err;
  }
  const leaf = leaves.get(answer.index);
  if (!leaf) throw new ClaimError('bad-proof', `the proof does not hold leaf ${answer.index} (it holds ${[...leaves.keys()].join(', ') || 'none'})`);
  if (!leaf.address.equals(wanted.address)) throw new ClaimError('bad-proof', `leaf ${answer.index} of the proof pays ${leaf.address.toRawString()}, not ${wanted.address.toRawString()}`);
  if (leaf.amount !== amount) throw new ClaimError('bad-proof', `leaf ${answer.index} of the proof is ${leaf.amount} nanoTON, the read API said ${amount}`);

  const queryId = (BigInt(wanted.epochId) << 32n) | BigInt(answer.index);
  const body = claimRewardBody({ queryId, epochId: BigInt(wanted.epochId), index: BigInt(answer.index), proof });
  return {
    epochId: wanted.epochId,
    index: answer.index,
    address: wanted.address,
    amountNanoton: amount,
    root: answer.root,
    distribution: wanted.distribution,
    value,
    queryId,
    body,
    bodyBase64: body.toBoc().toString('base64'),
    link: claimLink(wanted.distribution, value, body, wanted.testOnly),
  };
}

/**
 * A Merkle root as given on the command line, as 64 lowercase hex digits: 64 hex digits (an
 * optional `0x` before them), or the decimal uint256 the contract's `epoch(id)` getter shows
 * (any other string of digits, below 2^256).
 * @throws ClaimError `bad-input` for anything else.
 */
export function parseRoot(value: string): string {
  const hex = /^(?:0x)?([0-9a-fA-F]{64})$/.exec(value);
  if (hex) return hex[1]!.toLowerCase();
  if (/^[0-9]{1,78}$/.test(value) && BigInt(value) < 1n << 256n) return BigInt(value).toString(16).padStart(64, '0');
  throw new ClaimError('bad-input', `--root ${JSON.stringify(value.slice(0, 100))} is not a Merkle root (64 hex digits, or the decimal uint256 of the contract's epoch getter)`);
}
