/** Running the real `pool` command in a child process, as a user would, for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Address, TupleBuilder } from '@ton/core';
import { openLocalChain } from '../../chain/localChain.ts';
import { loadTupleEpochInfo } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { decodeRewardPayout, memberRevenueIntake, revenueIntake } from '../../contracts/distribution.ts';

export const root = resolve(import.meta.dirname, '..', '..');

export interface PoolProcess {
  child: ChildProcess;
  /** every stdout line so far */
  lines: string[];
  /** resolves with the exit code */
  exited: Promise<number | null>;
  /** resolves with the first line matching `pattern` (rejects if the process exits first) */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** everything written to stderr so far */
  stderr(): string;
}

/**
 * TON the emulated proxy of an end-to-end run owes an owner before it pays unasked (`--auto-pay-threshold`):
 * Cocoon's 10 TON would take the emulated workers about twenty minutes per member, so a
 * run of a few short epochs pays at this instead (the README's bounded run says so too).
 */
export const E2E_AUTO_PAY_THRESHOLD_TON = '0.02';

/**
 * Starts `command args` in the repository with the pool's data in `dataDir`, the API and the
 * emulated workers on free ports, and the emulated proxy paying at {@link E2E_AUTO_PAY_THRESHOLD_TON}
 * unless `args` set `--auto-pay-threshold`. `npm` runs the README command; `node` the CLI directly.
 */
export function spawnPool(command: 'npm' | 'node', args: string[], dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): PoolProcess {
  if (!args.includes('--auto-pay-threshold')) args = ['--auto-pay-threshold', E2E_AUTO_PAY_THRESHOLD_TON, ...args];
  const argv = command === 'npm' ? ['start', '--silent', '--', ...args] : ['--import', 'tsx', 'cli/pool.ts', 'start', ...args];
  const child = spawn(command === 'npm' ? 'npm' : process.execPath, argv, {
    cwd: root,
    env: { ...process.env, POOL_DATA_DIR: dataDir, PORT: '0', POOL_WORKER_BASE_PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) if (w.pattern.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      if (partial) lines.push(partial);
      r(code);
    }),
  );
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitFor(pattern, timeoutMs = 120_000) {
      const found = lines.find((l) => pattern.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(t), res(l)) });
        void exited.then((code) => (clearTimeout(t), rej(new Error(`pool exited (${code}) before ${pattern}; stderr: ${stderr.slice(-3000)}`))));
      });
    },
  };
}

/** Runs `pool audit --epoch N` on `dataDir`; stdout lines are the JSON report. */
export function spawnAudit(epochId: number, dataDir: string): { lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', 'audit', '--epoch', String(epochId)], {
    cwd: root,
    env: { ...process.env, POOL_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => (lines.push(...out.split('\n')), r(code))));
  return { lines, exited };
}

export interface EpochSummary {
  id: number;
  revenueNanoton: string;
  operatorFeeNanoton: string;
  rewardsNanoton: string;
  leafCount: number;
  merkleRoot: string;
  payoutsConfirmed: number;
  status: string;
}

/** Parses the bounded run's last stdout line. */
export function lastJson(lines: string[]): { epochs: EpochSummary[] } {
  const last = lines.filter((l) => l.trim()).at(-1) ?? '';
  return JSON.parse(last);
}

export interface ChainAudit {
  /** root the contract stores per epoch (hex) */
  roots: Map<number, string>;
  /** every leaf payment the contract made: `${epoch}:${index}` → how many times, amount, address */
  payments: Map<string, { times: number; amount: bigint; address: string }>;
  /** revenue transactions (contracts/distribution.ts revenueIntake or memberRevenueIntake, failed intakes included): hash → { lt, amount } */
  revenue: Map<string, { lt: bigint; amount: bigint }>;
}

/** Reads what the pool's distribution contract did, from the local chain in `<dataDir>/chain`. */
export async function auditChain(dataDir: string, distribution: string, epochs: number[]): Promise<ChainAudit> {
  const chain = await openLocalChain({ dir: resolve(dataDir, 'chain') });
  try {
    const address = Address.parseRaw(distribution);
    const roots = new Map<number, string>();
    for (const epoch of epochs) {
      const args = new TupleBuilder();
      args.writeNumber(epoch);
      const r = await chain.runGetMethod(address, 'epoch', args.build());
      const info = r.stack.readTupleOpt();
      if (info) roots.set(epoch, loadTupleEpochInfo(info).root.toString(16).padStart(64, '0'));
    }
    const payments = new Map<string, { times: number; amount: bigint; address: string }>();
    const revenue = new Map<string, { lt: bigint; amount: bigint }>();
    for (const tx of await chain.getTransactions(address, {})) {
      const intake = revenueIntake(tx) ?? memberRevenueIntake(tx);
      if (intake) revenue.set(tx.hash().toString('hex'), { lt: tx.lt, amount: intake.amount });
      for (const m of tx.outMessages.values()) {
        if (m.info.type !== 'internal') continue;
        let p;
        try {
          p = decodeRewardPayout(m.body);
        } catch {
          continue;
        }
        const key = `${p.epochId}:${p.index}`;
        const seen = payments.get(key);
        payments.set(key, { times: (seen?.times ?? 0) + 1, amount: m.info.value.coins, address: m.info.dest.toRawString() });
      }
    }
    return { roots, payments, revenue };
  } finally {
    await chain.close();
  }
}
