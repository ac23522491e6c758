/**
 * `pool member address <wallet>` as a member runs it, in a child process:
 * - with `--distribution`, the forwarder it prints (raw and friendly: the same address) is the one
 *   the distribution contract accepts: deployed and paid by the emulated proxy on the local chain
 *   (@ton/sandbox), its forward is booked as that member's revenue;
 * - it tells the member to set it as owner_address of their workers;
 * - the distribution comes from the config file's chain.contracts.distribution when no flag is given;
 * - a wallet that is not an address, or no distribution off the local chain: exit 1 and what to do.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { deployPoolContracts, type PoolContracts } from '../../chain/poolContracts.ts';
import { memberRevenueIntake } from '../../contracts/distribution.ts';
import { memberForwarderInit } from '../../contracts/forwarder.ts';
import { emulatedCocoon } from '../support/cocoonRoot.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { root } from '../support/pool.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pool-member-cli-'));
let chain: LocalChain;
let contracts: PoolContracts;
let nats: TestNats;

test.before(async () => {
  nats = await startTestNats();
  chain = await openLocalChain({ dir: join(scratch, 'chain'), wallets: ['operator', 'proxy-1', 'member-1'] });
  contracts = await deployPoolContracts(chain, 'operator');
});
test.after(async () => {
  await chain.close();
  await nats.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs `pool member address …`; resolves with exit code, stdout and stderr. */
function memberAddress(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', 'member', 'address', ...args], { cwd: root, env: { ...process.env, POOL_CHAIN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

test('the printed forwarder is the one the distribution contract books the member\'s payouts from', async () => {
  const member = chain.walletAddress('member-1');
  const run = await memberAddress([member.toString(), '--distribution', contracts.distribution.toString()]);
  assert.is(run.code, 0, run.err);
  const raw = /^ {2}raw: (0:[0-9a-f]{64})$/m.exec(run.out)?.[1];
  const friendly = /^ {2}friendly: (\S+)$/m.exec(run.out)?.[1];
  assert.ok(raw && friendly, run.out);
  assert.ok(Address.parse(friendly!).equals(Address.parse(raw!)), 'raw and friendly name the same address');
  assert.match(run.out, new RegExp(`set it as owner_address of every Cocoon worker of this member \\(worker.conf: owner_address = ${friendly}`));

  const init = await memberForwarderInit(contracts.distribution, member);
  const { address } = await chain.deploy('member-1', { code: init.code!, data: init.data! }, 50_000_000n);
  assert.is(address.toRawString(), raw, 'the member deploys the printed address from its wallet and the distribution');
  const cocoon = await emulatedCocoon(chain, nats.store);
  await cocoon.pay(Address.parse(raw!), [{ value: 2_000_000_000n, queryId: 7n }]);
  const [tx] = (await chain.getTransactions(contracts.distribution, {})).slice(-1);
  const intake = memberRevenueIntake(tx!);
  assert.ok(intake, 'the distribution received a forward from the printed forwarder');
  assert.equal([intake!.kind, intake!.member.toRawString(), intake!.forwarder.toRawString(), intake!.countedByContract], ['payout', member.toRawString(), raw, true]);
  assert.ok(intake!.paid! <= 2_000_000_000n && intake!.paid! > 1_999_000_000n, 'the payout (less any storage rent the empty forwarder owed)');
});

test('without --distribution: the config file\'s chain.contracts.distribution; bad input exits 1 with what to do', async () => {
  const config = join(scratch, 'pool.json');
  writeFileSync(config, JSON.stringify({ chain: { network: 'testnet', contracts: { distribution: contracts.distribution.toRawString(), operator: null, registry: null } } }));
  const member = chain.walletAddress('member-1');
  const withFlag = await memberAddress([member.toRawString(), '--distribution', contracts.distribution.toRawString(), '--chain', 'testnet']);
  const fromConfig = await memberAddress([member.toRawString(), '--config', config]);
  assert.is(fromConfig.code, 0, fromConfig.err);
  assert.is(fromConfig.out, withFlag.out);
  assert.match(fromConfig.out, /forwarder \(network testnet\)/);

  const bad = await memberAddress(['not-an-address', '--distribution', contracts.distribution.toRawString()]);
  assert.equal([bad.code, bad.err.trim()], [1, 'pool: member wallet "not-an-address" is not a TON address (raw 0:<64 hex> or user-friendly)']);
  const none = await memberAddress([member.toRawString(), '--chain', 'mainnet']);
  assert.is(none.code, 1);
  assert.match(none.err, /no distribution contract for network mainnet: pass --distribution <address> or set chain.contracts.distribution/);
});

test.run();
