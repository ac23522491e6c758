/**
 * `pool claim --epoch N --address A`: a participant claims its reward of an epoch from the pool's
 * RewardDistribution contract itself, without the operator (issue 8, "Claim without the pool").
 *
 * The proof comes from the pool's read API (`GET /api/v1/epochs/:id/proofs/:address`); nothing of
 * it is believed until it is checked here (domain/merkle readRewardsProof: the proof's Merkle root,
 * recomputed from its cells, is the epoch's root, and the participant's leaf in it carries the
 * index and amount the API named). Then the ClaimReward message (contracts/distribution.ts
 * `claimRewardBody`, op 0x50c0e003, contracts/reward_distribution.tact) is printed as a base64 BoC
 * and as a `ton://transfer` link a wallet app opens. Nothing is read from or sent to a chain: the
 * participant's wallet sends the message; anyone may send it, the contract pays the leaf's address.
 *
 * Link format: `ton://transfer/<address>?amount=<nanoTON>&bin=<body>` with `bin` the URL-safe
 * base64 of the BoC of the message body (Tonkeeper wallet-api "ton://transfer/<address>?bin=
 * <url-encoded-base64-boc>"; docs.ton.org "Deep links"; Tonhub "Transfer link": amount in nanoTON,
 * bin the payload BoC).
 */
import { Address, Cell } from '@ton/core';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import type { PoolConfig } from '../config/config.ts';
import { DISTRIBUTION_LIMITS, claimRewardBody } from '../contracts/distribution.ts';
import { readRewardsProof, RewardsProofError } from '../domain/merkle/index.ts';
import { NANOTON_PER_TON } from '../domain/money.ts';

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
function checkClaimValue(value: bigint): bigint {
  if (value >= MIN_CLAIM_VALUE) return value;
  throw new ClaimError('bad-input', `--amount ${tonWith9Decimals(value)} TON is below the claim's cost (at least ${tonWith9Decimals(MIN_CLAIM_VALUE)} TON: ${DISTRIBUTION_LIMITS.claimGas} gas and 2 forward fees); the contract would refuse it`);
}

/** nanoTON as TON with all 9 decimals ("0.250000000"). */
export function tonWith9Decimals(nanoton: bigint): string {
  return `${nanoton / NANOTON_PER_TON}.${(nanoton % NANOTON_PER_TON).toString().padStart(9, '0')}`;
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

/** The fields of `GET /api/v1/epochs/:id` that a claim needs (the answer has more). */
const EpochAnswer = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  status: Type.String(),
  merkleRoot: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  rootTxHash: Type.Union([Type.String(), Type.Null()]),
});

/** The fields of `GET /api/v1/payouts?address=&epoch=` that a claim needs. */
const PayoutsAnswer = Type.Object({
  payouts: Type.Array(Type.Object({ epochId: Type.Integer(), index: Type.Integer(), status: Type.String(), method: Type.Union([Type.String(), Type.Null()]), txHash: Type.Union([Type.String(), Type.Null()]) })),
});

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

/** The base URL of the read API: `--api`, else http://<config api.host>:<api.port>. */
export function claimApiBase(config: PoolConfig, flag: string | undefined): URL {
  const text = flag ?? `http://${config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host}:${config.api.port}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ClaimError('bad-input', `--api ${JSON.stringify(text)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ClaimError('bad-input', `--api ${JSON.stringify(text)}: only http and https`);
  return url;
}

/** GETs `path` of the read API: status and JSON body. @throws ClaimError `unreachable`. */
async function getJson(api: URL, path: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const url = new URL(path.replace(/^\//, ''), api.href.endsWith('/') ? api.href : `${api.href}/`);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    text = await response.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new ClaimError('unreachable', `the pool's read API at ${api.origin} is unreachable (${why}); is the pool running, or pass --api <url>`);
  }
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    throw new ClaimError('unreachable', `GET ${url.pathname} answered ${response.status} with a body that is not JSON: is ${api.origin} the pool's read API?`);
  }
}

/** The `message` of an error answer, or the status. */
function errorMessage(r: { status: number; body: unknown }): string {
  const message = (r.body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : `HTTP ${r.status}`;
}

/**
 * Asks the read API at `api` for everything a claim of `address` in `epochId` needs, in three GETs:
 * the epoch (`/api/v1/epochs/:id`: it must exist, have its rewards computed and its root committed
 * on chain), the proof (`/api/v1/epochs/:id/proofs/:address`, returned unverified: see buildClaim)
 * and the payment state (`/api/v1/payouts?address=&epoch=`: not paid yet).
 * @param timeoutMs per request, milliseconds (default 10,000)
 * @throws ClaimError `no-epoch`, `not-settled`, `no-reward`, `already-paid`, `unreachable` (also for
 *   an answer whose shape is not the read API's), `bad-proof` when the epoch's root and the proof's differ.
 */
export async function fetchClaimProof(api: URL, epochId: number, address: Address, timeoutMs = 10_000): Promise<ProofAnswer> {
  const raw = address.toRawString();
  const e = await getJson(api, `/api/v1/epochs/${epochId}`, timeoutMs);
  if (e.status === 404) throw new ClaimError('no-epoch', `no epoch ${epochId} at the pool's read API ${api.origin}`);
  if (e.status !== 200 || !Value.Check(EpochAnswer, e.body)) throw new ClaimError('unreachable', `GET /api/v1/epochs/${epochId} answered ${e.status}: ${errorMessage(e)}`);
  const epoch = e.body;
  if (epoch.merkleRoot === null) throw new ClaimError('not-settled', `epoch ${epochId} is ${epoch.status}: its rewards are not computed yet; try again once it has closed and settled`);
  if (epoch.rootTxHash === null) throw new ClaimError('not-settled', `epoch ${epochId} is ${epoch.status}: its root ${epoch.merkleRoot} is not committed on chain yet, the contract would refuse the claim; try again later`);

  const p = await getJson(api, `/api/v1/epochs/${epochId}/proofs/${raw}`, timeoutMs);
  if (p.status === 404) throw new ClaimError('no-reward', `${raw} has no reward in epoch ${epochId}`);
  if (p.status !== 200) throw new ClaimError('unreachable', `GET /api/v1/epochs/${epochId}/proofs/${raw} answered ${p.status}: ${errorMessage(p)}`);
  if (!Value.Check(ProofAnswer, p.body)) throw new ClaimError('bad-proof', 'the read API\'s proof answer is not {epochId, index, address, amountNanoton, root, proofBoc}');
  const proof = p.body;
  if (proof.root !== epoch.merkleRoot) throw new ClaimError('bad-proof', `the proof is for root ${proof.root}, the epoch's root is ${epoch.merkleRoot}`);

  const s = await getJson(api, `/api/v1/payouts?address=${encodeURIComponent(raw)}&epoch=${epochId}`, timeoutMs);
  if (s.status !== 200 || !Value.Check(PayoutsAnswer, s.body)) throw new ClaimError('unreachable', `GET /api/v1/payouts answered ${s.status}: ${errorMessage(s)}`);
  const paid = s.body.payouts.find((x) => x.epochId === epochId && x.index === proof.index && x.status === 'paid');
  if (paid) throw new ClaimError('already-paid', `the reward of ${raw} in epoch ${epochId} (leaf ${paid.index}) is paid already${paid.method ? ` by ${paid.method}` : ''}${paid.txHash ? ` in transaction ${paid.txHash}` : ''}: nothing to claim`);
  return proof;
}

/** Parses a participant address given on the command line. @throws ClaimError `bad-input`. */
export function parseClaimAddress(value: string): Address {
  try {
    return Address.parse(value);
  } catch {
    throw new ClaimError('bad-input', `--address ${JSON.stringify(value)} is not a TON address (raw 0:<64 hex> or user-friendly)`);
  }
}

/**
 * `pool claim`: fetches the proof of `flags.address` in epoch `flags.epoch` from the read API,
 * verifies it (buildClaim) and prints, one line each through `out`: what it claims (epoch, leaf
 * index, address, amount in TON with 9 decimals and nanoTON, root), where to send it and with how
 * much, the body as base64 BoC and the `ton://transfer` link.
 * @throws ClaimError (see ClaimErrorKind; the CLI exits with CLAIM_EXIT[kind]).
 */
export async function claimCommand(
  config: PoolConfig,
  flags: { epoch: number; address: string; api?: string; amount?: bigint; root?: string },
  distribution: Address,
  out: (line: string) => void,
): Promise<Claim> {
  const address = parseClaimAddress(flags.address);
  const api = claimApiBase(config, flags.api);
  if (flags.amount !== undefined) checkClaimValue(flags.amount); // before anything is fetched
  const answer = await fetchClaimProof(api, flags.epoch, address);
  const testOnly = config.chain.network !== 'mainnet';
  const claim = buildClaim(answer, { epochId: flags.epoch, address, distribution, value: flags.amount, expectedRoot: flags.root, testOnly });
  out(`claim of epoch ${claim.epochId}, leaf ${claim.index} (proof verified against root ${claim.root}${flags.root ? ', equal to --root' : ''})`);
  out(`  participant: ${claim.address.toString({ bounceable: false, testOnly })} (${claim.address.toRawString()})`);
  out(`  amount: ${tonWith9Decimals(claim.amountNanoton)} TON (${claim.amountNanoton} nanoTON), paid to the participant whoever sends the message`);
  out(`  root: ${claim.root}`);
  out(`send to the pool's RewardDistribution ${claim.distribution.toString({ bounceable: true, testOnly })} (network ${config.chain.network}) with ${tonWith9Decimals(claim.value)} TON (${claim.value} nanoTON; the contract keeps up to 0.01 TON above the claim's cost, the rest comes back)`);
  out(`body (ClaimReward, op 0x50c0e003, query_id ${claim.queryId}), base64 BoC:`);
  out(`  ${claim.bodyBase64}`);
  out('link (open it in a TON wallet app, or make it a QR code):');
  out(`  ${claim.link}`);
  return claim;
}
