/**
 * infra/prometheus/alerts.yml and infra/grafana/cocoon-pool.json: the rules pass `promtool check
 * rules` and their unit tests (`promtool test rules`) where the machine has promtool, and every
 * metric the rules and the dashboard query is one the pool registers on /metrics (the same set
 * cli/start.ts registers).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { Metric } from 'prom-client';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openTonCenter } from '../../chain/toncenter/chain.ts';
import type { Database } from '../../db/schema.ts';
import { alertMetrics } from '../../alerts/dispatcher.ts';
import { chainIndexerMetrics } from '../../producers/chain/indexer.ts';
import { workerTokensMetrics } from '../../producers/chain/workerTokens.ts';
import { componentRestartsCounter, poolActivityMetrics, poolMetrics } from '../../read-api/metrics.ts';

const infra = resolve(import.meta.dirname, '../../infra');
const rulesFile = join(infra, 'prometheus', 'alerts.yml');
const dashboardFile = join(infra, 'grafana', 'cocoon-pool.json');
const PROMTOOL = '/usr/bin/promtool';

/** Names (with their histogram/summary series suffixes) of every metric a running pool serves. */
function servedSeriesNames(): Set<string> {
  // no scrape happens here, so no query reaches the (absent) database
  const registry = poolMetrics(null as unknown as Kysely<Database>, async () => 0, { read: () => { throw new Error('not scraped'); } });
  const extra: Metric[] = [
    componentRestartsCounter(),
    ...poolActivityMetrics().all,
    chainIndexerMetrics().continuityBreaks,
    ...Object.values(workerTokensMetrics()),
    ...Object.values(alertMetrics()),
    ...openTonCenter({ endpoint: 'http://127.0.0.1:9', logger: pino({ level: 'silent' }) }).metrics,
  ];
  for (const m of extra) registry.registerMetric(m);
  const names = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** The metric names a PromQL expression mentions (every metric of the pool starts with cocoon_ or pool_). */
const metricsIn = (expr: string) => [...expr.matchAll(/\b(?:cocoon|pool)_[a-z0-9_]+/g)].map((m) => m[0]);

const ruleExprs = () => [...readFileSync(rulesFile, 'utf8').matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1]!);

function dashboardExprs(): string[] {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] } };
  return [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : []))];
}

test('the rules cover worker offline, unhealthy, projection lag, epoch not settling and chain failures', () => {
  const alerts = [...readFileSync(rulesFile, 'utf8').matchAll(/^\s*- alert:\s*(\w+)/gm)].map((m) => m[1]);
  for (const a of ['CocoonWorkerOffline', 'CocoonWorkerUnhealthy', 'PoolProjectionLagging', 'PoolProjectionStalled', 'PoolEpochNotSettling', 'PoolEpochHalted', 'PoolChainTransactionsFailing']) {
    assert.ok(alerts.includes(a), `alert ${a} missing from alerts.yml`);
  }
});

test('every metric the rules and the dashboard query is served by the pool', () => {
  const served = servedSeriesNames();
  assert.ok(served.has('cocoon_worker_status') && served.has('cocoon_inference_latency_seconds_count'), 'the served set is read from the code');
  const exprs = [...ruleExprs(), ...dashboardExprs()];
  assert.ok(exprs.length > 20, `${exprs.length} expressions read`);
  const unknown = [...new Set(exprs.flatMap(metricsIn))].filter((n) => !served.has(n));
  assert.equal(unknown, [], `metrics queried but never registered: ${unknown.join(', ')}`);
  // and the dashboard shows every per-worker series of the seeds that the pool serves
  const dashboardMetrics = new Set(dashboardExprs().flatMap(metricsIn));
  for (const n of ['cocoon_worker_status', 'cocoon_inference_requests_total', 'cocoon_inference_latency_seconds', 'cocoon_revenue_ton', 'cocoon_worker_errors_total']) {
    assert.ok(dashboardMetrics.has(n), `the dashboard does not show ${n}`);
  }
});

test('promtool check rules and promtool test rules (where promtool is installed)', () => {
  if (!existsSync(PROMTOOL)) {
    console.log(`  (${PROMTOOL} not found: the rules are not checked by promtool on this machine)`);
    return;
  }
  const check = spawnSync(PROMTOOL, ['check', 'rules', rulesFile], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  const unit = spawnSync(PROMTOOL, ['test', 'rules', join(infra, 'prometheus', 'alerts.test.yml')], { encoding: 'utf8' });
  assert.is(unit.status, 0, unit.stdout + unit.stderr);
  assert.match(unit.stdout, 'SUCCESS');
});

test.run();
