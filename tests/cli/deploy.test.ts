/**
 * Deploying the pool's contracts from the operator's highload v3 wallet, and opening deployed
 * contracts without deploying (chain/poolContracts.ts), on the real contract code in @ton/sandbox
 * (the local chain as ChainReader + ChainSender: signed external messages, the real highload v3
 * wallet code) with a real nats-server for the stream's chain identity:
 * - an unfunded wallet is refused with the amount needed; a funded one deploys the wallet and the
 *   three contracts in one message; a second deploy sends nothing;
 * - `openDeployedPoolContracts` accepts this build's contracts at the configured addresses, records
 *   the chain identity once, and refuses a contract running other code (code hash against
 *   contracts/build), an undeployed one, and addresses that are not this wallet's pool.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import {
  CHAIN_IDENTITY_SUBJECT,
  PoolContractsError,
  deployPoolContractsFrom,
  openDeployedPoolContracts,
  operatorWallet,
  poolContractPlan,
  type OperatorWallet,
} from '../../chain/poolContracts.ts';
import { HIGHLOAD_V3_CODE_HASH_HEX } from '../../chain/wallet/highloadV3Code.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pool-deploy-'));
let chain: LocalChain;
let nats: TestNats;
let wallet: OperatorWallet;

test.before(async () => {
  chain = await openLocalChain({ dir: join(scratch, 'chain') });
  nats = await startTestNats();
  wallet = operatorWallet(await mnemonicToPrivateKey(await mnemonicNew(24)), 0x10ad, 3600);
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function refusal(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, PoolContractsError);
    return (err as Error).message;
  }
  throw new Error('expected a PoolContractsError');
}

const deploy = () => deployPoolContractsFrom({ reader: chain, sender: chain, wallet, poolId: 7n, pollMs: 50 });

test('an unfunded wallet is refused with what it needs; a funded one deploys the wallet and the three contracts once', async () => {
  const address = wallet.address;
  assert.match(await refusal(deploy), new RegExp(`^the operator wallet ${address.toString({ bounceable: false })} holds 0 TON; deploying needs at least 11.25 TON .*Fund it \\(pool wallet shows the address\\)`));
  await chain.mint(address, 20_000_000_000n);
  const lines: string[] = [];
  const outcome = await deployPoolContractsFrom({ reader: chain, sender: chain, wallet, poolId: 7n, pollMs: 50, progress: (l) => lines.push(l) });
  assert.is(outcome.sent, true);
  assert.ok(outcome.wallet.equals(address));
  const plan = await poolContractPlan(address, 7n);
  for (const name of ['distribution', 'operator', 'registry'] as const) {
    assert.ok(outcome.contracts[name].equals(plan.contracts[name]));
    const account = await chain.getAccount(plan.contracts[name]);
    assert.is(account.state, 'active', name);
    assert.ok(account.codeHash!.equals(plan.codeHashes[name]), name);
  }
  const walletAccount = await chain.getAccount(address);
  assert.is(walletAccount.codeHash!.toString('hex'), HIGHLOAD_V3_CODE_HASH_HEX, 'the wallet was deployed with the same message');
  assert.match(lines.join('\n'), '(deploying the wallet too)');
  const again = await deploy();
  assert.is(again.sent, false);
  assert.is((await chain.getAccount(address)).lastTransaction!.lt, walletAccount.lastTransaction!.lt, 'nothing was sent');
});

test('deployed contracts are opened without deploying: code hash, address and the chain identity checked', async () => {
  const owner = wallet.address;
  const plan = await poolContractPlan(owner, 7n);
  const raw = (name: 'distribution' | 'operator' | 'registry') => plan.contracts[name].toRawString();
  const configured = { distribution: raw('distribution'), operator: raw('operator'), registry: raw('registry') };
  const open = (c: typeof configured, poolId = 7n) =>
    openDeployedPoolContracts({ reader: chain, owner, poolId, configured: c, store: nats.store, network: 'the test chain', deployCommand: 'pool deploy --network testnet' });

  // another contract's code where the distribution should be: refused, naming both code hashes
  const otherCode = await refusal(() => open({ ...configured, distribution: raw('operator') }));
  assert.match(otherCode, `the distribution contract ${plan.contracts.operator.toString()} runs code ${plan.codeHashes.operator.toString('hex')}, this build's distribution code is ${plan.codeHashes.distribution.toString('hex')} (contracts/build)`);
  assert.match(otherCode, 'deployed by another version of the pool');
  assert.match(otherCode, 'pool deploy --network testnet');
  // nothing deployed there
  const other = await poolContractPlan(owner, 8n);
  assert.match(await refusal(() => open({ ...configured, registry: other.contracts.registry.toRawString() })), `the registry contract ${other.contracts.registry.toString()} is not deployed`);
  // this build's contracts, but another pool id's: the addresses are not this pool's
  assert.match(await refusal(() => open(configured, 9n)), /^chain\.contracts\.distribution is .* but the distribution contract of the operator wallet .* with chain\.poolId 9 is /);
  assert.is(await nats.store.lastOnSubject(CHAIN_IDENTITY_SUBJECT), null, 'nothing recorded by a refused start');

  const opened = await open(configured);
  assert.ok(opened.distribution.equals(plan.contracts.distribution));
  const identity = await nats.store.lastOnSubject(CHAIN_IDENTITY_SUBJECT);
  assert.is(identity?.type, 'PoolContractsDeployed');
  await open(configured); // the same chain: accepted, recorded once
  assert.is((await nats.store.lastOnSubject(CHAIN_IDENTITY_SUBJECT))?.sequence, identity!.sequence);
});

test.run();
