/**
 * `pool start` as an operator sees it: the human summary on stderr names where each part is and
 * the URLs, and they answer: /metrics of the running pool serves the per-worker series and the
 * pool's counters, /api/v1/alerts takes the operator token from the environment; an emulator
 * process killed with SIGKILL is started again on the same port and its workers are polled again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnPool } from '../support/pool.ts';
import { until } from '../support/until.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-start-summary-'));
const TOKEN = 'summary-test-operator-token';
test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test('the start-up summary on stderr, and the running pool\'s /metrics and alerts behind it', async () => {
  const run = spawnPool('node', ['--workers', '2', '--participants', '2', '--poll-seconds', '0.5'], dataDir, { POOL_OPERATOR_TOKEN: TOKEN });
  try {
    const started = JSON.parse(await run.waitFor(/"msg":"pool started"/));
    const summary = await until('the summary on stderr', () => (/^Stop with Ctrl-C/m.test(run.stderr()) ? run.stderr() : null), 30_000, 250);
    const lines = summary.split('\n');
    const line = (label: string) => lines.find((l) => l.startsWith(`  ${label}`))?.slice(14);
    assert.is(lines.find((l) => l.startsWith('Cocoon pool started')), `Cocoon pool started — data in ${dataDir}`);
    assert.is(line('NATS'), `${started.nats} (${started.natsServer})`);
    assert.is(line('PostgreSQL'), started.database);
    assert.match(line('Chain')!, /^local @ton\/sandbox/);
    assert.match(line('Workers')!, /^2 emulated: /);
    assert.is(line('API'), `${started.api}/api/v1`);
    assert.is(line('Dashboard'), `${started.api}/`);
    assert.is(line('Metrics'), `${started.api}/metrics`);
    assert.is(line('Alerts'), `${started.api}/api/v1/alerts (operator token POOL_OPERATOR_TOKEN: set)`);

    // the metrics URL serves the seeds' per-worker series once the workers are polled, and the pool's counters
    const metrics = await until('both workers up on /metrics', async () => {
      const text = await (await fetch(line('Metrics')!)).text();
      return (text.match(/^cocoon_worker_status\{worker_id="[^"]+",instance="http:\/\/[^"]+"\} 1$/gm) ?? []).length === 2 ? text : null;
    }, 60_000, 250);
    const polls = Number(/^pool_polls_total\{result="ok"\} (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(polls >= 2, `pool_polls_total ok ${polls}`);
    assert.match(metrics, /^pool_events_appended_total\{type="WorkerStatsSampled"\} \d+$/m);
    assert.match(metrics, /^cocoon_inference_requests_total\{worker_id="[^"]+"\} \d+$/m);
    // the alert dispatcher follows the stream on the read API's connection: it has not failed once
    assert.not.match(metrics, /^pool_component_restarts_total\{component="alerts"\}/m);
    assert.match(started.msg, 'pool started');
    // one instance runs every role: it holds each single-writer lease (streams/lease.ts)
    for (const lease of ['producers', 'projections', 'epoch-saga', 'heartbeat-saga', 'alerts']) {
      assert.match(metrics, new RegExp(`^pool_lease_active\\{lease="${lease}"\\} 1$`, 'm'), `lease ${lease}`);
    }

    // the alerts URL answers the operator token of the environment, and no other
    const alerts = `${started.api}/api/v1/alerts`;
    assert.is((await fetch(alerts, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const created = await fetch(alerts, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'ops', events: ['WorkerWentOffline'], url: 'http://127.0.0.1:9/hook' }) });
    assert.is(created.status, 201);

    // the emulator process killed: started again on the same port, its workers answer the poller again
    const first = JSON.parse(await run.waitFor(/"emulatorPid":/)) as { emulatorPid: number; workerServer: string };
    process.kill(first.emulatorPid, 'SIGKILL');
    const again = JSON.parse(await run.waitFor(/"msg":"emulator process started again"/, 60_000)) as { emulatorPid: number; workerServer: string };
    assert.is.not(again.emulatorPid, first.emulatorPid);
    assert.is(again.workerServer, first.workerServer, 'the same port: the workers keep their URLs');
    const okPolls = async () => Number(/^pool_polls_total\{result="ok"\} (\d+)$/m.exec(await (await fetch(line('Metrics')!)).text())?.[1]);
    const afterRestart = await okPolls();
    await until('polls succeed again after the restart', async () => (await okPolls()) >= afterRestart + 2, 60_000, 250);
    assert.match(await (await fetch(line('Metrics')!)).text(), /^pool_component_restarts_total\{component="emulator"\} 1$/m);
  } finally {
    run.child.kill('SIGINT');
    await run.exited;
  }
});

test('--role refuses what an instance beside others cannot share: its own broker, database and in-process chain', async () => {
  const run = spawnPool('node', ['--role', 'sagas'], dataDir);
  assert.is.not(await run.exited, 0);
  const said = run.stderr();
  assert.match(said, /--role sagas runs part of a pool beside other instances/);
  for (const what of ['NATS_URL', 'DATABASE_URL', '--chain local lives inside one process', 'configured workers']) assert.ok(said.includes(what), `${what} in ${said}`);
  const bad = spawnPool('node', ['--role', 'sagas,payouts'], dataDir);
  assert.is.not(await bad.exited, 0);
  assert.match(bad.stderr(), /"payouts" is not a role: use all, or a comma-separated list of producers, projections, sagas, api/);
});

test.run();
