/**
 * Worker status read model: binding, online/offline (a successful /jsonstats poll is the
 * heartbeat), Cocoon health, restarts, lifetime uptime and adjusted tokens, the last accepted raw
 * totals, and the samples that were not credible (domain/telemetry.ts): how many, whether the last
 * one was, and the last reason. Owner address and git_commit are those of the last accepted sample.
 */
import { sampleDelta, type CounterState } from '../domain/contribution.ts';
import { DEFAULT_TELEMETRY_LIMITS, EMPTY_TELEMETRY, telemetrySample, type TelemetryLimits } from '../domain/telemetry.ts';
import type { WorkersTable } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { upsertRows } from './rows.ts';

export const WORKERS_PROJECTION = 'workers';

export interface WorkersOptions {
  /** Cap on uptime credited between two successful polls, milliseconds. */
  maxCreditMs: number;
  /** what a sample may claim (domain/telemetry.ts; default DEFAULT_TELEMETRY_LIMITS) */
  telemetry?: TelemetryLimits;
}

/** Creates the workers projection. */
export function workersProjection(options: WorkersOptions): Projection {
  return {
    name: WORKERS_PROJECTION,
    canHandle: ['WorkerBound', 'WorkerStatsSampled', 'WorkerPollFailed'],
    tables: ['workers'],
    handle: (events, ctx) => apply(events, ctx, options),
  };
}

const blank = (worker_id: string): WorkersTable => ({
  worker_id,
  participant: null,
  endpoint: null,
  status: 'unknown',
  healthy: null,
  health_reasons: [],
  last_seen_at_ms: null,
  last_poll_at_ms: null,
  consecutive_failures: 0,
  polls_ok: 0,
  polls_failed: 0,
  uptime_ms: 0,
  restarts: 0,
  git_commit: null,
  model: null,
  owner_address: null,
  wallet_balance_nanoton: null,
  adjusted_tokens: '0',
  last_totals: null,
  telemetry: null,
  anomalies: 0,
  anomalous: false,
  last_anomaly: null,
});

function counterState(w: WorkersTable): CounterState | null {
  if (w.last_poll_at_ms === null) return null;
  return { observedAtMs: w.last_poll_at_ms, online: w.status === 'online', telemetry: w.telemetry ?? EMPTY_TELEMETRY };
}

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext, options: WorkersOptions): Promise<void> {
  const ids = [...new Set(events.map((e) => (e.data as { workerId: string }).workerId))];
  const rows = new Map<string, WorkersTable>();
  for (const r of await db.selectFrom('workers').selectAll().where('worker_id', 'in', ids).execute()) rows.set(r.worker_id, r);
  const row = (id: string) => {
    let r = rows.get(id);
    if (!r) rows.set(id, (r = blank(id)));
    return r;
  };

  for (const e of events) {
    switch (e.type) {
      case 'WorkerBound': {
        const w = row(e.data.workerId);
        w.participant = e.data.participant;
        w.endpoint = e.data.endpoint;
        break;
      }
      case 'WorkerStatsSampled': {
        const w = row(e.data.workerId);
        const d = e.data;
        const delta = sampleDelta(counterState(w), telemetrySample(d), options.maxCreditMs, options.telemetry ?? DEFAULT_TELEMETRY_LIMITS);
        if (!delta) break;
        w.status = 'online';
        w.healthy = d.health.healthy;
        w.health_reasons = d.health.reasons;
        w.last_seen_at_ms = d.observedAtMs;
        w.last_poll_at_ms = d.observedAtMs;
        w.consecutive_failures = 0;
        w.polls_ok += 1;
        w.uptime_ms += delta.uptimeMs;
        w.restarts += delta.restarted ? 1 : 0;
        w.adjusted_tokens = String(BigInt(w.adjusted_tokens) + BigInt(delta.adjustedTokens));
        w.model = d.model;
        w.wallet_balance_nanoton = d.health.walletBalanceNanoton;
        w.telemetry = delta.telemetry;
        w.anomalous = delta.verdict.kind === 'anomaly';
        if (delta.verdict.kind === 'anomaly') {
          w.anomalies += 1;
          w.last_anomaly = { atMs: d.observedAtMs, reason: delta.verdict.reason, detail: delta.verdict.detail };
          break;
        }
        w.git_commit = d.gitCommit;
        w.owner_address = delta.telemetry.ownerAddress;
        w.last_totals = d.totals;
        break;
      }
      case 'WorkerPollFailed': {
        const w = row(e.data.workerId);
        if (w.last_poll_at_ms !== null && e.data.observedAtMs <= w.last_poll_at_ms) break;
        w.status = 'offline';
        w.last_poll_at_ms = e.data.observedAtMs;
        w.consecutive_failures += 1;
        w.polls_failed += 1;
        break;
      }
    }
  }
  await upsertRows(
    db,
    'workers',
    'worker_id',
    [...rows.values()] as unknown as Record<string, unknown>[],
  );
}
