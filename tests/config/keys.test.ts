/**
 * The operator key (chain/keys.ts): from the variable or a file only its owner can read; every
 * refusal names where it looked and what to do, and never quotes the words.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyError, ensureMnemonicFile, loadOperatorKey } from '../../chain/keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'pool-keys-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ENV = { mnemonicEnv: 'POOL_OPERATOR_MNEMONIC', mnemonicFile: null };

async function refusal(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, KeyError);
    return (err as Error).message;
  }
  throw new Error('expected a KeyError');
}

test('the key pair of the mnemonic in the variable or in a 0600 (or stricter) file', async () => {
  const words = await mnemonicNew(24);
  const expected = await mnemonicToPrivateKey(words);
  const fromEnv = await loadOperatorKey(ENV, { POOL_OPERATOR_MNEMONIC: ` ${words.join('  ')}\n` });
  assert.ok(fromEnv.publicKey.equals(expected.publicKey));
  for (const mode of [0o600, 0o400]) {
    const file = join(dir, `mnemonic-${mode.toString(8)}`);
    writeFileSync(file, `${words.join('\n')}\n`);
    chmodSync(file, mode);
    const fromFile = await loadOperatorKey({ mnemonicEnv: 'POOL_OPERATOR_MNEMONIC', mnemonicFile: file }, {});
    assert.ok(fromFile.secretKey.equals(expected.secretKey));
  }
});

test('a file group or others may read is refused, saying chmod 600', async () => {
  const words = await mnemonicNew(24);
  for (const mode of [0o644, 0o640, 0o604, 0o620]) {
    const file = join(dir, `open-${mode.toString(8)}`);
    writeFileSync(file, words.join(' '));
    chmodSync(file, mode);
    const message = await refusal(() => loadOperatorKey({ mnemonicEnv: 'POOL_OPERATOR_MNEMONIC', mnemonicFile: file }, {}));
    assert.match(message, `has mode 0${mode.toString(8)}`);
    assert.match(message, `chmod 600 ${file}`);
    // a single word may be one of the message's own (BIP-39 has 'file'): no two consecutive ones may appear
    for (let i = 0; i + 1 < words.length; i++) assert.not.ok(message.includes(`${words[i]} ${words[i + 1]}`), 'two consecutive words of the mnemonic');
  }
  assert.match(await refusal(() => loadOperatorKey({ mnemonicEnv: 'X', mnemonicFile: dir }, {})), 'is not a regular file');
  assert.match(await refusal(() => loadOperatorKey({ mnemonicEnv: 'X', mnemonicFile: join(dir, 'missing') }, {})), 'cannot be read: ENOENT');
});

test('none, both, a wrong count or words that are not a TON mnemonic: refused without quoting them', async () => {
  assert.match(await refusal(() => loadOperatorKey(ENV, {})), /^no operator mnemonic: set POOL_OPERATOR_MNEMONIC .* chain\.wallet\.mnemonicFile/);
  const words = await mnemonicNew(24);
  const file = join(dir, 'both');
  writeFileSync(file, words.join(' '), { mode: 0o600 });
  assert.match(await refusal(() => loadOperatorKey({ mnemonicEnv: 'M', mnemonicFile: file }, { M: words.join(' ') })), 'both M and chain.wallet.mnemonicFile');
  const short = words.slice(0, 23).join(' ');
  const shortMessage = await refusal(() => loadOperatorKey({ mnemonicEnv: 'M', mnemonicFile: null }, { M: short }));
  assert.is(shortMessage, 'the operator mnemonic in M has 23 words, a TON mnemonic has 24');
  // a typo: one word outside the list
  const swapped = [...words.slice(1), 'abandonn'].join(' ');
  const badMessage = await refusal(() => loadOperatorKey({ mnemonicEnv: 'M', mnemonicFile: null }, { M: swapped }));
  assert.match(badMessage, 'is not a valid TON mnemonic');
  // single words may be the messages' own (BIP-39 has 'valid'): no two consecutive ones may appear
  for (let i = 0; i + 1 < words.length; i++) assert.not.ok((shortMessage + badMessage).includes(`${words[i]} ${words[i + 1]}`), 'two consecutive words of the mnemonic');
});

test('ensureMnemonicFile: created once with mode 0600 and fresh words, kept afterwards', async () => {
  const file = join(dir, 'devnet', 'operator.mnemonic');
  assert.is(await ensureMnemonicFile(file), true);
  assert.is(statSync(file).mode & 0o777, 0o600);
  const first = readFileSync(file, 'utf8');
  assert.is(first.trim().split(/\s+/).length, 24);
  assert.is(await ensureMnemonicFile(file), false);
  assert.is(readFileSync(file, 'utf8'), first);
  await loadOperatorKey({ mnemonicEnv: 'M', mnemonicFile: file }, {});
});

test.run();
