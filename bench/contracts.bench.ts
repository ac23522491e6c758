/**
 * Benchmark of the RewardDistribution payouts on @ton/sandbox (bundled mainnet-like config):
 * gas (units, config independent) and fees (nanoTON under the bundled config) of
 * - a proof-verified PayoutBatch of 200 consecutive leaves,
 * - a single ClaimReward (a leaf in the first quarter and the last leaf, the deepest bitmap node)
 *   carrying exactly claimCost, and one carrying more than claimCost + 0.01 TON (change returned:
 *   the claim finishes in the Tact receiver instead of inside claimLeaf),
 * from rewards trees of 1k, 100k and 1M leaves built with domain/merkle, and, in the same run,
 * the raw limit: the same 200 payouts as plain transfers in one @ton/ton WalletContractV5R1
 * request (no proof, no bitmap, no accounting), and the operator's hot wallet: the official
 * highload wallet v3 (chain/wallet/highloadV3.ts) sending 1 and 200 plain transfers, gas and fees
 * of its two transactions together (the external one, which spends the query_id and sends the
 * internal_transfer to itself, and the internal one, which sends the messages).
 *
 * Fees = compute fee + forward fees of everything the transaction sends (payouts, event, change)
 * + the forward (or import) fee of the message that brings the batch (its proof) in.
 * Targets (issue 4): verified push ≤ 2,500 gas a payout at 100k leaves, claim ≤ 12,000 gas at 100k.
 * Asserted (exit 1 otherwise): the revenue intake of a Cocoon payout uses exactly the contract's
 * REVENUE_INTAKE_GAS (its getter revenueIntakeCost prices it; a payout below fails, issue 7) and
 * sends nothing; before issue 7 it used 4,251 gas and emitted an event (1.7004 mTON of gas and
 * 0.4 mTON of forward fee a payout).
 * For the claim of leaf n/4 of the 100k tree (or of the first size when 100k is not measured) the
 * VM log is split by kind of cost (TVM gas rules: 500 a cell created, 100 a cell loaded the first
 * time in the transaction, code cells included, 526 a queued message, the rest the instructions'
 * own prices), the figures the contract README's "Gas" section explains.
 *
 * The MemberForwarder (issue 11), with the registry deploying it on joining and Cocoon's own
 * cocoon wallet code (tests/fixtures/cocoon): gas and fees of a forwarded payout (asserted: exactly
 * FORWARDER_GAS.forward, target ≤ 3,000), of the MemberPayout intake at the distribution, of a
 * flush with a backlog and its MemberBacklog intake, and of a relayed "w" round trip (the
 * forwarder's two transactions: the relay and the wallet's reply on to the member), each asserted
 * equal to its FORWARDER_GAS figure.
 *
 * Usage: `node --import tsx bench/contracts.bench.ts [sizes=1000,100000,1000000]`
 */
import { Blockchain, type BlockchainTransaction, type SendMessageResult } from '@ton/sandbox';
import { Address, beginCell, Cell, contractAddress, internal, SendMode, toNano, type Transaction } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { WalletContractV5R1 } from '@ton/ton';
import { HighloadQueryId, highloadV3Address, highloadV3StateInit, signTransfer } from '../chain/wallet/highloadV3.ts';
import { claimRewardBody, cocoonPayoutBody, commitEpochRootBody, DISTRIBUTION_LIMITS, payoutBatchBody, rewardDistributionFor, rootToUint } from '../contracts/distribution.ts';
import { buildRewardsTree, type RewardLeaf } from '../domain/merkle/index.ts';
import { flushBacklogBody, FORWARDER_GAS, memberForwarderAddress, memberPayoutBody, relayToCocoonWalletBody } from '../contracts/forwarder.ts';
import { PoolOperator, REGISTER_GAS_VALUE, registerBody } from '../contracts/operator.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BATCH = 200;
const TARGET_PUSH_GAS_PER_PAYOUT = 2_500;
const TARGET_CLAIM_GAS = 12_000;

interface Row {
  what: string;
  leaves: number;
  payouts: number;
  gas: bigint;
  fees: bigint; // compute + forward fees of the measured transaction
  inbound: bigint; // forward/import fee of the message carrying the request
}

/** Leaves i → a distinct basechain address, 0.001 TON + i nanoTON. */
function makeLeaves(n: number): RewardLeaf[] {
  const leaves: RewardLeaf[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const hash = Buffer.alloc(32, 0x33);
    hash.writeUInt32BE(i, 0);
    leaves[i] = { address: new Address(0, hash), amount: 1_000_000n + BigInt(i) };
  }
  return leaves;
}

function phases(tx: Transaction) {
  const d = tx.description;
  if (d.type !== 'generic' || d.computePhase.type !== 'vm') throw new Error('not an ordinary transaction');
  if (!d.computePhase.success || d.aborted) throw new Error(`transaction failed: exit ${d.computePhase.exitCode}, action ${d.actionPhase?.resultCode}`);
  const fwd = d.actionPhase?.totalFwdFees ?? 0n;
  const storage = d.storagePhase?.storageFeesCollected ?? 0n;
  const action = d.actionPhase?.totalActionFees ?? 0n;
  return { gas: d.computePhase.gasUsed, compute: d.computePhase.gasFees, fwd, other: tx.totalFees.coins - storage - d.computePhase.gasFees - action };
}

function txOf(result: SendMessageResult, address: Address): Transaction {
  const tx = result.transactions.find((t) => t.inMessage?.info.dest instanceof Address && t.inMessage.info.dest.equals(address));
  if (!tx) throw new Error(`no transaction on ${address.toString()}`);
  return tx;
}

const REVENUE_ROW = 'revenue: Cocoon payout';

/** Gas and fees of the other frequent operations (revenue intake is paid from the pool's balance). */
interface OpRow {
  what: string;
  gas: bigint;
  fees: bigint;
}

/**
 * Measures one tree size: batch of 200 in the middle, claims early and at the end (and one with
 * change); with `withBreakdown`, also the gas of the first claim by kind of cost (gasByKind).
 */
async function measureTree(n: number, withBreakdown: boolean): Promise<{ rows: Row[]; ops: OpRow[]; buildMs: number; breakdown: GasKind[] }> {
  const leaves = makeLeaves(n);
  const started = performance.now();
  const tree = buildRewardsTree(leaves);
  const buildMs = performance.now() - started;
  const total = leaves.reduce((s, l) => s + l.amount, 0n);

  const bc = await Blockchain.create();
  const owner = await bc.treasury('owner', { balance: total + toNano('100000') });
  const claimer = await bc.treasury('claimer');
  const rd = bc.openContract(await rewardDistributionFor(owner.address, 1n));
  await rd.send(owner.getSender(), { value: total + toNano('10') }, null);
  const commit = await owner.send({ to: rd.address, value: toNano('0.1'), body: commitEpochRootBody({ queryId: 1n, epochId: 1n, root: rootToUint(tree.root), leafCount: BigInt(n), total, operatorFee: 0n }) });
  const revenue = await claimer.send({ to: rd.address, value: toNano('1'), bounce: false, body: cocoonPayoutBody({ queryId: 9n }) });
  const transfer = await claimer.send({ to: rd.address, value: toNano('1'), bounce: false, body: beginCell().endCell() });
  const ops: OpRow[] = [];
  for (const [what, result] of [[`commit epoch (${n} leaves)`, commit], [REVENUE_ROW, revenue], ['revenue: plain transfer', transfer]] as const) {
    const tx = txOf(result, rd.address);
    const p = phases(tx);
    if (what === REVENUE_ROW && (p.gas !== DISTRIBUTION_LIMITS.revenueIntakeGas || tx.outMessagesCount !== 0)) {
      throw new Error(`revenue intake: ${p.gas} gas and ${tx.outMessagesCount} messages, the contract promises ${DISTRIBUTION_LIMITS.revenueIntakeGas} gas and none (REVENUE_INTAKE_GAS)`);
    }
    ops.push({ what, gas: p.gas, fees: p.compute + p.fwd });
  }

  const from = Math.max(0, Math.floor(n / 2) - BATCH / 2);
  const batch = await owner.send({
    to: rd.address,
    value: toNano('2'),
    body: payoutBatchBody({ queryId: 2n, epochId: 1n, fromIndex: BigInt(from), count: BigInt(BATCH), proof: tree.proofForRange(from, BATCH) }),
  });
  const b = phases(txOf(batch, rd.address));
  const rows: Row[] = [{ what: 'verified push batch', leaves: n, payouts: BATCH, gas: b.gas, fees: b.compute + b.fwd, inbound: phases(txOf(batch, owner.address)).fwd }];

  const cost = await rd.getClaimCost();
  let breakdown: GasKind[] = [];
  const claims = [
    ['claim, leaf n/4', Math.floor(n / 4), cost],
    ['claim, last leaf', n - 1, cost],
    ['claim + change, leaf n/4 + 1', Math.floor(n / 4) + 1, cost + toNano('0.5')],
  ] as const;
  for (const [label, index, value] of claims) {
    const traced = withBreakdown && label === 'claim, leaf n/4';
    if (traced) bc.verbosity = { ...bc.verbosity, print: false, vmLogs: 'vm_logs_gas' };
    const claim = await claimer.send({ to: rd.address, value, body: claimRewardBody({ queryId: 3n, epochId: 1n, index: BigInt(index), proof: tree.proof([index]) }) });
    const tx = txOf(claim, rd.address);
    if (traced) {
      breakdown = gasByKind((tx as BlockchainTransaction).vmLogs);
      bc.verbosity = { ...bc.verbosity, vmLogs: 'none' };
    }
    const c = phases(tx);
    rows.push({ what: label, leaves: n, payouts: 1, gas: c.gas, fees: c.compute + c.fwd, inbound: phases(txOf(claim, claimer.address)).fwd });
  }
  return { rows, ops, buildMs, breakdown };
}

/** Gas of one kind of cost in a transaction's VM log. */
interface GasKind {
  kind: string;
  gas: number;
  count: number;
}

const KINDS = {
  create: 'cells created (ENDC, dictionary set): 500 each',
  action: 'messages queued (SENDRAWMSG): 526 each',
  data: 'data cells loaded (CTOS, XCTOS, dictionary lookups): 100 each',
  code: 'code cells loaded (JMPREF, IFJMPREF, PUSHREFCONT, ...): 100 each',
  instructions: 'instructions (their own prices, 18-34 each)',
} as const;

/**
 * Splits the gas of a `vm_logs_gas` log (one transaction) by kind of cost, from the gas each
 * instruction used (the drop of "gas remaining"; SETGASLIMIT lowers the limit, so its own price,
 * 26, is used). Cell creation, cell loads (first load 100, reload 25) and queued messages are
 * separated from the instruction's base price by name; everything else is instructions.
 */
function gasByKind(log: string): GasKind[] {
  const sums = new Map<string, GasKind>(Object.values(KINDS).map((kind) => [kind, { kind, gas: 0, count: 0 }]));
  const add = (kind: string, gas: number, count = 1) => {
    const k = sums.get(kind)!;
    k.gas += gas;
    k.count += count;
  };
  let name = '';
  let previous: number | null = null;
  let limitChanged = false;
  for (const line of log.split('\n')) {
    if (line.startsWith('execute ')) name = line.slice(8);
    else if (line.startsWith('changing gas limit')) limitChanged = true;
    else if (line.startsWith('gas remaining: ')) {
      const remaining = Number(line.slice(15));
      if (previous !== null) {
        const gas = limitChanged ? 26 : previous - remaining;
        limitChanged = false;
        if (name === 'SENDRAWMSG') add(KINDS.action, gas);
        else if (name === 'ENDC' || /^DICT\w*SET/.test(name)) {
          add(KINDS.create, 500);
          add(KINDS.instructions, gas - 500, 1);
        } else if (/^DICT\w*GET/.test(name) && gas > 100) {
          const loads = Math.floor((gas - 18) / 100);
          add(KINDS.data, loads * 100, loads);
          add(KINDS.instructions, gas - loads * 100);
        } else if (/^X?CTOS/.test(name) && gas > 100) {
          add(KINDS.data, 100);
          add(KINDS.instructions, gas - 100);
        } else if (/REF/.test(name) && gas >= 100) {
          add(KINDS.code, 100);
          add(KINDS.instructions, gas - 100);
        } else add(KINDS.instructions, gas);
      }
      previous = remaining;
    }
  }
  return [...sums.values()];
}

/** The raw limit: 200 plain non-bounceable transfers from one WalletContractV5R1 request. */
async function measureWallet(): Promise<Row> {
  const leaves = makeLeaves(BATCH);
  const bc = await Blockchain.create();
  const funder = await bc.treasury('funder');
  const keys = keyPairFromSeed(Buffer.alloc(32, 7));
  const wallet = bc.openContract(WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey }));
  await funder.send({ to: wallet.address, value: toNano('100'), bounce: false });
  const sendMode = SendMode.PAY_GAS_SEPARATELY;
  // deploy with a first transfer, then measure a warm wallet
  await wallet.sendTransfer({ seqno: 0, secretKey: keys.secretKey, sendMode, messages: [internal({ to: funder.address, value: 1n, bounce: false })] });
  const messages = leaves.map((l) => internal({ to: l.address, value: l.amount, bounce: false }));
  const result = await bc.sendMessage({
    info: { type: 'external-in', dest: wallet.address, importFee: 0n },
    body: wallet.createTransfer({ seqno: 1, secretKey: keys.secretKey, sendMode, messages }),
  });
  const w = phases(txOf(result, wallet.address));
  return { what: 'WalletV5R1 plain transfers', leaves: 0, payouts: BATCH, gas: w.gas, fees: w.compute + w.fwd, inbound: w.other };
}

/** Highload wallet v3 gas of the external and the internal transaction of one send. */
interface HighloadSplit {
  messages: number;
  external: bigint;
  internal: bigint;
}

/**
 * The operator's hot wallet: `n` plain non-bounceable transfers in one highload v3 send (warm
 * wallet: deployed by a first send). Gas and fees are both wallet transactions' together; inbound
 * is the import fee of the external message.
 */
async function measureHighload(n: number): Promise<{ row: Row; split: HighloadSplit }> {
  const leaves = makeLeaves(n);
  const bc = await Blockchain.create();
  const funder = await bc.treasury('funder');
  const keys = keyPairFromSeed(Buffer.alloc(32, 7));
  const config = { publicKey: keys.publicKey, subwalletId: 0x10ad, timeout: 3600 };
  const wallet = highloadV3Address(config);
  await funder.send({ to: wallet, value: toNano('100'), bounce: false });
  const base = { secretKey: keys.secretKey, walletAddress: wallet, subwalletId: config.subwalletId, timeout: config.timeout, createdAt: bc.now ?? Math.floor(Date.now() / 1000) };
  await bc.sendMessage(signTransfer({ ...base, queryId: HighloadQueryId.first(), messages: [{ to: funder.address, value: 1n, bounce: false }], init: highloadV3StateInit(config) }).message);
  const result = await bc.sendMessage(signTransfer({ ...base, queryId: HighloadQueryId.first().next(), messages: leaves.map((l) => ({ to: l.address, value: l.amount, bounce: false })) }).message);
  const [ext, int] = result.transactions.filter((t) => t.inMessage?.info.dest instanceof Address && t.inMessage.info.dest.equals(wallet)).map(phases);
  if (!ext || !int) throw new Error('highload v3: expected an external and an internal transaction');
  const row = { what: `HighloadV3 ${n} transfer${n === 1 ? '' : 's'}`, leaves: 0, payouts: n, gas: ext.gas + int.gas, fees: ext.compute + ext.fwd + int.compute + int.fwd, inbound: ext.other };
  return { row, split: { messages: n, external: ext.gas, internal: int.gas } };
}

const ton = (nano: bigint) => (Number(nano) / 1e9).toFixed(6);
const pad = (s: string | number, w: number) => String(s).padStart(w);

/** One internal message from `from` (any address: the sandbox does not check it) to `to`. */
function deliver(bc: Blockchain, from: Address, to: Address, value: bigint, body: Cell, bounce = true, init?: { code: Cell; data: Cell }) {
  return bc.sendMessage({
    info: { type: 'internal', ihrDisabled: true, bounce, bounced: false, src: from, dest: to, value: { coins: value }, ihrFee: 0n, forwardFee: 0n, createdLt: 0n, createdAt: 0 },
    init,
    body,
  });
}

/**
 * The MemberForwarder's operations (see the header), each checked against its FORWARDER_GAS
 * figure (throws otherwise). Fees = compute + forward fees of the transaction, in nanoTON.
 */
async function measureForwarder(): Promise<OpRow[]> {
  const bc = await Blockchain.create();
  bc.now = 1_800_000_000;
  const owner = await bc.treasury('owner');
  const proxy = await bc.treasury('proxy');
  const member = await bc.treasury('member', { balance: toNano('1000') });
  const rd = bc.openContract(await rewardDistributionFor(owner.address, 1n));
  await rd.send(owner.getSender(), { value: toNano('10') }, null);
  const op = bc.openContract(await PoolOperator.fromInit(owner.address, 1n, rd.address));
  await op.send(owner.getSender(), { value: toNano('1') }, null);
  const stake = toNano('100');
  await deliver(bc, member.address, op.address, stake + REGISTER_GAS_VALUE, registerBody({ queryId: 1n, stake, gpuSpecHash: 1n, gpuCount: 1n, worker: null }));
  const fwd = await memberForwarderAddress(rd.address, member.address);
  const rows: OpRow[] = [];
  const check = (what: string, tx: Transaction, expected: number, extra?: Transaction) => {
    const p = phases(tx);
    const q = extra ? phases(extra) : { gas: 0n, compute: 0n, fwd: 0n };
    const gas = p.gas + q.gas;
    if (gas !== BigInt(expected)) throw new Error(`${what}: ${gas} gas, FORWARDER_GAS says ${expected}`);
    rows.push({ what, gas, fees: p.compute + p.fwd + q.compute + q.fwd });
  };

  const payout = await deliver(bc, proxy.address, fwd, toNano('1'), cocoonPayoutBody({ queryId: 2n }), false);
  check('forwarder: forward a payout', txOf(payout, fwd), FORWARDER_GAS.forward);
  if (FORWARDER_GAS.forward > 3_000) throw new Error(`forward: ${FORWARDER_GAS.forward} gas, target ≤ 3,000`);
  check('distribution: MemberPayout intake', txOf(payout, rd.address), FORWARDER_GAS.memberPayoutIntake);

  // a refused MemberPayout (another member claimed) bounces back to the forwarder: backlog
  await deliver(bc, fwd, rd.address, toNano('0.5'), memberPayoutBody({ queryId: 3n, member: proxy.address, proxy: proxy.address, paid: toNano('0.5') }));
  const flush = await deliver(bc, owner.address, fwd, toNano('0.05'), flushBacklogBody({ queryId: 4n }));
  check('forwarder: flush a backlog', txOf(flush, fwd), FORWARDER_GAS.flush);
  check('distribution: MemberBacklog intake', txOf(flush, rd.address), FORWARDER_GAS.memberBacklogIntake);

  const code = Cell.fromBoc(Buffer.from(readFileSync(join(import.meta.dirname, '..', 'tests', 'fixtures', 'cocoon', 'cocoon-wallet.code.boc.hex'), 'utf8').trim(), 'hex'))[0]!;
  const init = { code, data: beginCell().storeUint(0, 64).storeUint(1n, 256).storeUint(0, 32).storeAddress(fwd).endCell() };
  const wallet = contractAddress(0, init);
  await deliver(bc, owner.address, wallet, toNano('2.5'), beginCell().endCell(), false, init);
  const relay = await deliver(bc, member.address, fwd, toNano('0.05'), relayToCocoonWalletBody({ queryId: 5n, wallet, command: 'w' }));
  const [out, back] = relay.transactions.filter((t) => t.inMessage?.info.dest instanceof Address && t.inMessage.info.dest.equals(fwd));
  check('forwarder: relay "w" + reply', out!, FORWARDER_GAS.relayRoundTrip, back!);
  return rows;
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '1000,100000,1000000').split(',').map(Number);
  const anchor = await measureWallet();
  const anchorGas = Number(anchor.gas) / anchor.payouts;
  const anchorFees = Number(anchor.fees + anchor.inbound) / anchor.payouts;
  const rows: Row[] = [];
  const ops: OpRow[] = [];
  const breakdownSize = sizes.includes(100_000) ? 100_000 : sizes[0];
  let breakdown: GasKind[] = [];
  for (const n of sizes) {
    const { rows: r, ops: o, buildMs, breakdown: b } = await measureTree(n, n === breakdownSize);
    if (n === breakdownSize) breakdown = b;
    process.stdout.write(`tree of ${n} leaves built by domain/merkle in ${buildMs.toFixed(0)} ms\n`);
    rows.push(...r);
    ops.push(...o.filter((op) => !op.what.startsWith('revenue') || n === sizes[0]));
  }
  rows.push(anchor);
  const highload = [await measureHighload(1), await measureHighload(BATCH)];
  const forwarder = await measureForwarder();
  rows.push(...highload.map((h) => h.row));

  process.stdout.write('\n' + ['what', 'leaves', 'payouts', 'gas', 'gas/payout', 'fees TON', 'inbound TON', 'fees/payout TON', 'gas/payout ÷ raw', 'fees/payout ÷ raw'].map((h, i) => pad(h, i === 0 ? 28 : 12)).join(' ') + '\n');
  for (const r of rows) {
    const gasPer = Number(r.gas) / r.payouts;
    const feesPer = Number(r.fees + r.inbound) / r.payouts;
    process.stdout.write(
      [
        r.what.padEnd(28),
        pad(r.leaves || '-', 12),
        pad(r.payouts, 12),
        pad(r.gas.toString(), 12),
        pad(gasPer.toFixed(0), 12),
        pad(ton(r.fees), 12),
        pad(ton(r.inbound), 12),
        pad((feesPer / 1e9).toFixed(6), 12),
        pad((gasPer / anchorGas).toFixed(2) + 'x', 12),
        pad((feesPer / anchorFees).toFixed(2) + 'x', 12),
      ].join(' ') + '\n',
    );
  }

  const claimGas = rows.find((r) => r.leaves === breakdownSize && r.what === 'claim, leaf n/4')!.gas;
  process.stdout.write(`\nclaim of leaf n/4 at ${breakdownSize} leaves (${claimGas} gas) by kind of cost (VM log):\n`);
  for (const k of breakdown) process.stdout.write(`  ${k.kind.padEnd(66)} ${pad(k.gas, 6)} ${pad((k.gas / Number(claimGas) * 100).toFixed(1) + '%', 6)}  (${k.count})\n`);
  const logged = breakdown.reduce((s, k) => s + k.gas, 0);
  process.stdout.write(`  ${'(logged total; the rest is the VM\'s implicit entry and exit)'.padEnd(66)} ${pad(logged, 6)}\n`);

  process.stdout.write('\n' + ['other operation'.padEnd(28), pad('gas', 12), pad('fees TON', 12)].join(' ') + '\n');
  for (const o of ops) process.stdout.write([o.what.padEnd(28), pad(o.gas.toString(), 12), pad(ton(o.fees), 12)].join(' ') + '\n');

  process.stdout.write('\n' + ['MemberForwarder (issue 11)'.padEnd(36), pad('gas', 12), pad('fees TON', 12)].join(' ') + '\n');
  for (const o of forwarder) process.stdout.write([o.what.padEnd(36), pad(o.gas.toString(), 12), pad(ton(o.fees), 12)].join(' ') + '\n');
  process.stdout.write(`forward: ${FORWARDER_GAS.forward} gas (asserted), target ≤ 3,000 → met\n`);

  process.stdout.write('\nhighload v3 send = external transaction (signature, query_id, sends internal_transfer to itself) + internal transaction (sends the list):\n');
  for (const h of highload) process.stdout.write(`  ${pad(h.split.messages, 3)} message(s): ${h.split.external} + ${h.split.internal} gas\n`);

  const at100k = rows.filter((r) => r.leaves === 100_000);
  const push = at100k.find((r) => r.what === 'verified push batch');
  const claims = at100k.filter((r) => r.what.startsWith('claim,'));
  process.stdout.write('\nraw limit = the WalletV5R1 row (no proof, no claimed bitmap, no accounting)\n');
  if (push) {
    const per = Number(push.gas) / push.payouts;
    process.stdout.write(`target push ≤ ${TARGET_PUSH_GAS_PER_PAYOUT} gas/payout at 100k: ${per.toFixed(0)} → ${per <= TARGET_PUSH_GAS_PER_PAYOUT ? 'met' : 'NOT met'}\n`);
  }
  for (const c of claims) {
    process.stdout.write(`target claim ≤ ${TARGET_CLAIM_GAS} gas at 100k (${c.what}): ${c.gas} → ${c.gas <= TARGET_CLAIM_GAS ? 'met' : 'NOT met'}\n`);
  }
  const intake = ops.find((o) => o.what === REVENUE_ROW)!;
  process.stdout.write(`revenue intake: ${intake.gas} gas = REVENUE_INTAKE_GAS (asserted); a Cocoon payout below ${ton(intake.fees)} TON cannot run it and is booked from its transaction\n`);
}

await main();
