/** domain/revenue.ts `workerTokensDivergence`: a worker's cached_out_tokens claim against its worker contract. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { workerTokensDivergence } from '../../domain/revenue.ts';

const genuine = { deployed: true, genuineCode: true, ownerMatches: true, proxyMatches: true, onChainTokens: 1000n, toleranceTokens: 0n };

test('a claim up to the contract\'s tokens (plus the tolerance) is consistent; one token more is not', () => {
  assert.is(workerTokensDivergence({ ...genuine, claimedTokens: 1000n }), null);
  assert.is(workerTokensDivergence({ ...genuine, claimedTokens: 400n }), null, 'a worker behind the chain claims less: never a gain');
  assert.is(workerTokensDivergence({ ...genuine, claimedTokens: 1001n }), 'claims-more-than-paid');
  assert.is(workerTokensDivergence({ ...genuine, claimedTokens: 1050n, toleranceTokens: 50n }), null);
  assert.is(workerTokensDivergence({ ...genuine, claimedTokens: 1051n, toleranceTokens: 50n }), 'claims-more-than-paid');
});

test('a contract not deployed bears out only a claim of nothing; the wrong code or owner or proxy proves nothing', () => {
  const none = { ...genuine, deployed: false, genuineCode: false, onChainTokens: 0n };
  assert.is(workerTokensDivergence({ ...none, claimedTokens: 0n }), null);
  assert.is(workerTokensDivergence({ ...none, claimedTokens: 1n }), 'claims-more-than-paid');
  assert.is(workerTokensDivergence({ ...genuine, genuineCode: false, claimedTokens: 0n }), 'not-genuine-contract', 'even a claim of 0 names a contract that is not Cocoon\'s');
  assert.is(workerTokensDivergence({ ...genuine, ownerMatches: false, claimedTokens: 10n }), 'not-its-contract');
  assert.is(workerTokensDivergence({ ...genuine, proxyMatches: false, claimedTokens: 10n }), 'not-its-contract');
});

test.run();
