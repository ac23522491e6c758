/** domain/revenue.ts `judgeWorkerTokens`: a worker's cached_out_tokens claim against its worker contract. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeWorkerTokens, type WorkerContractReading } from '../../domain/revenue.ts';

const OWNER = '0:' + 'aa'.repeat(32);
const PROXY = '0:' + 'bb'.repeat(32);
const OTHER = '0:' + 'cc'.repeat(32);
const contract: WorkerContractReading = { deployed: true, data: { owner: OWNER, proxy: PROXY, tokens: 1000n } };
const judge = (claimedTokens: bigint, c: WorkerContractReading = contract, toleranceTokens = 0n) => judgeWorkerTokens({ claimedTokens, ownerAddress: OWNER, proxy: PROXY, contract: c, toleranceTokens });

test("a claim up to the contract's tokens (plus the tolerance) is consistent; one token more is not", () => {
  assert.equal(judge(1000n), { genuine: true, onChainTokens: 1000n, divergence: null });
  assert.is(judge(400n).divergence, null, 'a worker behind the chain claims less: never a gain');
  assert.equal(judge(1001n), { genuine: true, onChainTokens: 1000n, divergence: 'claims-more-than-paid' });
  assert.is(judge(1050n, contract, 50n).divergence, null);
  assert.is(judge(1051n, contract, 50n).divergence, 'claims-more-than-paid');
});

test('a contract not deployed bears out only a claim of nothing, and holds 0 tokens', () => {
  const none: WorkerContractReading = { deployed: false, data: null };
  assert.equal(judge(0n, none), { genuine: false, onChainTokens: 0n, divergence: null });
  assert.equal(judge(1n, none), { genuine: false, onChainTokens: 0n, divergence: 'claims-more-than-paid' });
});

test('the wrong code, owner or proxy proves nothing: not genuine, whatever it claims', () => {
  assert.equal(judge(0n, { deployed: true, data: null }), { genuine: false, onChainTokens: null, divergence: 'not-genuine-contract' }, "even a claim of 0 names a contract that is not Cocoon's");
  assert.equal(judge(10n, { deployed: true, data: { ...contract.data!, owner: OTHER } }), { genuine: false, onChainTokens: 1000n, divergence: 'not-its-contract' });
  assert.equal(judge(10n, { deployed: true, data: { ...contract.data!, proxy: OTHER } }), { genuine: false, onChainTokens: 1000n, divergence: 'not-its-contract' });
});

test.run();
