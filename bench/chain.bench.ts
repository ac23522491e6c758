/**
 * Benchmark of the local chain (chain/localChain.ts): time per send with persistence, snapshot
 * size, reopen time, against raw limits measured in the same run:
 * - the sandbox alone (same transfer, no persistence): what the TVM emulation costs;
 * - raw durable writes of the same sizes (log append + fdatasync, temp file + fsync + rename +
 *   directory fsync): what durability costs on this disk.
 *
 * Usage: `npm run bench -- chain` or `node --import tsx bench/chain.bench.ts [sends=300] [accounts=20000]`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Address, internal, toNano } from '@ton/core';
import { Blockchain } from '@ton/sandbox';
import { openLocalChain } from '../chain/localChain.ts';

const SENDS = Number(process.argv[2] ?? 300);
/** accounts created before the "large" rows (a pool's participants), in sends of 200 */
const EXTRA_ACCOUNTS = Number(process.argv[3] ?? 20_000);

async function perOp(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return (performance.now() - started) / n;
}

async function rawSandboxSend(): Promise<number> {
  const chain = await Blockchain.create();
  chain.verbosity = { print: false, blockchainLogs: false, vmLogs: 'none', debugLogs: false };
  const operator = await chain.treasury('operator');
  const proxy = await chain.treasury('proxy-1');
  return perOp(SENDS, () => operator.send({ to: proxy.address, value: 1000n }));
}

/** The sandbox alone sending 200 payouts to new accounts (no persistence), ms per send. */
async function rawSandboxPayouts(sends: number): Promise<number> {
  const chain = await Blockchain.create();
  chain.verbosity = { print: false, blockchainLogs: false, vmLogs: 'none', debugLogs: false };
  const operator = await chain.treasury('operator');
  return perOp(sends, () => operator.sendMessages(Array.from({ length: 200 }, () => internal({ to: new Address(0, randomBytes(32)), value: toNano('0.01'), bounce: false }))));
}

/** Raw durable appends of `bytes` (write + fdatasync), as one persist of the local chain does, ms each. */
async function rawDurableAppends(dir: string, bytes: number, n = SENDS): Promise<number> {
  const log = await open(join(dir, 'raw.log'), 'a');
  const ms = await perOp(n, async () => {
    await log.write(randomBytes(bytes));
    await log.datasync();
  });
  await log.close();
  return ms;
}

/** Raw atomic replace of a file of `bytes` (temp, fsync, rename, directory fsync), ms. */
async function rawAtomicWrite(dir: string, bytes: number): Promise<number> {
  return perOp(3, async () => {
    const tmp = await open(join(dir, 'raw.json.tmp'), 'w');
    await tmp.writeFile(randomBytes(bytes));
    await tmp.sync();
    await tmp.close();
    await rename(join(dir, 'raw.json.tmp'), join(dir, 'raw.json'));
    const d = await open(dir, 'r');
    await d.sync();
    await d.close();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chain-bench-'));
  try {
    const chainDir = join(dir, 'chain');
    const chain = await openLocalChain({ dir: chainDir, wallets: ['operator', 'proxy-1'] });
    const proxy = chain.walletAddress('proxy-1');
    const send = () => chain.send('operator', [{ to: proxy, value: 1000n }]);
    await perOp(20, send); // warm-up
    const logSize = () => statSync(join(chainDir, 'transactions.log')).size;
    let before = logSize();
    const small = await perOp(SENDS, send);
    const logPerSend = (logSize() - before) / SENDS;

    before = logSize();
    const fillStarted = performance.now();
    const fills = Math.ceil(EXTRA_ACCOUNTS / 200);
    for (let made = 0; made < EXTRA_ACCOUNTS; made += 200) {
      const sinks = Array.from({ length: Math.min(200, EXTRA_ACCOUNTS - made) }, () => ({ to: new Address(0, randomBytes(32)), value: toNano('0.01'), bounce: false }));
      await chain.send('operator', sinks);
    }
    const fillPerSend = (performance.now() - fillStarted) / fills;
    const logPerFill = (logSize() - before) / fills;
    before = logSize();
    const large = await perOp(SENDS, send);
    const logPerLarge = (logSize() - before) / SENDS;
    const snapshotBytes = statSync(join(chainDir, 'chain.json')).size;
    await chain.close();

    const reopenStarted = performance.now();
    const reopened = await openLocalChain({ dir: chainDir });
    const reopenMs = performance.now() - reopenStarted;
    const history = (await reopened.getTransactions(proxy, {})).length;
    await reopened.close();

    const sandbox = await rawSandboxSend();
    const sandboxPayouts = await rawSandboxPayouts(Math.min(20, fills));
    const rawSmall = await rawDurableAppends(dir, Math.round(logPerSend));
    const rawLarge = await rawDurableAppends(dir, Math.round(logPerLarge));
    const rawFill = await rawDurableAppends(dir, Math.round(logPerFill), Math.min(20, fills));
    const rawSnapshot = await rawAtomicWrite(dir, snapshotBytes);

    const row = (name: string, value: string, ratio = '') => console.log(name.padEnd(60) + value.padStart(14) + ratio.padStart(24));
    row('figure', 'value', 'ratio to raw limit');
    row('raw: sandbox send, no persistence (2 txs)', `${sandbox.toFixed(2)} ms`);
    row('raw: sandbox send of 200 payouts, no persistence', `${sandboxPayouts.toFixed(2)} ms`);
    row(`raw: durable append of ${Math.round(logPerSend)} B`, `${rawSmall.toFixed(2)} ms`);
    row(`raw: durable append of ${Math.round(logPerLarge)} B`, `${rawLarge.toFixed(2)} ms`);
    row(`raw: durable append of ${Math.round(logPerFill)} B`, `${rawFill.toFixed(2)} ms`);
    row(`raw: atomic rewrite of a ${snapshotBytes} B snapshot`, `${rawSnapshot.toFixed(2)} ms`);
    row('local chain send + persist, 2 accounts', `${small.toFixed(2)} ms`, `${(small / (sandbox + rawSmall)).toFixed(2)}x (sandbox+append)`);
    row(`local chain send + persist, ${2 + EXTRA_ACCOUNTS} accounts`, `${large.toFixed(2)} ms`, `${(large / (sandbox + rawLarge)).toFixed(2)}x (sandbox+append)`);
    row(`local chain send of 200 payouts, up to ${EXTRA_ACCOUNTS} accounts`, `${fillPerSend.toFixed(2)} ms`, `${(fillPerSend / (sandboxPayouts + rawFill)).toFixed(2)}x (sandbox+append)`);
    row('log appended per send (2 txs)', `${logPerSend.toFixed(0)} B`);
    row('log appended per send of 200 payouts', `${logPerFill.toFixed(0)} B`);
    row(`snapshot chain.json at ${2 + EXTRA_ACCOUNTS} accounts (rewritten when the tail outgrows it)`, `${snapshotBytes} B`);
    row(`reopen (${2 * SENDS + EXTRA_ACCOUNTS + 40} txs in history)`, `${reopenMs.toFixed(0)} ms`);
    row('sends measured per row', String(SENDS));
    if (history < 2 * SENDS) throw new Error('history incomplete after reopen');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
