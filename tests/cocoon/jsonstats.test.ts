import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JsonStatsError, parseJsonStats, STATS_KEYS, type JsonStatsErrorReason } from '../../producers/cocoon/jsonstats.ts';
import { readTdJson, TdJsonError } from '../../producers/cocoon/tdJson.ts';
import { MIN_WALLET_BALANCE_NANOTON, TON_SYNC_MAX_AGE_SECONDS, workerHealth } from '../../producers/cocoon/workerHealth.ts';

const dir = join(import.meta.dirname, '../fixtures/cocoon');
const fixture = (name: string) => readFileSync(join(dir, name), 'utf8');
const sample = fixture('worker-jsonstats.synthetic.json');

const OWNER_RAW = '0:3e2a0778f3484afa398dfff1317ebf13365375369bf4eef52a54c79a4833194d';
const ROOT_RAW = '0:a7b3b6d84a9d22805bd2d70a5be70b198c2282575f4c0f9015cc8e04cb1b2753';

function rejects(body: string, reason: JsonStatsErrorReason, path: string): void {
  try {
    parseJsonStats(body);
  } catch (e) {
    assert.instance(e, JsonStatsError);
    assert.is((e as JsonStatsError).reason, reason, (e as Error).message);
    assert.is((e as JsonStatsError).path, path, (e as Error).message);
    return;
  }
  assert.unreachable(`expected ${reason} at ${path}`);
}

test('synthetic sample: every section, normalised', () => {
  assert.ok(sample.startsWith('\n{'), 'the sample really starts with a newline');
  const s = parseJsonStats(sample);
  assert.equal(s.status, {
    walletBalanceNanoton: 4_731_250_113n,
    actualImageHash: true,
    actualModel: true,
    tonLastSyncedAt: 1766165371,
    enabled: true,
    gitCommit: 'b75d444766212b9b17ae2bfab1268a2e2e334b6f',
    gitCommitDate: '2025-12-19 17:34:11 +0000',
  });
  assert.equal(s.totals, {
    queries: 5234,
    success: 5230,
    failed: 8,
    bytesReceived: 18452113,
    bytesSent: 96331780,
    timeSeconds: 21875.4,
    totalAdjustedTokens: 6_700_000,
    promptAdjustedTokens: 3_100_000,
    cachedAdjustedTokens: 1_200_000,
    completionAdjustedTokens: 2_400_000,
    reasoningAdjustedTokens: 0,
  });
  assert.equal(s.rates.queries, [0.412, 0.098, 0.061, 0.058, 0.06, 0.0594]);
  assert.equal(s.rates.failed, [0, 0, 0, 0.00017, 0.0004, 0.00009]);
  assert.equal(Object.keys(s.rates).sort(), Object.values(STATS_KEYS).sort());
  assert.equal(s.wallet, {
    address: '0:eaa7631e663b7f32871df0f239ca6a1179315fd6cbec6235a28509a642856819',
    balanceNanoton: 4_731_250_113n,
    seqno: 17,
    pendingTransactions: 0,
    activeTransactions: 0,
  });
  assert.equal(s.localConfig, {
    rootAddress: ROOT_RAW,
    ownerAddress: OWNER_RAW,
    model: 'Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9',
    coefficient: 1000,
    checkProxyHash: true,
  });
  const rc = s.rootConfig!;
  assert.is(rc.pricePerToken, 20n);
  assert.is(rc.workerFeePerToken, 16n);
  assert.is(rc.cachedTokensPriceMultiplier, 10000);
  assert.is(rc.proxyMinStakeNanoton, 1_000_000_000n);
  assert.is(rc.proxyCodeHash, '00b2c57d43c1dbc3e12cfa240494a168c78feca90a9b99ebe796b139ed713890');
  assert.equal(rc.proxyHashes, ['5f0e8c2b7a1d4e3f9a6b0c1d2e3f40516273849506a7b8c9daebfc0d1e2f3a4b']);
  assert.equal(rc.registeredProxies, [{ seqno: 1, addressForClients: '[203.0.113.10:11002]', addressForWorkers: '[203.0.113.10:11001]' }]);
  assert.is(rc.ownerAddress, '0:08275f40274b12dbdb4c8c1b504ae3b565fac611e76db7891ce18f40f484a1bd');
  assert.equal(s.proxies, [
    {
      scInited: true,
      proxyScAddress: '0:771e2a23534089edf4e09d239596d01c2ad3bb9b89ff56c5597a1b7b6bd7e138',
      proxyPublicKey: '3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29',
      scAddress: '0:ee01b902da8aeea0cb95a5d42983ddc981ebd740808b59eae5b55b4e34c4fc6d',
      earnedTokensCommittedToBlockchain: 6_650_000n,
      earnedTokensCommittedToProxyDb: 6_690_000n,
      earnedTokensMaxKnown: 6_700_000n,
      cashedOutTokens: 6_000_000n,
      expectedCashedOutTokens: 6_000_000n,
      runningRequest: false,
      paramsVersion: 5,
    },
  ]);
});

test('fresh sample: zero totals, proxies []', () => {
  const s = parseJsonStats(fixture('worker-jsonstats.fresh.synthetic.json'));
  for (const v of Object.values(s.totals)) assert.is(v, 0);
  assert.equal(s.proxies, []);
});

test('trap: unescaped quotes, commas and backslashes inside strings', () => {
  const s = parseJsonStats(fixture('jsonstats-unescaped-strings.trap.json'));
  assert.is(
    s.localConfig.model,
    'Qwen/Qwen3-8B "instruct", C:\\models\\" tuned\\@b968826d9c46dd6066d109eabc6255188de91218:7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9',
  );
  assert.is(s.status.gitCommitDate, '2025-12-19 17:34:11 +0000 "rc", \\n');
  assert.is(s.localConfig.coefficient, 1000, 'parsing continued correctly after the odd strings');
});

test('trap: uninitialised worker (keys absent, proxies [])', () => {
  const s = parseJsonStats(fixture('jsonstats-uninitialised.trap.json'));
  assert.is(s.status.walletBalanceNanoton, null);
  assert.is(s.status.tonLastSyncedAt, null);
  assert.is(s.wallet, null);
  assert.is(s.rootConfig, null);
  assert.equal(s.proxies, []);
  assert.equal(workerHealth(s, 1766165371).reasons, ['ton-never-synced', 'wallet-not-initialised']);
});

test('trap: EQ / raw addresses and lowercase hashes normalise like the sample', () => {
  assert.equal(parseJsonStats(fixture('jsonstats-address-forms.trap.json')), parseJsonStats(sample));
});

test('trap: uint64 balance stays exact', () => {
  assert.is(parseJsonStats(fixture('jsonstats-uint64-balance.trap.json')).status.walletBalanceNanoton, 2n ** 64n - 1n);
});

test('trap: rejected bodies carry a reason and a path', () => {
  rejects(fixture('jsonstats-duplicate-mismatch.trap.json'), 'duplicate-key-mismatch', 'root_contract_config.cached_tokens_price_multiplier');
  rejects(fixture('jsonstats-duplicate-other-key.trap.json'), 'duplicate-key', 'localconfig.coefficient');
  rejects(fixture('jsonstats-wrong-arity.trap.json'), 'wrong-arity', 'stats.queries');
  rejects(fixture('jsonstats-nan.trap.json'), 'non-finite', 'stats.time[1]');
  rejects(fixture('jsonstats-negative-total.trap.json'), 'negative', 'stats.failed[0]');
  rejects(fixture('jsonstats-missing-key.trap.json'), 'missing-key', 'localconfig');
  rejects(fixture('jsonstats-bad-address.trap.json'), 'bad-address', 'localconfig.owner_address');
  rejects(fixture('jsonstats-bad-hash.trap.json'), 'bad-hash', 'root_contract_config.worker_code_hash');
  rejects(fixture('jsonstats-truncated.trap.json'), 'syntax', 'proxies[0]');
});

test('more shape errors built from the sample', () => {
  rejects(sample.replace('      5234.000000,\n', '      5234.000000,\n      1.000000,\n'), 'wrong-arity', 'stats.queries');
  rejects(sample.replace('"seqno": 17,', '"seqno": 17.000000,'), 'wrong-type', 'wallet.seqno');
  rejects(sample.replace('"seqno": 17,', '"seqno": 9007199254740992,'), 'out-of-range', 'wallet.seqno');
  rejects(sample.replace('"seqno": 17,', '"seqno": "17",'), 'wrong-type', 'wallet.seqno');
  rejects(sample.replace('      21875.400000,\n', '      inf,\n'), 'non-finite', 'stats.time[0]');
  rejects(sample.replace('      21875.400000,\n', '      1e999,\n'), 'non-finite', 'stats.time[0]');
  rejects(sample.replace('"price_per_token": 20,', '"price_per_token": -20,'), 'negative', 'root_contract_config.price_per_token');
  rejects(sample.replace(/\n {4}"time": \[[^\]]*\],/, ''), 'missing-key', 'stats');
  rejects(fixture('worker-jsonstats.fresh.synthetic.json').replace('"proxies": [\n  ]', '"proxies": true'), 'wrong-type', 'proxies');
  rejects(sample + 'x', 'syntax', '');
  rejects('', 'syntax', '');
  rejects('<html>busy</html>', 'syntax', '');
});

test('strings: a control character anywhere is refused, not passed on to a read model', () => {
  const model = '"model": "Qwen/Qwen3-8B@';
  for (const c of ['\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\r']) {
    rejects(sample.replace(model, `"model": "Qwen${c}/Qwen3-8B@`), 'control-character', 'localconfig.model');
  }
  rejects(sample.replace('"git_commit_data": "2025-12-19', '"git_commit_data": "\u00002025-12-19'), 'control-character', 'status.git_commit_data');
  rejects(sample.replace('"address_for_clients": "[203', '"address_for_clients": "\t[203'), 'control-character', 'root_contract_config.registered_proxies[0].address_for_clients');
  rejects(sample.replace('"enabled": true', '"ena\u0000bled": true'), 'control-character', 'status');
  // printable oddities stay verbatim (the serializer does not escape)
  assert.ok(parseJsonStats(sample.replace(model, '"model": "Q \\\\ é 模型 ~/Qwen3-8B@')).localConfig.model.startsWith('Q \\\\ é 模型 ~/'));
});

test('strings are capped: one reply can not blow up an event', () => {
  rejects(sample.replace(model0(), `"model": "${'m'.repeat(1025)}`), 'too-long', 'localconfig.model');
  rejects(sample.replace('"git_commit": "b75d', `"git_commit": "${'0'.repeat(300)}`), 'too-long', 'status.git_commit');
  assert.is(parseJsonStats(sample.replace(model0(), `"model": "${'m'.repeat(900)}`)).localConfig.model, 'm'.repeat(900));
});
function model0(): string {
  return '"model": "Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9';
}

test('addresses: only workchains 0 and -1, and never rewritten into another address', () => {
  const hex = '3e2a0778f3484afa398dfff1317ebf13365375369bf4eef52a54c79a4833194d';
  const owner = '"owner_address": "UQA-Kgd480hK-jmN__Exfr8TNlN1Npv07vUqVMeaSDMZTbRE"';
  const withOwner = (text: string) => sample.replace(owner, `"owner_address": "${text}"`);
  assert.is(parseJsonStats(withOwner(`0:${hex.toUpperCase()}`)).localConfig.ownerAddress, OWNER_RAW);
  assert.is(parseJsonStats(withOwner(`-1:${hex}`)).localConfig.ownerAddress, `-1:${hex}`);
  for (const bad of [`99999999999999999999:${hex}`, `1:${hex}`, `00:${hex}`, `-0:${hex}`, `+0:${hex}`, ` 0:${hex}`, `0:${hex}00`, `0x0:${hex}`]) {
    rejects(withOwner(bad), 'bad-address', 'localconfig.owner_address');
  }
  // a friendly address with a valid checksum on workchain 5
  rejects(withOwner('EQUBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAVcN'), 'bad-address', 'localconfig.owner_address');
});

test('reader: numbers, literals and nesting limit', () => {
  const doc = readTdJson('\n{\n  "a": 12345678901234567890,\n  "b": 0.000001,\n  "c": null,\n  "d": [\n  ]\n}');
  assert.equal(doc.value, { a: 12345678901234567890n, b: 0.000001, c: null, d: [] });
  assert.throws(() => readTdJson('['.repeat(40) + ']'.repeat(40)), (e: unknown) => e instanceof TdJsonError && e.reason === 'syntax');
  assert.throws(() => readTdJson('{"a": 01x}'), (e: unknown) => e instanceof TdJsonError);
  const proto = readTdJson('{\n  "__proto__": 1\n}').value as Record<string, unknown>;
  assert.is(Object.getPrototypeOf(proto), Object.prototype, 'a "__proto__" key does not change the prototype');
  assert.is(proto['__proto__'], 1n);
});

test('every key of the DERIVED JSON Schema is read by the parser', () => {
  // a key the schema documents but the parser ignores would silently drop data
  const schema = JSON.parse(fixture('worker-jsonstats.schema.json'));
  const s = parseJsonStats(sample);
  const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const renamed: Record<string, string> = {
    git_commit_data: 'gitCommitDate',
    wallet_balance: 'walletBalanceNanoton',
    balance: 'balanceNanoton',
    pending_transactions_cnt: 'pendingTransactions',
    active_transactions_cnt: 'activeTransactions',
    proxy_delay_before_close: 'proxyDelayBeforeCloseSeconds',
    client_delay_before_close: 'clientDelayBeforeCloseSeconds',
    proxy_min_stake: 'proxyMinStakeNanoton',
    client_min_stake: 'clientMinStakeNanoton',
    cached_out_tokens: 'cashedOutTokens',
    expected_cached_out_tokens: 'expectedCashedOutTokens',
  };
  const name = (k: string) => renamed[k] ?? camel(k);
  const sections: [string, Record<string, unknown>][] = [
    ['status', s.status as unknown as Record<string, unknown>],
    ['wallet', s.wallet as unknown as Record<string, unknown>],
    ['localconfig', s.localConfig as unknown as Record<string, unknown>],
    ['root_contract_config', s.rootConfig as unknown as Record<string, unknown>],
  ];
  for (const [section, parsed] of sections) {
    for (const key of Object.keys(schema.properties[section].properties)) {
      assert.ok(name(key) in parsed, `${section}.${key} is parsed`);
    }
  }
  for (const key of Object.keys(schema.properties.stats.properties)) assert.ok(key in STATS_KEYS, `stats.${key}`);
  for (const key of Object.keys(schema.properties.proxies.items.properties)) assert.ok(name(key) in s.proxies[0]!, `proxies[].${key}`);
});

test('workerHealth: README rule, thresholds match runtime-constants.json', () => {
  const constants = JSON.parse(fixture('runtime-constants.json'));
  assert.is(MIN_WALLET_BALANCE_NANOTON, BigInt(constants.base_runner.min_wallet_balance.value));
  assert.is(TON_SYNC_MAX_AGE_SECONDS, constants.base_runner.ton_sync_status_thresholds_s.synced_lt);

  const s = parseJsonStats(sample);
  const synced = s.status.tonLastSyncedAt!;
  assert.equal(workerHealth(s, synced + 600), { healthy: true, reasons: [] });
  assert.equal(workerHealth(s, synced + 601), { healthy: false, reasons: ['ton-out-of-sync'] });

  s.status.actualImageHash = false;
  s.status.actualModel = false;
  s.status.walletBalanceNanoton = MIN_WALLET_BALANCE_NANOTON - 1n;
  assert.equal(workerHealth(s, synced).reasons, ['image-hash-not-in-root', 'model-not-in-root', 'wallet-balance-low']);
  s.status.walletBalanceNanoton = MIN_WALLET_BALANCE_NANOTON;
  assert.not.ok(workerHealth(s, synced).reasons.includes('wallet-balance-low'), '2.1 TON exactly is enough');
});

test.run();
