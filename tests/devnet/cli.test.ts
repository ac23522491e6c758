/**
 * `pool devnet` (cli/devnet.ts) as a user runs it: a real process serving the persistent chain in
 * its data directory, wallets of a mnemonic file funded (highload v3 and v5r1) and topped up, not
 * re-minted, after a restart; the URL printed; a clean stop on SIGTERM; bad --fund values refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Address, toNano } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { TonClient, WalletContractV5R1 } from '@ton/ton';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { highloadV3Address, HIGHLOAD_V3_DEFAULT_SUBWALLET_ID } from '../../chain/wallet/highloadV3.ts';
import { fundTargets } from '../../cli/devnet.ts';
import { until } from '../support/until.ts';

const POOL = resolve(import.meta.dirname, '../../cli/pool.ts');
const dir = mkdtempSync(join(tmpdir(), 'devnet-cli-'));
const children: ChildProcess[] = [];
test.after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `pool devnet`, resolves with its URL once it logged "devnet listening". */
async function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; funded: any[]; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', POOL, 'devnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const line = await until('pool devnet to listen', () => {
    if (child.exitCode !== null) throw new Error(`pool devnet exited ${child.exitCode}: ${err}`);
    return out.split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l) : null)).find((l) => l?.msg === 'devnet listening');
  }, 120_000);
  return { child, url: line.tonCenter, funded: line.funded, exited };
}

test('pool devnet funds the wallets of a mnemonic file, serves TonClient, stops on SIGTERM, restarts without minting again', async () => {
  const words = await mnemonicNew();
  const mnemonicFile = join(dir, 'operator.mnemonic');
  writeFileSync(mnemonicFile, words.join(' '), { mode: 0o600 });
  const { publicKey } = await mnemonicToPrivateKey(words);
  const highload = highloadV3Address({ publicKey, subwalletId: HIGHLOAD_V3_DEFAULT_SUBWALLET_ID, timeout: 3600 });
  const v5 = WalletContractV5R1.create({ workchain: 0, publicKey }).address;
  const args = ['--port', '0', '--data-dir', join(dir, 'var'), '--fund', mnemonicFile, '--fund-ton', '5', '--finality-lag', '1'];

  const first = await startCli(args);
  assert.equal(first.funded.map((f: any) => f.source), [`${mnemonicFile} highload-v3`, `${mnemonicFile} v5r1`]);
  // one word may be part of the output anyway (BIP-39 words are English words): no two consecutive ones may appear
  for (let i = 0; i + 1 < words.length; i++) assert.not.ok(JSON.stringify(first.funded).includes(`${words[i]} ${words[i + 1]}`), 'the words are never printed');
  let client = new TonClient({ endpoint: `${first.url}/api/v2/jsonRPC` });
  assert.is(await client.getBalance(highload), toNano('5'));
  assert.is(await client.getBalance(v5), toNano('5'));
  const txsBefore = (await client.getTransactions(highload, { limit: 10 })).length;
  first.child.kill('SIGTERM');
  assert.is(await first.exited, 0);

  const second = await startCli(args);
  client = new TonClient({ endpoint: `${second.url}/api/v2/jsonRPC` });
  assert.is(await client.getBalance(highload), toNano('5'));
  assert.is((await client.getTransactions(highload, { limit: 10 })).length, txsBefore, 'already funded: nothing minted');
  second.child.kill('SIGTERM');
  assert.is(await second.exited, 0);
});

test('--fund: addresses as given; anything else must be a file with a valid mnemonic (never quoted)', async () => {
  const addr = new Address(0, Buffer.alloc(32, 1));
  const [t] = await fundTargets([addr.toRawString()], { subwalletId: 1, timeout: 60 });
  assert.ok(t!.address.equals(addr));
  const bad = join(dir, 'bad.mnemonic');
  writeFileSync(bad, 'secret words that are not a mnemonic');
  const err = await fundTargets([bad], { subwalletId: 1, timeout: 60 }).then(() => null, (e: Error) => e.message);
  assert.match(err ?? '', /does not hold a valid 24-word TON mnemonic/);
  assert.not.match(err ?? '', /secret/);
  assert.match((await fundTargets([join(dir, 'missing')], { subwalletId: 1, timeout: 60 }).then(() => '', (e: Error) => e.message)), /not an address, and not a readable mnemonic file \(ENOENT\)/);
});

test.run();
