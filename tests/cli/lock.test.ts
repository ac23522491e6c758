/**
 * The data-dir lock (cli/lock.ts) between real processes: of 20 takers started at once exactly one
 * wins and every other fails with DataDirLockedError naming the winner's pid; after the holder is
 * killed with SIGKILL, a new taker succeeds at once, even while the dead holder is still a zombie.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until } from '../support/until.ts';

const TAKER = resolve(import.meta.dirname, 'lockTaker.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'pool-lock-'));
const children: ChildProcess[] = [];
test.after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Taken {
  won: boolean;
  pid?: number;
  name?: string;
  holderPid?: number | null;
  message?: string;
}

/** Starts a taker (through `sh` when `viaShell` is a shell line using $TAKER) and resolves its JSON line. */
function take(viaShell?: string): { child: ChildProcess; line: Promise<Taken>; exited: Promise<number | null> } {
  const child = viaShell
    ? spawn('sh', ['-c', viaShell], { env: { ...process.env, TAKER: `${process.execPath} --import tsx ${TAKER} ${dataDir}` }, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, ['--import', 'tsx', TAKER, dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const line = new Promise<Taken>((resolveLine, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolveLine(JSON.parse(out.slice(0, out.indexOf('\n'))) as Taken);
    });
    void exited.then((code) => reject(new Error(`taker exited (${code}) without a line: ${err}`)));
  });
  return { child, line, exited };
}

function processState(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!;
  } catch {
    return null;
  }
}

test('20 takers started at once: exactly one wins, the others are refused naming its pid, none crashes', async () => {
  const takers = Array.from({ length: 20 }, () => take());
  const lines = await Promise.all(takers.map((t) => t.line));
  const winners = lines.filter((l) => l.won);
  assert.is(winners.length, 1, JSON.stringify(lines));
  const winnerPid = winners[0]!.pid!;
  for (const l of lines.filter((x) => !x.won)) {
    assert.is(l.name, 'DataDirLockedError');
    assert.is(l.holderPid, winnerPid);
    assert.match(l.message!, `process ${winnerPid}`);
  }
  const losers = takers.filter((_, i) => !lines[i]!.won);
  assert.equal(await Promise.all(losers.map((t) => t.exited)), losers.map(() => 0), 'a loser crashed');

  // SIGKILL the holder: the next taker wins at once
  const holder = takers[lines.findIndex((l) => l.won)]!;
  holder.child.kill('SIGKILL');
  await holder.exited;
  const next = take();
  assert.equal(await next.line, { won: true, pid: next.child.pid });
  next.child.stdin!.end();
  assert.is(await next.exited, 0);
});

test('a holder killed with SIGKILL that is still a zombie holds no lock', async () => {
  // the taker's parent becomes `sleep`, which never reaps it: after SIGKILL it stays a zombie
  const parent = take('$TAKER & exec sleep 600');
  const held = await parent.line;
  assert.ok(held.won);
  process.kill(held.pid!, 'SIGKILL');
  await until('the killed holder to be a zombie', () => processState(held.pid!) === 'Z');
  const next = take();
  assert.equal(await next.line, { won: true, pid: next.child.pid });
  assert.is(processState(held.pid!), 'Z', 'the dead holder is still a zombie');
  next.child.stdin!.end();
  assert.is(await next.exited, 0);
  parent.child.kill('SIGKILL');
});

test.run();
