import { Blockchain } from '@ton/sandbox';
import { Address, beginCell, Cell, Dictionary, toNano } from '@ton/core';
import { RewardDistribution, storeCommitEpochRoot, storePayoutBatch, storeClaimReward } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';

const N = Number(process.argv[2] ?? 1000);
const bc = await Blockchain.create();
const owner = await bc.treasury('owner');
const rd = bc.openContract(await RewardDistribution.fromInit(owner.address, 7n));
let r = await rd.send(owner.getSender(), { value: toNano('1000') }, null);
console.log('deploy', r.transactions.map((t) => t.description.type === 'generic' && t.description.computePhase.type === 'vm' ? [t.description.computePhase.exitCode, t.description.computePhase.gasUsed] : null));

const V = { serialize: (src: { a: Address; amt: bigint }, b: any) => { b.storeAddress(src.a).storeCoins(src.amt); }, parse: (s: any) => ({ a: s.loadAddress(), amt: s.loadCoins() }) };
const dict = Dictionary.empty(Dictionary.Keys.Uint(32), V);
let total = 0n;
const t0 = Date.now();
for (let i = 0; i < N; i++) { const amt = 1000000n + BigInt(i); total += amt; dict.set(i, { a: new Address(0, Buffer.alloc(32, i % 251 + 1).fill(i >> 8, 0, 4)), amt }); }
const rootCell = beginCell().storeDictDirect(dict).endCell();
console.log('built', Date.now() - t0, 'ms');
const send = async (body: Cell, value = toNano('5')) => {
  const res = await bc.sendMessage({ info: { type: 'internal', ihrDisabled: true, bounce: true, bounced: false, src: owner.address, dest: rd.address, value: { coins: value }, ihrFee: 0n, forwardFee: 0n, createdLt: 0n, createdAt: 0 }, body });
  const tx = res.transactions[0]!;
  const d = tx.description as any;
  return { exit: d.computePhase.exitCode, gas: d.computePhase.gasUsed, action: d.actionPhase?.resultCode, out: tx.outMessagesCount, res };
};
const commit = beginCell().store(storeCommitEpochRoot({ $$type: 'CommitEpochRoot', queryId: 1n, epochId: 1n, root: BigInt('0x' + rootCell.hash().toString('hex')), leafCount: BigInt(N), total, operatorFee: 0n })).endCell();
console.log('commit', await send(commit).then(({ res, ...x }) => x));
const t1 = Date.now();
const keys = Array.from({ length: 200 }, (_, i) => i + 10);
const proof = dict.generateMerkleProof(keys);
console.log('proof', Date.now() - t1, 'ms');
const batch = beginCell().store(storePayoutBatch({ $$type: 'PayoutBatch', queryId: 2n, epochId: 1n, fromIndex: 10n, count: 200n, proof })).endCell();
console.log('batch', await send(batch, toNano('2')).then(({ res, ...x }) => x));
console.log('replay', await send(batch, toNano('2')).then(({ res, ...x }) => x));
const claim = (i: number) => beginCell().store(storeClaimReward({ $$type: 'ClaimReward', queryId: 3n, epochId: 1n, index: BigInt(i), proof: dict.generateMerkleProof([i]) })).endCell();
console.log('claim', await send(claim(500), toNano('0.1')).then(({ res, ...x }) => x));
console.log('claim again', await send(claim(500), toNano('0.1')).then(({ res, ...x }) => x));
console.log('claim paid', await send(claim(20), toNano('0.1')).then(({ res, ...x }) => x));
console.log('claim 2', await send(claim(N - 1), toNano('0.1')).then(({ res, ...x }) => x));
console.log(await rd.getEpoch(1n), await rd.getTotals());
if (process.env.TRACE) {
  bc.verbosity = { print: false, blockchainLogs: false, vmLogs: 'vm_logs_gas', debugLogs: false };
  const which = process.env.TRACE;
  const r2 = which === 'claim' ? await send(claim(700), toNano('0.1')) : await send(beginCell().store(storePayoutBatch({ $$type: 'PayoutBatch', queryId: 2n, epochId: 1n, fromIndex: 300n, count: 200n, proof: dict.generateMerkleProof(Array.from({ length: 200 }, (_, i) => i + 300)) })).endCell(), toNano('2'));
  const logs = (r2.res.transactions[0] as any).vmLogs as string;
  const { writeFileSync } = await import('node:fs');
  writeFileSync('/tmp/vmlog.txt', logs);
  console.log('traced', r2.gas);
}
