/**
 * The pool's own outages and restarts are nobody's fault, end to end with the real `pool start`
 * (nats-server, the embedded PostgreSQL server, the local TON chain, emulated workers that never fail): a plain start
 * (7-day epochs) is killed a few seconds into epoch 1 and stays down for most of it; restarted as
 * the README's bounded run with 60-second epochs, the schedule change is recorded and printed,
 * epoch 1 settles with every participant eligible and reputations rising, and `pool audit`
 * recomputes it identically from the stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uptimeCreditMs } from '../../projectors/all.ts';
import { lastJson, spawnAudit, spawnPool } from '../support/pool.ts';
import { until } from '../support/until.ts';
import { openPoolReadModels } from '../support/db.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-outage-'));
test.after(() => rmSync(dataDir, { recursive: true, force: true }));

const OUTAGE_MS = 30_000;

test('down for most of an epoch: every participant stays eligible, no reputation is lost, the audit agrees', async () => {
  const first = spawnPool('node', ['--no-faults'], dataDir);
  const api = JSON.parse(await first.waitFor(/"msg":"pool started"/, 300_000)).api as string;
  const opened = JSON.parse(await first.waitFor(/"msg":"epoch opened"/));
  assert.is(opened.epochId, 1);
  // six successful polls of every worker, then a crash
  await until('6 polls of every worker', async () => {
    const { workers } = (await (await fetch(`${api}/api/v1/workers`)).json()) as { workers: { pollsOk: number }[] };
    return workers.length === 8 && workers.every((w) => w.pollsOk >= 6) ? true : undefined;
  });
  first.child.kill('SIGKILL');
  await first.exited;
  const killedAt = Date.now();
  await until('the outage', async () => (Date.now() >= killedAt + OUTAGE_MS ? true : undefined));

  const second = spawnPool('node', ['--epoch-seconds', '60', '--epochs', '1', '--exit-when-settled', '--no-faults'], dataDir);
  assert.is(await second.exited, 0, second.lines.slice(-20).join('\n'));
  const [epoch] = lastJson(second.lines).epochs;
  assert.equal([epoch!.id, epoch!.status, epoch!.leafCount], [1, 'settled', 5]);
  assert.is(BigInt(epoch!.operatorFeeNanoton) + BigInt(epoch!.rewardsNanoton), BigInt(epoch!.revenueNanoton), 'nothing carried over');
  // the schedule change was printed at start, at warn, with both lengths
  const change = second.lines.map((l) => JSON.parse(l.startsWith('{') ? l : '{}')).find((l) => String(l.msg).startsWith('epoch length changed'));
  assert.ok(change, 'the schedule change was not printed');
  assert.equal([change.level, change.epochId, change.previousEpochSeconds, change.epochSeconds], [40, 1, 604_800, 60]);

  const db = await openPoolReadModels(dataDir);
  try {
    const e = (await db.query<{ started_at_ms: number; closed_at_ms: number; eligible: number; carry_out_nanoton: string }>(
      'select started_at_ms::float8 as started_at_ms, closed_at_ms::float8 as closed_at_ms, eligible, carry_out_nanoton from epochs where epoch_id = 1',
    )).rows[0]!;
    const observed = Number((await db.query<{ observed_ms: string }>('select observed_ms::text from epoch_observations where epoch_id = 1')).rows[0]!.observed_ms);
    const wallMs = e.closed_at_ms - e.started_at_ms;
    // the outage is not observed time: across it at most one heartbeat's promise is credited
    // (the default 2 s poll interval)
    const unobserved = OUTAGE_MS - uptimeCreditMs(2000);
    assert.ok(observed > 0 && observed <= wallMs - unobserved, `the pool's outage counted as observed: observed ${observed} of ${wallMs} ms`);
    assert.equal([e.eligible, e.carry_out_nanoton], [5, '0']);
    const reputation = (await db.query<{ participant: string; score_before: number; target: number; score_after: number }>(
      'select participant, score_before, target, score_after from reputation_history where epoch_id = 1',
    )).rows;
    const contributions = (await db.query('select worker_id, participant, uptime_ms::text, polls_ok, polls_failed, restarts from contributions where epoch_id = 1 order by worker_id')).rows;
    const detail = `observed ${observed} ms; ${JSON.stringify(contributions)}`;
    assert.is(reputation.length, 5, detail);
    for (const r of reputation) {
      // wall time as the denominator gave ~600 here (and no participant eligible); polls that time out on a
      // loaded test machine count against the emulated workers, so the bound leaves room below ~900
      assert.ok(r.target >= 700, `${r.participant}: reputation target ${r.target} after the pool's own outage; ${detail}`);
      assert.ok(r.score_after > r.score_before, `${r.participant}: reputation fell from ${r.score_before} to ${r.score_after}`);
    }
  } finally {
    await db.close();
  }

  const audit = spawnAudit(1, dataDir);
  assert.is(await audit.exited, 0, audit.lines.join('\n'));
  const report = JSON.parse(audit.lines.join('\n'));
  assert.ok(report.checks.some((c: { name: string; ok: boolean }) => c.name === 'observed ms' && c.ok));
  assert.is(report.ok, true);
});

test.run();
