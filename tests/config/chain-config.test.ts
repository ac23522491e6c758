/**
 * The chain settings (issue 10): the network decides the defaults (TON Center URLs, Cocoon root,
 * request rate), anything set explicitly wins, and every bad value is refused in the one message,
 * naming its setting, where it came from and its value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, DEFAULT_CONFIG, MAINNET_COCOON_ROOT, resolveConfig } from '../../config/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'pool-chain-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const RAW = `0:${'ab'.repeat(32)}`;

test('local by default: no endpoint, no contracts, the highload v3 wallet keyed from POOL_OPERATOR_MNEMONIC', () => {
  const c = resolveConfig({ env: {} });
  assert.is(c.chain.network, 'local');
  assert.equal(c.chain.tonCenter, { url: null, apiKeyEnv: 'TONCENTER_API_KEY', requestsPerSecond: 1 });
  assert.equal(c.chain.wallet, { kind: 'highload-v3', subwalletId: 0x10ad, timeoutSeconds: 3600, mnemonicEnv: 'POOL_OPERATOR_MNEMONIC', mnemonicFile: null });
  assert.is(c.chain.cocoonRoot, null);
  assert.equal(c, { ...DEFAULT_CONFIG });
});

test('the network sets the defaults: TON Center URLs, the mainnet Cocoon root, 1 rps without a key and 10 with one', () => {
  const testnet = resolveConfig({ env: { POOL_CHAIN: 'testnet' } });
  assert.equal([testnet.chain.tonCenter.url, testnet.chain.tonCenter.requestsPerSecond, testnet.chain.cocoonRoot], ['https://testnet.toncenter.com', 1, null]);
  const mainnet = resolveConfig({ env: { TONCENTER_API_KEY: 'k' }, overrides: { chain: { network: 'mainnet' } } });
  assert.equal([mainnet.chain.tonCenter.url, mainnet.chain.tonCenter.requestsPerSecond, mainnet.chain.cocoonRoot], ['https://toncenter.com', 10, MAINNET_COCOON_ROOT]);
  // the key is looked for in the variable the configuration names
  const file = join(dir, 'keyed.json');
  writeFileSync(file, JSON.stringify({ chain: { network: 'mainnet', tonCenter: { apiKeyEnv: 'MY_KEY' } } }));
  assert.is(resolveConfig({ file, env: { TONCENTER_API_KEY: 'k' } }).chain.tonCenter.requestsPerSecond, 1);
  assert.is(resolveConfig({ file, env: { MY_KEY: 'k' } }).chain.tonCenter.requestsPerSecond, 10);
  assert.is(resolveConfig({ env: { POOL_CHAIN: 'devnet' } }).chain.tonCenter.requestsPerSecond, 50);
});

test('explicit values win over the network defaults, layered flags > env > file', () => {
  const file = join(dir, 'explicit.json');
  writeFileSync(file, JSON.stringify({
    chain: { network: 'testnet', tonCenter: { url: 'http://toncenter.internal:8081', requestsPerSecond: 25 }, cocoonRoot: RAW, contracts: { distribution: RAW, operator: RAW, registry: RAW } },
    workers: [{ id: 'gpu1', url: 'http://10.0.0.5:12000', participant: RAW }],
  }));
  const c = resolveConfig({ file, env: { POOL_CHAIN: 'mainnet', POOL_OPERATOR_MNEMONIC_FILE: '/etc/pool/mnemonic' }, requireContracts: true });
  assert.equal([c.chain.network, c.chain.tonCenter.url, c.chain.tonCenter.requestsPerSecond, c.chain.cocoonRoot, c.chain.wallet.mnemonicFile],
    ['mainnet', 'http://toncenter.internal:8081', 25, RAW, '/etc/pool/mnemonic']);
  // the network's default applies when only the rate is set
  writeFileSync(file, JSON.stringify({ chain: { tonCenter: { requestsPerSecond: 25 } } }));
  assert.is(resolveConfig({ file, env: { POOL_CHAIN: 'mainnet' } }).chain.tonCenter.url, 'https://toncenter.com');
  assert.is(resolveConfig({ file, env: { POOL_CHAIN: 'mainnet' }, overrides: { chain: { network: 'devnet' } } }).chain.network, 'devnet');
});

test('each chain setting refuses a bad value, all in one message', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({
    chain: {
      poolId: 4294967296,
      tonCenter: { url: 'ftp://x', apiKeyEnv: '1BAD', requestsPerSecond: 0 },
      contracts: { distribution: 'xyz', operator: 7 },
      cocoonRoot: 'abc',
      wallet: { kind: 'v4', subwalletId: -1, timeoutSeconds: 4194304, mnemonicEnv: 'has space', mnemonicFile: '' },
      devnet: { finalityLagSeconds: -1 },
      endpoint: 'x',
    },
  }));
  const problems = problemsOf(() => resolveConfig({ file, env: { POOL_CHAIN: 'moon' } }));
  const at = ` in ${file}`;
  assert.equal([...problems].sort(), [
    `POOL_CHAIN="moon": must be one of local, devnet, testnet, mainnet`,
    `chain.endpoint${at}="x": is not a setting (unknown key)`,
    `chain.poolId${at}=4294967296: must be <= 4294967295`,
    `chain.tonCenter.url${at}: "ftp://x" has scheme ftp: expected http or https (https://toncenter.com)`,
    `chain.tonCenter.apiKeyEnv${at}="1BAD": must match pattern "^[A-Za-z_][A-Za-z0-9_]*$"`,
    `chain.tonCenter.requestsPerSecond${at}=0: must be > 0`,
    `chain.contracts.distribution${at}="xyz": not a TON address: "xyz" (expected <0|-1>:<64 hex> or a 48-character friendly form)`,
    `chain.contracts.operator${at}=7: must be string`,
    `chain.cocoonRoot${at}="abc": not a TON address: "abc" (expected <0|-1>:<64 hex> or a 48-character friendly form)`,
    `chain.wallet.kind${at}="v4": must be one of highload-v3`,
    `chain.wallet.subwalletId${at}=-1: must be >= 0`,
    `chain.wallet.timeoutSeconds${at}=4194304: must be <= 4194303`,
    `chain.wallet.mnemonicEnv${at}="has space": must match pattern "^[A-Za-z_][A-Za-z0-9_]*$"`,
    `chain.wallet.mnemonicFile${at}="": must not have fewer than 1 characters`,
    `chain.devnet.finalityLagSeconds${at}=-1: must be >= 0`,
  ].sort());
});

test('--chain names the flag; testnet and mainnet need their endpoints, and pool start the contract addresses', () => {
  const flagNames = { '/chain/network': '--chain' };
  assert.equal(problemsOf(() => resolveConfig({ env: {}, overrides: { chain: { network: 'moon' as never } }, flagNames })), ['--chain "moon": must be one of local, devnet, testnet, mainnet']);
  const file = join(dir, 'no-endpoint.json');
  writeFileSync(file, JSON.stringify({ chain: { tonCenter: { url: null } } }));
  const deploy = `(\`pool deploy --network testnet --config <file>\` deploys the contracts and writes their addresses)`;
  assert.equal(problemsOf(() => resolveConfig({ file, env: {}, overrides: { chain: { network: 'testnet' } }, flagNames, requireContracts: true })), [
    `chain.tonCenter.url in ${file}=null: required on testnet`,
    `chain.contracts.distribution=null: required on testnet ${deploy}`,
    `chain.contracts.operator=null: required on testnet ${deploy}`,
    `chain.contracts.registry=null: required on testnet ${deploy}`,
    `workers=[]: required on testnet (the emulated Cocoon workers and proxy run only on local and on the pool's own devnet)`,
  ]);
  assert.equal(problemsOf(() => resolveConfig({ env: {}, overrides: { chain: { network: 'mainnet', tonCenter: { url: 'https://toncenter.com/api/v3' } } } })), [
    'chain.tonCenter.url="https://toncenter.com/api/v3": must be the instance\'s base URL, without /api/v2 or /api/v3 (e.g. https://toncenter.com)',
  ]);
  assert.equal(problemsOf(() => resolveConfig({ env: {}, overrides: { chain: { tonCenter: { url: 'nope' } } } })), ['chain.tonCenter.url: "nope" is not a URL (expected https://toncenter.com)']);
  // pool deploy and pool wallet run before the contracts exist; local and devnet never need them
  assert.is(resolveConfig({ env: { POOL_CHAIN: 'testnet' } }).chain.contracts.distribution, null);
  assert.is(resolveConfig({ env: { POOL_CHAIN: 'devnet' }, requireContracts: true }).chain.network, 'devnet');
  const devnetDeploy = `(\`pool deploy --network devnet --config <file>\` deploys the contracts and writes their addresses)`;
  assert.equal(problemsOf(() => resolveConfig({ env: { POOL_CHAIN: 'devnet' }, overrides: { chain: { tonCenter: { url: 'http://127.0.0.1:8081' } } }, requireContracts: true })), [
    `chain.contracts.distribution=null: required on devnet with chain.tonCenter.url ${devnetDeploy}`,
    `chain.contracts.operator=null: required on devnet with chain.tonCenter.url ${devnetDeploy}`,
    `chain.contracts.registry=null: required on devnet with chain.tonCenter.url ${devnetDeploy}`,
    `workers=[]: required on devnet with chain.tonCenter.url (the emulated Cocoon workers and proxy run only on local and on the pool's own devnet)`,
  ]);
});

test.run();
