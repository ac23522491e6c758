/**
 * The operator's commands as a user runs them, in child processes, against a real devnet endpoint
 * (devnet/server.ts over the local chain, in this process) through the TON Center client over HTTP:
 * - `pool wallet` prints the highload v3 address to fund and its balance;
 * - `pool deploy --network devnet` deploys the contracts and writes them into the config file;
 * - `pool start` with a contract that runs other code than this build's is refused, saying what to do;
 * - a mnemonic file group or others can read is refused with `chmod 600`;
 * - the mnemonic appears in no output of any of them, at log level trace.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { operatorWallet, poolContractPlan, type OperatorWallet } from '../../chain/poolContracts.ts';
import { startDevnet, type Devnet } from '../../devnet/server.ts';
import { root } from '../support/pool.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pool-operator-cli-'));
chmodSync(scratch, 0o711); // the pools' data dirs are below it: the embedded PostgreSQL server (run as `postgres` under root) must reach them
let chain: LocalChain;
let devnet: Devnet;
let words: string[];
let wallet: OperatorWallet;
const configFile = join(scratch, 'pool.json');
/** everything every command printed, checked for the mnemonic at the end */
const outputs: string[] = [];

test.before(async () => {
  chain = await openLocalChain({ dir: join(scratch, 'chain') });
  devnet = await startDevnet({ chain, finalityLagSeconds: 1 });
  words = await mnemonicNew(24);
  wallet = operatorWallet(await mnemonicToPrivateKey(words), 0x10ad, 3600);
  writeFileSync(configFile, JSON.stringify({ dataDir: join(scratch, 'var'), chain: { network: 'devnet', tonCenter: { url: devnet.url } } }));
});
test.after(async () => {
  await devnet.close();
  await chain.close();
  rmSync(scratch, { recursive: true, force: true });
});

function pool(args: string[], env: Record<string, string> = { POOL_OPERATOR_MNEMONIC: words.join(' ') }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const { POOL_OPERATOR_MNEMONIC: _, ...inherited } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', ...args], { cwd: root, env: { ...inherited, LOG_LEVEL: 'trace', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      outputs.push(stdout, stderr);
      done({ code, stdout, stderr });
    });
  });
}

test('pool wallet: the highload v3 address to fund and its balance, read from the endpoint', async () => {
  const r = await pool(['wallet', '--config', configFile]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `network: devnet via TON Center ${devnet.url}`);
  assert.match(r.stdout, `address to fund: ${wallet.address.toString({ bounceable: false, testOnly: true })}`);
  assert.match(r.stdout, `raw: ${wallet.address.toRawString()}`);
  assert.match(r.stdout, 'state: none, balance: 0 TON');
  assert.match(r.stdout, 'fund the wallet with at least 11.25 TON more before `pool deploy`');
  await chain.mint(wallet.address, 15_000_000_000n);
  const funded = await pool(['wallet', '--config', configFile]);
  assert.match(funded.stdout, 'state: uninit, balance: 15 TON');
  assert.match(funded.stdout, 'the wallet can pay for `pool deploy`');
});

test('pool deploy: deploys from the operator wallet over HTTP and writes the addresses; pool wallet then shows them active', async () => {
  const r = await pool(['deploy', '--network', 'devnet', '--config', configFile]);
  assert.is(r.code, 0, r.stderr);
  const plan = await poolContractPlan(wallet.address, 1n);
  const written = JSON.parse(readFileSync(configFile, 'utf8')) as { chain: { network: string; tonCenter: { url: string }; contracts: Record<string, string> } };
  assert.is(written.chain.network, 'devnet');
  assert.is(written.chain.tonCenter.url, devnet.url, 'the other settings are kept');
  for (const name of ['distribution', 'operator', 'registry'] as const) {
    assert.is(written.chain.contracts[name], plan.contracts[name].toString());
    const account = await chain.getAccount(plan.contracts[name]);
    assert.ok(account.codeHash!.equals(plan.codeHashes[name]), name);
  }
  assert.match(r.stdout, `point your workers' owner_address at the distribution contract: ${plan.contracts.distribution.toString()}`);
  const after = await pool(['wallet', '--config', configFile]);
  assert.match(after.stdout, `distribution: ${plan.contracts.distribution.toString()} (active, this build's code)`);
  const again = await pool(['deploy', '--network', 'devnet', '--config', configFile]);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, 'already deployed with this build\'s code: nothing to send');
});

test('pool start refuses a contract whose code is not this build\'s, before anything runs on chain', async () => {
  const plan = await poolContractPlan(wallet.address, 1n);
  const file = join(scratch, 'swapped.json');
  const written = JSON.parse(readFileSync(configFile, 'utf8')) as { chain: { contracts: Record<string, string> } };
  written.chain.contracts.distribution = plan.contracts.operator.toString();
  writeFileSync(file, JSON.stringify({ ...written, dataDir: join(scratch, 'swapped-var'), workers: [{ id: 'gpu1', url: 'http://127.0.0.1:9', participant: wallet.address.toRawString() }] }));
  const r = await pool(['start', '--config', file]);
  assert.is(r.code, 1);
  assert.match(r.stderr, `the distribution contract ${plan.contracts.operator.toString()} runs code ${plan.codeHashes.operator.toString('hex')}, this build's distribution code is ${plan.codeHashes.distribution.toString('hex')} (contracts/build)`);
  assert.match(r.stderr, 'deployed by another version of the pool');
  assert.match(r.stderr, 'pool deploy --network devnet --config <file>');
});

test('a mnemonic file readable by others is refused, saying chmod 600', async () => {
  const file = join(scratch, 'operator.mnemonic');
  writeFileSync(file, words.join(' '));
  chmodSync(file, 0o644);
  const r = await pool(['wallet', '--config', configFile], { POOL_OPERATOR_MNEMONIC_FILE: file });
  assert.is(r.code, 1);
  assert.is(r.stderr, `pool: operator mnemonic file ${file} has mode 0644: group or others may read it. Run \`chmod 600 ${file}\` (and consider the key exposed if others could read it)\n`);
});

test('the mnemonic and the secret key appear in no output of any command', () => {
  const all = outputs.join('\n');
  assert.ok(all.length > 1000, 'the commands printed something');
  for (let i = 0; i + 1 < words.length; i++) assert.not.ok(all.includes(`${words[i]} ${words[i + 1]}`), 'two consecutive words of the mnemonic');
  for (const encoding of ['hex', 'base64'] as const) assert.not.ok(all.includes(wallet.keyPair.secretKey.subarray(0, 32).toString(encoding)), `the secret key (${encoding})`);
});

test.run();
