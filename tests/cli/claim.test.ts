/**
 * `pool claim` (cli/claim.ts) against a real read API (buildReadApi over the real PostgreSQL read
 * models projected from real NATS events) listening on a port, as a participant runs it:
 * - the builder and the CLI (a child process) fetch the proof, verify it and print a ClaimReward
 *   whose BoC decodes to that leaf (epoch, index, the proof of the epoch's root), and a
 *   `ton://transfer` link that parses (distribution address, nanoTON amount, base64url body);
 * - the printed message, sent as a wallet would from another account to a RewardDistribution on
 *   @ton/sandbox that has the same root committed, pays the participant its amount;
 * - a tampered answer (another root, amount, index, leaf, or a consistent forgery caught by
 *   --root) is refused before anything is printed; the forgery would also fail on chain (1141);
 * - no such epoch, an epoch not settled (open; computed but not committed), no reward, a reward
 *   already paid and an unreachable API each give their message and exit code.
 */
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { Address, beginCell, Cell, toNano } from '@ton/core';
import { Blockchain, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimCommand, fetchClaimProof } from '../../cli/claim.ts';
import { buildClaim, ClaimError, claimLink, DEFAULT_CLAIM_VALUE, MIN_CLAIM_VALUE, parseRoot, type ProofAnswer } from '../../contracts/claim.ts';
import { loadClaimReward } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { commitEpochRootBody, decodeRewardPayout, DISTRIBUTION_EXIT, type RewardDistribution, rewardDistributionFor, rootToUint } from '../../contracts/distribution.ts';
import { buildRewardsTree, readRewardsProof, type RewardsTree } from '../../domain/merkle/index.ts';
import { poolProjections } from '../../projectors/all.ts';
import { runProjection } from '../../projectors/runner.ts';
import { buildReadApi, type ReadApi } from '../../read-api/server.ts';
import { resolveConfig } from '../../config/config.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { closing, revenue, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { root as repoRoot } from '../support/pool.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReadApi;
let apiUrl: URL;
let bc: Blockchain;
let rd: SandboxContract<RewardDistribution>;
let stranger: SandboxContract<TreasuryContract>;
const wallets: Record<'alice' | 'bob' | 'carol' | 'dave', SandboxContract<TreasuryContract>> = {} as never;
let tree: RewardsTree;
/** leaf 0 alice (paid by a batch per the read API), 1 bob, 2 carol; dave has no reward */
const amounts = [toNano('0.7'), toNano('0.25'), toNano('1.5')];
const total = amounts.reduce((a, b) => a + b, 0n);

test.before(async () => {
  bc = await Blockchain.create();
  const owner = await bc.treasury('owner');
  stranger = await bc.treasury('stranger');
  for (const name of ['alice', 'bob', 'carol', 'dave'] as const) wallets[name] = await bc.treasury(name);
  tree = buildRewardsTree([wallets.alice, wallets.bob, wallets.carol].map((w, i) => ({ address: w.address, amount: amounts[i]! })));

  // the pool's contract on the sandbox chain, with epoch 1's root committed by its owner
  rd = bc.openContract(await rewardDistributionFor(owner.address, 7n));
  await rd.send(owner.getSender(), { value: toNano('10') }, null);
  const commit = commitEpochRootBody({ queryId: 1n, epochId: 1n, root: rootToUint(tree.root), leafCount: 3n, total, operatorFee: 0n });
  const committed = await owner.send({ to: rd.address, value: toNano('0.2'), body: commit });
  assert.ok(committed.transactions.some((t) => t.description.type === 'generic' && t.description.computePhase.type === 'vm' && t.description.computePhase.success && t.inMessage?.info.dest?.toString() === rd.address.toString()));

  // the pool's side: epoch 1 settled with that root (alice paid by batch), epoch 2 computed but
  // not committed, epoch 3 open
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const artifacts = await openArtifactStore(nats.nc);
  const rows = tree.leafCount;
  const rewards1 = await artifacts.putRows('epoch-1-rewards.json', amounts.map((a, i) => ({ index: i, participant: tree.leaf(i).address.toRawString(), amountNanoton: String(a), scorePpb: 0 })));
  const rewards2 = await artifacts.putRows('epoch-2-rewards.json', [{ index: 0, participant: wallets.bob.address.toRawString(), amountNanoton: '1000', scorePpb: 0 }]);
  const tree2 = buildRewardsTree([{ address: wallets.bob.address, amount: 1000n }]);
  const contributions = await artifacts.putRows('epoch-contributions.json', []);
  const computed = (epochId: number, merkleRoot: string, rewardsRef: typeof rewards1, leafCount: number, rewardsNanoton: bigint): PoolEvent => ({
    type: 'RewardsComputed', version: 1, id: `${epochId}:computed`,
    data: {
      epochId, formulaVersion: 1, params: { operatorFeeBps: 0 }, revenueNanoton: String(rewardsNanoton), carryInNanoton: '0', operatorFeeNanoton: '0',
      rewardsNanoton: String(rewardsNanoton), slashedNanoton: '0', carryOutNanoton: '0', eligible: leafCount, leafCount, merkleRoot, rewards: rewardsRef,
    },
  });
  const frozen = (epochId: number, cutSequence: number, revenueNanoton: bigint): PoolEvent => ({
    type: 'ContributionsFrozen', version: 1, id: `${epochId}:frozen`,
    data: { epochId, cutSequence, durationSeconds: 20, participants: 0, revenueNanoton: String(revenueNanoton), carryInNanoton: '0', contributions },
  });
  const batchTx = 'ee'.repeat(32);
  const events: PoolEvent[] = [
    { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } },
    revenue(1, total),
    closing(1, 20_000),
    frozen(1, 3, total),
    computed(1, tree.rootHex, rewards1, rows, total),
    { type: 'RootCommitConfirmed', version: 1, id: '1:root', data: { epochId: 1, txHash: 'ab'.repeat(32), confirmedAtMs: 21_000 } },
    { type: 'PayoutBatchPlanned', version: 1, id: '1:batch:0:planned', data: { epochId: 1, batch: 0, fromIndex: 0, count: 1 } },
    {
      type: 'RewardBatchPaid', version: 1, id: batchTx,
      data: {
        contract: rd.address.toRawString(), txHash: batchTx, lt: '77', chainTime: 1_700_000_000, queryId: '5', epochId: 1, fromIndex: 0, count: 1, paidCount: 1,
        paidAmountNanoton: String(amounts[0]), payouts: [{ index: 0, address: wallets.alice.address.toRawString(), amountNanoton: String(amounts[0]) }],
      },
    },
    revenue(2, 1000n),
    closing(2, 40_000),
    frozen(2, 10, 1000n),
    computed(2, tree2.rootHex, rewards2, 1, 1000n),
  ];
  await nats.store.appendMany(events.map((event) => ({ subject: event.type === 'RewardBatchPaid' ? 'pool.chain.distribution' : subjectOf(event), event })));
  for (const projection of poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 })) {
    await runProjection(projection, { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  }
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  apiUrl = new URL(await api.listen({ port: 0, host: '127.0.0.1' }));
});
test.after(async () => {
  await api?.close();
  await nats?.stop();
  await pg?.drop();
});

/** Runs `pool claim …` in a child process; resolves with exit code, stdout and stderr. */
function poolClaim(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', 'claim', ...args], { cwd: repoRoot, env: { ...process.env, POOL_CHAIN: '', PORT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

/** The message a wallet app sends for `link`: destination, nanoTON, body (bin: base64url BoC). */
function parseLink(link: string): { to: Address; value: bigint; body: Cell; bin: string } {
  const url = new URL(link);
  assert.is(url.protocol, 'ton:');
  assert.is(url.host, 'transfer');
  assert.equal([...url.searchParams.keys()].sort(), ['amount', 'bin']);
  const bin = url.searchParams.get('bin')!;
  assert.match(bin, /^[A-Za-z0-9_-]+$/, 'bin is base64url, unpadded: nothing to escape in a URL');
  const amount = url.searchParams.get('amount')!;
  assert.match(amount, /^[1-9][0-9]*$/, 'amount is nanoTON, a decimal integer');
  const cells = Cell.fromBoc(Buffer.from(bin, 'base64url'));
  assert.is(cells.length, 1);
  return { to: Address.parse(url.pathname.slice(1)), value: BigInt(amount), body: cells[0]!, bin };
}

/** Sends the link's message from `from` (bounceable, as a wallet does for an EQ… address); returns what the distribution sent to `payee` and `payee`'s balance change. */
async function sendAsWallet(from: SandboxContract<TreasuryContract>, link: string, payee: Address) {
  const m = parseLink(link);
  const before = (await bc.getContract(payee)).balance;
  const r = await from.send({ to: m.to, value: m.value, body: m.body, bounce: true });
  const tx = r.transactions.find((t) => t.inMessage?.info.dest instanceof Address && t.inMessage.info.dest.equals(rd.address))!;
  assert.ok(tx, 'the message reached the distribution contract');
  const d = tx.description;
  const exitCode = d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.exitCode : -1;
  const toPayee = [...tx.outMessages.values()].filter((o) => o.info.type === 'internal' && o.info.dest.equals(payee));
  const after = (await bc.getContract(payee)).balance;
  return { exitCode, toPayee, delta: after - before };
}

test('the builder: the verified proof of the read API becomes a ClaimReward that pays the participant on chain', async () => {
  const bob = wallets.bob.address;
  const answer = await fetchClaimProof(apiUrl, 1, bob);
  const claim = buildClaim(answer, { epochId: 1, address: bob, distribution: rd.address, testOnly: true });
  assert.equal([claim.epochId, claim.index, claim.amountNanoton, claim.root, claim.value], [1, 1, amounts[1], tree.rootHex, DEFAULT_CLAIM_VALUE]);

  // the body: ClaimReward (op 0x50c0e003) of epoch 1, leaf 1, with a Merkle proof of the epoch's root
  const body = Cell.fromBase64(claim.bodyBase64);
  assert.ok(body.equals(claim.body));
  const s = body.beginParse();
  assert.is(s.preloadUint(32), 0x50c0e003);
  const decoded = loadClaimReward(s);
  assert.equal([decoded.queryId, decoded.epochId, decoded.index], [(1n << 32n) | 1n, 1n, 1n]);
  assert.is(decoded.proof.isExotic, true);
  assert.is(decoded.proof.refs[0]!.hash(0).toString('hex'), tree.rootHex, 'the proof is of the epoch root');
  const proven = readRewardsProof(decoded.proof, tree.root);
  assert.equal([...proven.keys()], [1]);
  assert.ok(proven.get(1)!.address.equals(bob));
  assert.is(proven.get(1)!.amount, amounts[1]);

  // the link: the distribution (bounceable, test-only form), the value, the same body
  const link = parseLink(claim.link);
  assert.ok(link.to.equals(rd.address));
  assert.is(new URL(claim.link).pathname.slice(1), rd.address.toString({ bounceable: true, testOnly: true }));
  assert.is(link.value, DEFAULT_CLAIM_VALUE);
  assert.ok(link.body.equals(body), 'bin round-trips to the printed body');
  assert.is(link.bin, body.toBoc().toString('base64url'));
  assert.is(claimLink(rd.address, 123n, body, false), `ton://transfer/${rd.address.toString({ bounceable: true, testOnly: false })}?amount=123&bin=${link.bin}`);

  // sent by someone else as a wallet would: the contract pays bob his amount, once
  assert.ok(DEFAULT_CLAIM_VALUE >= (await rd.getClaimCost()) && MIN_CLAIM_VALUE >= (await rd.getClaimCost()), 'the values pool claim allows cover the contract\'s claimCost');
  const paid = await sendAsWallet(stranger, claim.link, bob);
  assert.is(paid.exitCode, 0);
  assert.is(paid.toPayee.length, 1);
  assert.is(paid.toPayee[0]!.info.type === 'internal' && paid.toPayee[0]!.info.value.coins, amounts[1]);
  assert.equal(decodeRewardPayout(paid.toPayee[0]!.body), { epochId: 1n, index: 1n });
  assert.ok(paid.delta > amounts[1]! - toNano('0.001') && paid.delta <= amounts[1]!, `bob's balance rose by his reward less his wallet's fee (${paid.delta})`);
  assert.is(await rd.getIsClaimed(1n, 1n), true);
  const again = await sendAsWallet(stranger, claim.link, bob);
  assert.is(again.exitCode, DISTRIBUTION_EXIT.alreadyClaimed, 'the same message never pays twice');
});

test('a tampered answer is refused: another root, amount, index or leaf; a consistent forgery only with --root, and the chain refuses it too', async () => {
  const bob = wallets.bob.address;
  const answer = await fetchClaimProof(apiUrl, 1, bob);
  const wanted = { epochId: 1, address: bob, distribution: rd.address, testOnly: true };
  const refused = (a: ProofAnswer, extra: { expectedRoot?: string } = {}) => {
    try {
      buildClaim(a, { ...wanted, ...extra });
    } catch (err) {
      assert.instance(err, ClaimError);
      return [(err as ClaimError).kind, (err as ClaimError).exitCode, (err as Error).message] as const;
    }
    throw new Error('not refused');
  };
  const forgedTree = buildRewardsTree([wallets.alice, wallets.bob, wallets.carol].map((w, i) => ({ address: w.address, amount: i === 1 ? toNano('5') : amounts[i]! })));
  const otherProof = (i: number) => tree.proofBoc(i).toString('base64');

  const wrongRoot = refused({ ...answer, root: forgedTree.rootHex });
  assert.equal(wrongRoot.slice(0, 2), ['bad-proof', 2]);
  assert.match(wrongRoot[2], /^the proof does not verify against root [0-9a-f]{64}: /, wrongRoot[2]);
  assert.match(refused({ ...answer, amountNanoton: String(toNano('5')) })[2], /leaf 1 of the proof is 250000000 nanoTON, the read API said 5000000000/);
  assert.match(refused({ ...answer, index: 2 })[2], /the proof does not hold leaf 2 \(it holds 1\)/);
  assert.match(refused({ ...answer, index: 2, proofBoc: otherProof(2) })[2], /leaf 2 of the proof pays 0:[0-9a-f]{64}, not /);
  assert.match(refused({ ...answer, proofBoc: Buffer.from('not a boc').toString('base64') })[2], /proofBoc is not a BoC of one cell/);
  const plainCell = beginCell().storeUint(1, 8).endCell().toBoc().toString('base64');
  assert.equal(refused({ ...answer, proofBoc: plainCell }).slice(0, 2), ['bad-proof', 2]);
  assert.match(refused({ ...answer, address: wallets.carol.address.toRawString() })[2], /the read API answered for 0:/);

  // a forged tree served consistently (root and proof) passes the proof check alone ...
  const forged: ProofAnswer = { ...answer, amountNanoton: String(toNano('5')), root: forgedTree.rootHex, proofBoc: forgedTree.proofBoc(1).toString('base64') };
  const forgedClaim = buildClaim(forged, wanted);
  // ... but not against the root the participant read from the chain
  assert.equal(refused(forged, { expectedRoot: tree.rootHex.toUpperCase() }).slice(0, 2), ['bad-proof', 2]);
  assert.match(refused(forged, { expectedRoot: tree.rootHex })[2], /not the --root/);
  assert.is(buildClaim(answer, { ...wanted, expectedRoot: tree.rootHex }).root, tree.rootHex, 'the genuine root passes --root');
  assert.equal(refused(answer, { expectedRoot: 'zz' }).slice(0, 2), ['bad-input', 1]);
  // the root as the contract's epoch getter returns it (uint256) passes --root in decimal
  const onChainRoot = (await rd.getEpoch(1n))!.root;
  assert.is(buildClaim(answer, { ...wanted, expectedRoot: onChainRoot.toString() }).root, tree.rootHex);
  assert.is(parseRoot(`0x${tree.rootHex.toUpperCase()}`), tree.rootHex);
  assert.equal(refused(answer, { expectedRoot: (1n << 256n).toString() }).slice(0, 2), ['bad-input', 1]);
  // and the contract refuses it: its proof is not of the committed root
  const onChain = await sendAsWallet(stranger, forgedClaim.link, bob);
  assert.is(onChain.exitCode, DISTRIBUTION_EXIT.proofRootMismatch);
  assert.is(onChain.toPayee.length, 0);
  // too little value for the claim's gas: refused before anything is printed
  assert.throws(() => buildClaim(answer, { ...wanted, value: MIN_CLAIM_VALUE - 1n }), (err: unknown) => err instanceof ClaimError && err.kind === 'bad-input');
});

/** The ClaimError `run` rejects with: kind, exit code, message. */
async function claimError(run: () => Promise<unknown>): Promise<[string, number, string]> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof ClaimError)) throw err;
    return [err.kind, err.exitCode, err.message];
  }
  throw new Error('no ClaimError');
}

test('no such epoch, not settled, no reward, already paid, unreachable API, bad input: the message and exit code of each', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const raw = (w: keyof typeof wallets) => wallets[w].address.toRawString();
  const ask = (epochId: number, w: keyof typeof wallets, url = apiUrl) => claimError(() => fetchClaimProof(url, epochId, wallets[w].address));
  assert.equal(await ask(99, 'bob'), ['no-epoch', 4, `no epoch 99 at the pool's read API ${apiUrl.origin}`]);
  const root2 = buildRewardsTree([{ address: wallets.bob.address, amount: 1000n }]).rootHex;
  assert.equal(await ask(2, 'bob'), ['not-settled', 3, `epoch 2 is computed: its root ${root2} is not committed on chain yet, the contract would refuse the claim; try again later`]);
  assert.equal(await ask(3, 'bob'), ['not-settled', 3, 'epoch 3 is open: its rewards are not computed yet; try again once it has closed and settled']);
  assert.equal(await ask(1, 'dave'), ['no-reward', 4, `${raw('dave')} has no reward in epoch 1`]);
  assert.equal(await ask(1, 'alice'), ['already-paid', 4, `the reward of ${raw('alice')} in epoch 1 (leaf 0) is paid already by batch in transaction ${'ee'.repeat(32)}: nothing to claim`]);
  assert.equal(await ask(1, 'bob', new URL(`http://127.0.0.1:${closed}`)), ['unreachable', 5, `the pool's read API at http://127.0.0.1:${closed} is unreachable (ECONNREFUSED); is the pool running, or pass --api <url>`]);

  // something else answering on the port: not taken for the read API
  const other = createHttpServer((_req, res) => res.end('hello'));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const otherUrl = new URL(`http://127.0.0.1:${(other.address() as { port: number }).port}`);
  assert.equal(await ask(1, 'bob', otherUrl), ['unreachable', 5, `GET /api/v1/epochs/1 answered 200 with a body that is not JSON: is ${otherUrl.origin} the pool's read API?`]);
  await new Promise((resolve) => other.close(resolve));

  // claimCommand: the API from the config (api.host, api.port) when no --api; bad input before any request
  const config = resolveConfig({ env: {}, overrides: { api: { port: Number(apiUrl.port) } } });
  const lines: string[] = [];
  const claim = await claimCommand(config, { epoch: 1, address: wallets.bob.address.toString() }, rd.address, (l) => lines.push(l));
  assert.is(claim.index, 1);
  assert.is(lines.at(-1), `  ${claim.link}`);
  const bad = (flags: Parameters<typeof claimCommand>[1]) => claimError(() => claimCommand(config, flags, rd.address, () => assert.unreachable('printed')));
  assert.equal(await bad({ epoch: 1, address: 'nope' }), ['bad-input', 1, '--address "nope" is not a TON address (raw 0:<64 hex> or user-friendly)']);
  const [kind, code, message] = await bad({ epoch: 1, address: raw('bob'), amount: toNano('0.01'), api: `http://127.0.0.1:${closed}` });
  assert.equal([kind, code], ['bad-input', 1]);
  assert.match(message, /^--amount 0\.010000000 TON is below the claim's cost \(at least 0\.014000000 TON/);
  assert.equal(await bad({ epoch: 1, address: raw('bob'), api: 'ftp://x' }), ['bad-input', 1, '--api "ftp://x": only http and https']);
});

test('pool claim in a child process prints what it claims, the base64 BoC and the link, which pays the participant; exit 3 for an epoch not settled', async () => {
  const carol = wallets.carol.address;
  const [run, notSettled] = await Promise.all([
    poolClaim(['--epoch', '1', '--address', carol.toString({ bounceable: false, testOnly: true }), '--api', apiUrl.href, '--distribution', rd.address.toRawString(), '--root', tree.rootHex]),
    poolClaim(['--epoch', '3', '--address', carol.toRawString(), '--api', apiUrl.href, '--distribution', rd.address.toRawString()]),
  ]);
  assert.is(run.code, 0, run.err);
  assert.match(run.out, new RegExp(`^claim of epoch 1, leaf 2 \\(proof verified against root ${tree.rootHex}, equal to --root\\)$`, 'm'));
  assert.match(run.out, new RegExp(`^ {2}participant: ${carol.toString({ bounceable: false, testOnly: true })} \\(${carol.toRawString()}\\)$`, 'm'));
  assert.match(run.out, /^ {2}amount: 1\.500000000 TON \(1500000000 nanoTON\)/m);
  assert.match(run.out, new RegExp(`^ {2}root: ${tree.rootHex}$`, 'm'));
  assert.match(run.out, /with 0\.050000000 TON \(50000000 nanoTON;/);
  const lines = run.out.split('\n');
  const boc = lines[lines.findIndex((l) => l.startsWith('body (ClaimReward')) + 1]!.trim();
  const link = lines[lines.findIndex((l) => l.startsWith('link (')) + 1]!.trim();
  const body = Cell.fromBase64(boc);
  const decoded = loadClaimReward(body.beginParse());
  assert.equal([decoded.epochId, decoded.index], [1n, 2n]);
  assert.ok(parseLink(link).body.equals(body), 'the link carries the printed body');

  const paid = await sendAsWallet(wallets.carol, link, carol);
  assert.is(paid.exitCode, 0);
  assert.is(paid.toPayee[0]!.info.type === 'internal' && paid.toPayee[0]!.info.value.coins, amounts[2]);
  assert.is(await rd.getIsClaimed(1n, 2n), true);

  assert.equal([notSettled.code, notSettled.out, notSettled.err.trim()], [3, '', 'pool: epoch 3 is open: its rewards are not computed yet; try again once it has closed and settled']);
});

test.run();
