/**
 * `pool audit` as an operator runs it (the real CLI in a child process, over a real nats-server and
 * PostgreSQL): progress and a one-line verdict on stderr, the JSON report on stdout; "no such epoch"
 * (exit 1) told from "not settled yet" (exit 3); no pool data (exit 1); never a directory created.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditVerdict, type AuditReport } from '../../cli/audit.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { bound, closing, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { root } from '../support/pool.ts';

let nats: TestNats;
const tmp = mkdtempSync(join(tmpdir(), 'pool-audit-cli-'));
/** a data directory that does not exist: the audit must leave it so */
const missingDir = join(tmp, 'no-such-data-dir');

/** Runs `pool audit --epoch N …` with `env`; resolves with its exit code, stdout and stderr lines. */
function audit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', 'audit', ...args], {
    cwd: root,
    env: { ...process.env, NATS_URL: '', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr: stderr.split('\n').filter((l) => l.trim()) })));
}

test.before(async () => {
  nats = await startTestNats();
  const artifacts = await openArtifactStore(nats.nc);
  const rewards = await artifacts.putRows('epoch-1-rewards.json', []);
  // the recorded contributions say nobody worked; the samples say w1 did: the audit must disagree
  const contributions = await artifacts.putRows('epoch-1-contributions.json', []);
  const events: PoolEvent[] = [
    bound('w1', 1),
    { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } },
    sample('w1', 1_000, 100), sample('w1', 3_000, 600),
    closing(1, 20_000),
    { type: 'ContributionsFrozen', version: 1, id: '1:frozen', data: { epochId: 1, cutSequence: 5, durationSeconds: 20, participants: 0, revenueNanoton: '0', carryInNanoton: '0', contributions } },
    {
      type: 'RewardsComputed', version: 1, id: '1:computed',
      data: {
        epochId: 1, formulaVersion: 1, params: { operatorFeeBps: 500 }, revenueNanoton: '0', carryInNanoton: '0', operatorFeeNanoton: '0',
        rewardsNanoton: '0', slashedNanoton: '0', carryOutNanoton: '0', eligible: 0, leafCount: 0, merkleRoot: '00'.repeat(32), rewards,
      },
    },
    { type: 'EpochOpened', version: 1, id: '2:opened', data: { epochId: 2, startedAtMs: 20_000, endsAtMs: 40_000 } },
  ];
  await nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));
});
test.after(async () => {
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('without pool data (no NATS_URL, no <data-dir>/nats): one line, exit 1, nothing created', async () => {
  const r = await audit(['--epoch', '1', '--data-dir', missingDir]);
  assert.is(r.code, 1);
  assert.equal(r.stderr, [`pool: no pool data in ${missingDir}: ${join(missingDir, 'nats')} does not exist (pass the --data-dir of a pool that ran, or set NATS_URL to its broker)`]);
  assert.is(r.stdout, '');
  assert.not.ok(existsSync(missingDir), 'the data directory was created');
});

test('no such epoch (exit 1) is told from not settled yet (exit 3)', async () => {
  const db = await createTestDatabase();
  try {
    const env = { NATS_URL: nats.server.url };
    const none = await audit(['--epoch', '9', '--data-dir', missingDir, '--database-url', db.url], env);
    assert.is(none.code, 1);
    assert.is(none.stderr.at(-1), 'pool: no such epoch: 9 was never opened (the stream has epochs 1..2)');
    const open = await audit(['--epoch', '2', '--data-dir', missingDir, '--database-url', db.url], env);
    assert.is(open.code, 3, open.stderr.join('\n'));
    assert.is(open.stderr.at(-1), 'pool: epoch 2 is not settled yet: it is open, its rewards are not computed (audit it once it has closed and the saga computed it)');
    assert.ok(open.stderr.some((l) => /^audit: replaying \d+ events into scratch read models/.test(l)), open.stderr.join('\n'));
    assert.not.ok(existsSync(missingDir), 'the data directory was created');
  } finally {
    await db.drop();
  }
});

test('a recomputation that disagrees: the JSON report on stdout, progress then the verdict on stderr, exit 2', async () => {
  const db = await createTestDatabase();
  try {
    const r = await audit(['--epoch', '1', '--data-dir', missingDir, '--database-url', db.url], { NATS_URL: nats.server.url });
    assert.is(r.code, 2, r.stderr.join('\n'));
    const report = JSON.parse(r.stdout) as AuditReport;
    assert.is(report.ok, false);
    assert.is(report.settled, false);
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    assert.ok(failed.includes('contributions (rows, JSON)'), failed.join(', '));
    assert.match(r.stderr[0]!, /^audit: opening the event stream \(nats:\/\/127\.0\.0\.1:\d+\)$/);
    assert.ok(r.stderr.includes('audit: replayed 8 events; recomputing epoch 1'), r.stderr.join('\n'));
    assert.is(r.stderr.at(-1), auditVerdict(report));
    assert.match(r.stderr.at(-1)!, new RegExp(`^audit of epoch 1: MISMATCH, ${failed.length} of ${report.checks.length} checks differ: contributions \\(rows, JSON\\)`));
    assert.not.ok(existsSync(missingDir));
  } finally {
    await db.drop();
  }
});

test('the verdict of a report whose checks all match names the root and the settlement', () => {
  const report: AuditReport = {
    epochId: 4, eventsReplayed: 100, settled: true, ok: true,
    checks: [
      { name: 'leaf count', recorded: '2', recomputed: '2', ok: true },
      { name: 'Merkle root (RewardsComputed)', recorded: 'ab'.repeat(32), recomputed: 'ab'.repeat(32), ok: true },
    ],
  };
  assert.is(auditVerdict(report), 'audit of epoch 4: OK, all 2 checks match (root abababababab…, settled)');
  assert.is(auditVerdict({ ...report, settled: false }), 'audit of epoch 4: OK, all 2 checks match (root abababababab…, not settled yet: payouts under way)');
});

test('pool --version prints the package version', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/pool.ts', '--version'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((r) => child.once('close', r));
  assert.is(code, 0);
  assert.is(out, `${(await import('../../package.json', { with: { type: 'json' } })).default.version}\n`);
});

test.run();
