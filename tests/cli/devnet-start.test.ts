/**
 * `pool start --chain devnet` as a user runs it: the pool starts its own TON Center-compatible
 * endpoint over the local chain, deploys its contracts from the operator's highload v3 wallet
 * (keyed from POOL_OPERATOR_MNEMONIC) through the TON Center client over HTTP, and prints the
 * endpoint as `tonCenter` in the start-up summary; at log level trace the mnemonic appears nowhere.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { operatorWallet, poolContractPlan } from '../../chain/poolContracts.ts';
import { spawnPool } from '../support/pool.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pool-devnet-start-'));
chmodSync(scratch, 0o711); // the pools' data dirs are below it: the embedded PostgreSQL server (run as `postgres` under root) must reach them
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('devnet: own endpoint, contracts deployed over HTTP from the operator wallet, tonCenter in the summary, no mnemonic in the logs', async () => {
  const words = await mnemonicNew(24);
  const wallet = operatorWallet(await mnemonicToPrivateKey(words), 0x10ad, 3600);
  const pool = spawnPool('node', ['--chain', 'devnet'], join(scratch, 'var'), { POOL_OPERATOR_MNEMONIC: words.join(' '), LOG_LEVEL: 'trace' });
  try {
    const started = JSON.parse(await pool.waitFor(/"msg":"pool started"/, 300_000)) as Record<string, string>;
    assert.match(started.tonCenter!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(started.chain!, `devnet: the pool's TON Center-compatible endpoint ${started.tonCenter}`);
    assert.is(started.operatorWallet, wallet.address.toRawString());
    const plan = await poolContractPlan(wallet.address, 1n);
    assert.is(started.distributionContract, plan.contracts.distribution.toRawString());
    const answer = await fetch(`${started.tonCenter}/api/v2/getAddressState?address=${plan.contracts.registry.toRawString()}`);
    assert.equal(await answer.json(), { ok: true, result: 'active' }, 'the registry is deployed on the endpoint the summary names');
    assert.ok(pool.lines.some((l) => l.includes('deployed: all three contracts are active')));
  } finally {
    pool.child.kill('SIGTERM');
    await pool.exited;
  }
  const all = pool.lines.join('\n');
  for (let i = 0; i + 1 < words.length; i++) assert.not.ok(all.includes(`${words[i]} ${words[i + 1]}`), 'two consecutive words of the mnemonic');
  assert.not.ok(all.includes(wallet.keyPair.secretKey.subarray(0, 32).toString('hex')), 'the secret key');
});

test.run();
