/**
 * `pool claim --epoch N --address A`: a participant claims its reward of an epoch from the pool's
 * RewardDistribution contract itself, without the operator (issue 8, "Claim without the pool").
 *
 * The proof comes from the pool's read API (`GET /api/v1/epochs/:id/proofs/:address`); nothing of
 * it is believed until it is checked (contracts/claim.ts buildClaim). Then the ClaimReward message
 * is printed as a base64 BoC and as a `ton://transfer` link a wallet app opens. Nothing is read
 * from or sent to a chain: the participant's wallet sends the message; anyone may send it, the
 * contract pays the leaf's address.
 */
import { Address } from '@ton/core';
import Type from 'typebox';
import Value from 'typebox/value';
import type { PoolConfig } from '../config/config.ts';
import { buildClaim, checkClaimValue, ClaimError, ProofAnswer, type Claim } from '../contracts/claim.ts';
import { formatTonFixed } from '../domain/money.ts';

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
  out(`  amount: ${formatTonFixed(claim.amountNanoton)} TON (${claim.amountNanoton} nanoTON), paid to the participant whoever sends the message`);
  out(`  root: ${claim.root}`);
  out(`send to the pool's RewardDistribution ${claim.distribution.toString({ bounceable: true, testOnly })} (network ${config.chain.network}) with ${formatTonFixed(claim.value)} TON (${claim.value} nanoTON; the contract keeps up to 0.01 TON above the claim's cost, the rest comes back)`);
  out(`body (ClaimReward, op 0x50c0e003, query_id ${claim.queryId}), base64 BoC:`);
  out(`  ${claim.bodyBase64}`);
  out('link (open it in a TON wallet app, or make it a QR code):');
  out(`  ${claim.link}`);
  return claim;
}
