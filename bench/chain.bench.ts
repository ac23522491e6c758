/**
 * Benchmark of the local chain (chain/localChain.ts): time per send with persistence, snapshot
 * size, reopen time, against raw limits measured in the same run:
 * - the sandbox alone (same transfer, no persistence): what the TVM emulation costs;
 * - raw durable writes of the same sizes (log append + fdatasync, temp file + fsync + rename +
 *   directory fsync): what durability costs on this disk.
 *
 * Usage: `node --import tsx tests/chain/localChain.bench.ts [sends=300]` (meant for bench/ once
 * the lead moves it there).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Address, toNano } from '@ton/core';
import { Blockchain } from '@ton/sandbox';
import { openLocalChain } from '../chain/localChain.ts';

const SENDS = Number(process.argv[2] ?? 300);
const EXTRA_ACCOUNTS = 200;

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

async function rawDurableWrites(dir: string, logLine: number, snapshot: number): Promise<number> {
  const log = await open(join(dir, 'raw.log'), 'a');
  const ms = await perOp(SENDS, async () => {
    await log.write(randomBytes(logLine));
    await log.datasync();
    const tmp = await open(join(dir, 'raw.json.tmp'), 'w');
    await tmp.writeFile(randomBytes(snapshot));
    await tmp.sync();
    await tmp.close();
    await rename(join(dir, 'raw.json.tmp'), join(dir, 'raw.json'));
    const d = await open(dir, 'r');
    await d.sync();
    await d.close();
  });
  await log.close();
  return ms;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chain-bench-'));
  try {
    const chainDir = join(dir, 'chain');
    const chain = await openLocalChain({ dir: chainDir, wallets: ['operator', 'proxy-1'] });
    const proxy = chain.walletAddress('proxy-1');
    const send = () => chain.send('operator', [{ to: proxy, value: 1000n }]);
    await perOp(20, send); // warm-up
    const logBefore = statSync(join(chainDir, 'transactions.log')).size;
    const small = await perOp(SENDS, send);
    const logPerSend = (statSync(join(chainDir, 'transactions.log')).size - logBefore) / SENDS;
    const smallSnapshot = statSync(join(chainDir, 'chain.json')).size;

    const sinks = Array.from({ length: EXTRA_ACCOUNTS }, () => ({
      to: new Address(0, randomBytes(32)),
      value: toNano('0.01'),
      bounce: false,
    }));
    await chain.send('operator', sinks);
    const large = await perOp(SENDS, send);
    const largeSnapshot = statSync(join(chainDir, 'chain.json')).size;
    await chain.close();

    const reopenStarted = performance.now();
    const reopened = await openLocalChain({ dir: chainDir });
    const reopenMs = performance.now() - reopenStarted;
    const history = (await reopened.getTransactions(proxy, {})).length;
    await reopened.close();

    const sandbox = await rawSandboxSend();
    const rawSmall = await rawDurableWrites(dir, Math.round(logPerSend), smallSnapshot);
    const rawLarge = await rawDurableWrites(dir, Math.round(logPerSend), largeSnapshot);

    const row = (name: string, value: string, ratio = '') => console.log(name.padEnd(52) + value.padStart(14) + ratio.padStart(22));
    row('figure', 'value', 'ratio to raw limit');
    row('raw: sandbox send, no persistence (2 txs)', `${sandbox.toFixed(2)} ms`);
    row(`raw: durable append ${Math.round(logPerSend)} B + atomic ${smallSnapshot} B`, `${rawSmall.toFixed(2)} ms`);
    row(`raw: durable append + atomic ${largeSnapshot} B`, `${rawLarge.toFixed(2)} ms`);
    row('local chain send + persist, 2 accounts', `${small.toFixed(2)} ms`, `${(small / (sandbox + rawSmall)).toFixed(2)}x (sandbox+io)`);
    row(`local chain send + persist, ${2 + EXTRA_ACCOUNTS} accounts`, `${large.toFixed(2)} ms`, `${(large / (sandbox + rawLarge)).toFixed(2)}x (sandbox+io)`);
    row('persist overhead per send, 2 accounts', `${(small - sandbox).toFixed(2)} ms`, `${((small - sandbox) / rawSmall).toFixed(2)}x (io)`);
    row('snapshot chain.json, 2 accounts', `${smallSnapshot} B`);
    row(`snapshot chain.json, ${2 + EXTRA_ACCOUNTS} accounts`, `${largeSnapshot} B`);
    row('transactions.log per send (2 txs)', `${logPerSend.toFixed(0)} B`);
    row(`reopen (${2 * SENDS + EXTRA_ACCOUNTS + 50} txs in history)`, `${reopenMs.toFixed(0)} ms`);
    row('sends measured per row', String(SENDS));
    if (history < 2 * SENDS) throw new Error('history incomplete after reopen');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
