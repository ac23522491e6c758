/**
 * The operator's signing key: a 24-word TON mnemonic (the words of @ton/crypto's `mnemonicNew`,
 * checked with `mnemonicValidate`) read from the environment variable the configuration names
 * (`chain.wallet.mnemonicEnv`, default POOL_OPERATOR_MNEMONIC) or from a file
 * (`chain.wallet.mnemonicFile`) that only its owner can read (mode 0600 or stricter), turned into
 * an Ed25519 key pair with `mnemonicToPrivateKey`.
 *
 * The words and the key never leave this module except as the KeyPair handed to the wallet that
 * signs: no error message quotes them, no event carries them, and the pool's logger censors the
 * paths in {@link SECRET_LOG_PATHS} should an object holding one ever be logged.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { mnemonicNew, mnemonicToPrivateKey, mnemonicValidate, type KeyPair } from '@ton/crypto';
import type { PoolConfig } from '../config/config.ts';

/**
 * Paths pino censors (its `redact` option) in every log line: the NATS password of the
 * configuration, and any field named like a key, at the top level or one or two levels down.
 */
export const SECRET_LOG_PATHS: readonly string[] = ['natsPassword', 'config.natsPassword', 'password', 'apiKey', 'mnemonic', 'words', 'secretKey', 'keyPair', 'privateKey']
  .flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** The mnemonic is missing, unreadable, readable by others, or not a TON mnemonic. The message never holds the words. */
export class KeyError extends Error {
  override name = 'KeyError';
}

/** Where the operator's mnemonic is: the configuration's `chain.wallet`. */
export type MnemonicSource = Pick<PoolConfig['chain']['wallet'], 'mnemonicEnv' | 'mnemonicFile'>;

/** Number of words of a TON mnemonic (`mnemonicNew` default). */
const WORDS = 24;

/**
 * The operator's key pair from `source`: the file when `mnemonicFile` is set, else the variable
 * `mnemonicEnv` of `env`. Both set is refused (which key signs must never be a guess).
 * @throws KeyError naming the variable or file and what is wrong (never the words): none set, both
 *   set, a file that is not a regular file, readable or writable by group or others (`chmod 600`),
 *   unreadable, or words that are not a 24-word TON mnemonic.
 */
export async function loadOperatorKey(source: MnemonicSource, env: NodeJS.ProcessEnv = process.env): Promise<KeyPair> {
  const fromEnv = env[source.mnemonicEnv];
  if (source.mnemonicFile && fromEnv) {
    throw new KeyError(`both ${source.mnemonicEnv} and chain.wallet.mnemonicFile (${source.mnemonicFile}) hold an operator mnemonic: unset one of them`);
  }
  if (source.mnemonicFile) return keyPairOf(readMnemonicFile(source.mnemonicFile), `the file ${source.mnemonicFile}`);
  if (fromEnv) return keyPairOf(fromEnv, source.mnemonicEnv);
  throw new KeyError(
    `no operator mnemonic: set ${source.mnemonicEnv} to the operator wallet's ${WORDS} words, or chain.wallet.mnemonicFile (POOL_OPERATOR_MNEMONIC_FILE) to a file holding them (mode 0600)`,
  );
}

/** The text of a mnemonic file, after checking that only its owner can read or write it. */
function readMnemonicFile(path: string): string {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new KeyError(`operator mnemonic file ${path} is not a regular file`);
    mode = st.mode & 0o777;
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(`operator mnemonic file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (mode & 0o077) {
    throw new KeyError(`operator mnemonic file ${path} has mode 0${mode.toString(8)}: group or others may read it. Run \`chmod 600 ${path}\` (and consider the key exposed if others could read it)`);
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyError(`operator mnemonic file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function keyPairOf(text: string, where: string): Promise<KeyPair> {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length !== WORDS) throw new KeyError(`the operator mnemonic in ${where} has ${words.length} words, a TON mnemonic has ${WORDS}`);
  if (!(await mnemonicValidate(words))) throw new KeyError(`the operator mnemonic in ${where} is not a valid TON mnemonic (a word outside the list, or words not made by a TON wallet)`);
  return mnemonicToPrivateKey(words);
}

/**
 * The mnemonic file at `path`, created with fresh words (`mnemonicNew`, mode 0600, its directory
 * made) when it does not exist: the devnet operator's key, so `--chain devnet` needs no setup.
 * Written to a temporary file and linked into place, so a crash never leaves a partial file.
 * Never used for testnet or mainnet, whose wallet the operator creates and funds.
 * @returns true when it was created now.
 * @throws the file system's errors.
 */
export async function ensureMnemonicFile(path: string): Promise<boolean> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${(await mnemonicNew(WORDS)).join(' ')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}
