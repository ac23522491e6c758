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
  assert.equal(c.chain.tonCenter, { v2Url: null, v3Url: null, apiKeyEnv: 'TONCENTER_API_KEY', requestsPerSecond: 1 });
  assert.equal(c.chain.wallet, { kind: 'highload-v3', subwalletId: 0x10ad, timeoutSeconds: 3600, mnemonicEnv: 'POOL_OPERATOR_MNEMONIC', mnemonicFile: null });
  assert.is(c.chain.cocoonRoot, null);
  assert.equal(c, { ...DEFAULT_CONFIG });
});

test('the network sets the defaults: TON Center URLs, the mainnet Cocoon root, 1 rps without a key and 10 with one', () => {
  const testnet = resolveConfig({ env: { POOL_CHAIN: 'testnet' } });
  assert.equal([testnet.chain.tonCenter.v2Url, testnet.chain.tonCenter.v3Url, testnet.chain.tonCenter.requestsPerSecond, testnet.chain.cocoonRoot], ['https://testnet.toncenter.com/api/v2', 'https://testnet.toncenter.com/api/v3', 1, null]);
  const mainnet = resolveConfig({ env: { TONCENTER_API_KEY: 'k' }, overrides: { chain: { network: 'mainnet' } } });
  assert.equal([mainnet.chain.tonCenter.v3Url, mainnet.chain.tonCenter.requestsPerSecond, mainnet.chain.cocoonRoot], ['https://toncenter.com/api/v3', 10, MAINNET_COCOON_ROOT]);
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
    chain: { network: 'testnet', tonCenter: { v3Url: 'http://indexer.internal:8081/api/v3', requestsPerSecond: 25 }, cocoonRoot: RAW, contracts: { distribution: RAW, operator: RAW, registry: RAW } },
  }));
  const c = resolveConfig({ file, env: { POOL_CHAIN: 'mainnet', POOL_OPERATOR_MNEMONIC_FILE: '/etc/pool/mnemonic' }, requireContracts: true });
  assert.equal([c.chain.network, c.chain.tonCenter.v2Url, c.chain.tonCenter.v3Url, c.chain.tonCenter.requestsPerSecond, c.chain.cocoonRoot, c.chain.wallet.mnemonicFile],
    ['mainnet', 'https://toncenter.com/api/v2', 'http://indexer.internal:8081/api/v3', 25, RAW, '/etc/pool/mnemonic']);
  assert.is(resolveConfig({ file, env: { POOL_CHAIN: 'mainnet' }, overrides: { chain: { network: 'devnet' } } }).chain.network, 'devnet');
});

test('each chain setting refuses a bad value, all in one message', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({
    chain: {
      poolId: 4294967296,
      tonCenter: { v2Url: 'ftp://x', v3Url: 'nope', apiKeyEnv: '1BAD', requestsPerSecond: 0 },
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
    `chain.tonCenter.v2Url${at}: "ftp://x" has scheme ftp: expected http or https (https://toncenter.com/api/v3)`,
    `chain.tonCenter.v3Url${at}: "nope" is not a URL (expected https://toncenter.com/api/v3)`,
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
  writeFileSync(file, JSON.stringify({ chain: { tonCenter: { v2Url: null } } }));
  const deploy = `(\`pool deploy --network testnet --config <file>\` deploys the contracts and writes their addresses)`;
  assert.equal(problemsOf(() => resolveConfig({ file, env: {}, overrides: { chain: { network: 'testnet' } }, flagNames, requireContracts: true })), [
    `chain.tonCenter.v2Url in ${file}=null: required on testnet`,
    `chain.contracts.distribution=null: required on testnet ${deploy}`,
    `chain.contracts.operator=null: required on testnet ${deploy}`,
    `chain.contracts.registry=null: required on testnet ${deploy}`,
  ]);
  // pool deploy and pool wallet run before the contracts exist; local and devnet never need them
  assert.is(resolveConfig({ env: { POOL_CHAIN: 'testnet' } }).chain.contracts.distribution, null);
  assert.is(resolveConfig({ env: { POOL_CHAIN: 'devnet' }, requireContracts: true }).chain.network, 'devnet');
});

test.run();
