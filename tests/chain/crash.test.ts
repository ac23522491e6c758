/**
 * kill -9 of a process sending on the local chain, at random moments, several times: on reopen the
 * state and the history agree (every recorded transaction is reflected in the balances, none is
 * missing or doubled) and every send the process saw complete is there.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Address, type Transaction } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLocalChain } from '../../chain/localChain.ts';

const KILLS = 6;
const sender = join(import.meta.dirname, 'crashSender.ts');

/** What a transaction did to its account's balance: credit − fees − Σ(out value + forward fee). */
function balanceDelta(tx: Transaction): bigint {
  let delta = -tx.totalFees.coins;
  const info = tx.inMessage?.info;
  if (info?.type === 'internal') delta += info.value.coins;
  for (const m of tx.outMessages.values()) {
    if (m.info.type === 'internal') delta -= m.info.value.coins + m.info.forwardFee;
  }
  return delta;
}

/**
 * Runs crashSender.ts and SIGKILLs it `delayMs` after its first completed send (or after spawn when
 * `afterReady` is false, which may hit its start-up). Resolves with the hashes (hex) of the sends
 * it reported complete.
 */
async function runAndKill(dir: string, sink: Address, delayMs: number, afterReady: boolean): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', sender, dir, sink.toString()], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_code, signal) => done(signal)));
  const ready = new Promise<void>((done, failed) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (/^sent /m.test(output)) done(); // mid-sending, whatever the machine's load: the first send is through
    });
    void exited.then(() => failed(new Error('sender exited before its first send')));
  });
  if (afterReady) await ready;
  else ready.catch(() => undefined); // killed during start-up: never ready
  await sleep(delayMs);
  child.kill('SIGKILL');
  assert.is(await exited, 'SIGKILL', 'the sender was still running when killed');
  return [...output.matchAll(/^sent ([0-9a-f]{64})$/gm)].map((m) => m[1]!);
}

test(`${KILLS} random SIGKILLs mid-sending: state and history agree on reopen`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chain-crash-'));
  try {
    const sink = new Address(0, randomBytes(32));
    const start = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
    const accounts = [start.walletAddress('operator'), start.walletAddress('proxy-1'), sink];
    const baseline = await Promise.all(accounts.map((a) => start.getBalance(a)));
    // the wallets' balances were minted after their deploy transactions: count from here on
    const lastLts = await Promise.all(accounts.map(async (a) => (await start.getTransactions(a, {})).at(-1)?.lt ?? 0n));
    const baselineLt = lastLts.reduce((a, b) => (a > b ? a : b));
    await start.close();

    const delays: number[] = [];
    const acknowledged: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      const afterReady = i % 3 !== 2;
      const delay = Math.floor(Math.random() * (afterReady ? 400 : 1500));
      delays.push(delay);
      acknowledged.push(...(await runAndKill(dir, sink, delay, afterReady)));
    }
    const why = `kill delays ${delays.join(', ')} ms`;

    const chain = await openLocalChain({ dir });
    const seen = new Set<string>();
    let sent = 0;
    for (const [i, account] of accounts.entries()) {
      const txs = await chain.getTransactions(account, {});
      for (const tx of txs) {
        const hash = tx.hash().toString('hex');
        assert.not.ok(seen.has(hash), `transaction ${hash} recorded twice (${why})`);
        seen.add(hash);
      }
      const after = txs.filter((t) => t.lt > baselineLt);
      for (let k = 1; k < after.length; k++) {
        assert.ok(after[k - 1]!.lt < after[k]!.lt, `history in lt order (${why})`);
        const continuous = after[k]!.stateUpdate.oldHash.equals(after[k - 1]!.stateUpdate.newHash);
        assert.ok(continuous, `no transaction missing: state hashes chain (${why})`);
      }
      const recorded = after.reduce((sum, tx) => sum + balanceDelta(tx), 0n);
      assert.is((await chain.getBalance(account)) - baseline[i]!, recorded, `balance change = recorded transfers (${why})`);
      sent += after.length;
    }
    assert.ok(sent > 0, `the senders got transactions through (${why})`);
    for (const hash of acknowledged) assert.ok(seen.has(hash), `a completed send is in the history (${why})`);

    let lastLt = 0n;
    for (const a of accounts) for (const tx of await chain.getTransactions(a, {})) lastLt = tx.lt > lastLt ? tx.lt : lastLt;
    const next = await chain.send('operator', [{ to: sink, value: 1n, bounce: false }]);
    assert.ok(next.transactions[0]!.lt > lastLt, 'lt continues after the crashes');
    await chain.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
