/**
 * Worker-stats read model (issue 8): per worker and UTC minute, what the contributions projection
 * (projectors/contributions.ts) credits it — the same domain functions on the same events, so the
 * same amounts — bucketed by the time the work was observed instead of by epoch:
 *
 * - WorkerStatsSampled: the adjusted tokens of its delta (domain/contribution.ts `sampleDelta`:
 *   restart-aware, a first sample is the baseline, an anomaly credits none) and one successful poll
 *   go to the minute of `observedAtMs`; its credited uptime (the gap since the previous successful
 *   poll, capped) is the interval that ends at `observedAtMs`, split over the minutes it covers
 *   (integer milliseconds, so a minute never holds more than 60 000 ms and the sum is exact).
 * - WorkerPollFailed: one failed poll in the minute of `observedAtMs`.
 * - TaskCompleted: one task (and one success) in the minute of `loggedAtMs` (the worker's log line;
 *   `observedAtMs`, when the tailer read it, when the line had no time); each Cocoon request id
 *   counted once ever.
 * - WorkerBound: who the worker works for. As in contributions, an unbound worker is credited
 *   nothing (its samples still set its baseline).
 *
 * Hence for one worker, the minutes of an epoch's time range sum to its contributions rows of that
 * epoch, as long as the observation times agree with the epoch cut (tests/projectors/worker-stats.test.ts).
 * The state it keeps between batches (last observation per worker, counted request ids) is its
 * own (worker_stats_counters, worker_stats_tasks): projections write disjoint tables.
 */
import { afterFailure, afterSample, sampleDelta, type CounterState } from '../domain/contribution.ts';
import { DEFAULT_TELEMETRY_LIMITS, EMPTY_TELEMETRY, telemetrySample, type TelemetryLimits } from '../domain/telemetry.ts';
import type { WorkerStatsMinutesTable } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { addRows, insertNew, upsertRows } from './rows.ts';

export const WORKER_STATS_PROJECTION = 'worker-stats';

/** Length of the stored buckets, milliseconds (one UTC minute). */
export const MINUTE_MS = 60_000;

export interface WorkerStatsOptions {
  /** Cap on uptime credited between two successful polls, milliseconds (as for contributions: 3 × poll interval). */
  maxCreditMs: number;
  /** what a sample may claim (domain/telemetry.ts; default DEFAULT_TELEMETRY_LIMITS); an anomaly credits no tokens */
  telemetry?: TelemetryLimits;
}

interface Counter {
  participant: string | null;
  state: CounterState | null;
  dirty: boolean;
}

/** A minute row being accumulated in memory (tokens as a number until written). */
type Increment = Omit<WorkerStatsMinutesTable, 'adjusted_tokens'> & { adjusted_tokens: number };

/** Start of the UTC minute holding `atMs` (unix ms). */
export function minuteOf(atMs: number): number {
  return Math.floor(atMs / MINUTE_MS) * MINUTE_MS;
}

/**
 * The interval [`endMs` − `lengthMs`, `endMs`) split over the UTC minutes it covers: [minute
 * start, milliseconds inside it], in order; the parts are whole milliseconds summing to `lengthMs`.
 */
export function splitByMinute(endMs: number, lengthMs: number): [number, number][] {
  const parts: [number, number][] = [];
  let to = Math.round(endMs);
  let left = Math.round(lengthMs);
  while (left > 0) {
    const minute = minuteOf(to - 1);
    const part = Math.min(left, to - minute);
    parts.unshift([minute, part]);
    left -= part;
    to -= part;
  }
  return parts;
}

/**
 * Creates the worker-stats projection (table worker_stats_minutes, migration 0011); its
 * dead-letter source is `projection-worker-stats`.
 */
export function workerStatsProjection(options: WorkerStatsOptions): Projection {
  return {
    name: WORKER_STATS_PROJECTION,
    canHandle: ['WorkerBound', 'WorkerStatsSampled', 'WorkerPollFailed', 'TaskCompleted'],
    tables: ['worker_stats_minutes', 'worker_stats_counters', 'worker_stats_tasks'],
    handle: (events, ctx) => apply(events, ctx, options),
  };
}

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext, options: WorkerStatsOptions): Promise<void> {
  const limits = options.telemetry ?? DEFAULT_TELEMETRY_LIMITS;
  const workerIds = [...new Set(events.flatMap((e) => ('workerId' in e.data ? [e.data.workerId as string] : [])))];
  const counters = new Map<string, Counter>();
  if (workerIds.length) {
    const rows = await db.selectFrom('worker_stats_counters').selectAll().where('worker_id', 'in', workerIds).execute();
    for (const r of rows) {
      counters.set(r.worker_id, {
        participant: r.participant,
        state: r.observed_at_ms === null ? null : { observedAtMs: Number(r.observed_at_ms), online: r.online, telemetry: r.telemetry ?? EMPTY_TELEMETRY },
        dirty: false,
      });
    }
  }
  const counter = (id: string): Counter => {
    let c = counters.get(id);
    if (!c) counters.set(id, (c = { participant: null, state: null, dirty: true }));
    return c;
  };

  // claim every request id of the batch in one statement: those that come back are new and count once
  const requestIds = [...new Set(events.flatMap((e) => (e.type === 'TaskCompleted' ? [e.data.requestId] : [])))];
  const fresh = await insertNew(db, 'worker_stats_tasks', 'request_id', requestIds.map((request_id) => ({ request_id })));

  const increments = new Map<string, Increment>();
  const inc = (workerId: string, atMs: number): Increment => {
    const bucket = minuteOf(atMs);
    const key = `${workerId}|${bucket}`;
    let row = increments.get(key);
    if (!row) {
      row = { worker_id: workerId, bucket_start_ms: bucket, adjusted_tokens: 0, tasks: 0, tasks_succeeded: 0, uptime_ms: 0, polls_ok: 0, polls_failed: 0 };
      increments.set(key, row);
    }
    return row;
  };

  for (const e of events) {
    switch (e.type) {
      case 'WorkerBound': {
        const c = counter(e.data.workerId);
        c.participant = e.data.participant;
        c.dirty = true;
        break;
      }
      case 'WorkerStatsSampled': {
        const c = counter(e.data.workerId);
        const sample = telemetrySample(e.data);
        const delta = sampleDelta(c.state, sample, options.maxCreditMs, limits);
        if (!delta) break; // duplicate or older sample
        c.state = afterSample(sample, delta);
        c.dirty = true;
        if (!c.participant) break; // unbound worker: nobody is credited (as in contributions)
        const row = inc(e.data.workerId, sample.observedAtMs);
        row.adjusted_tokens += delta.adjustedTokens;
        row.polls_ok += 1;
        for (const [minute, ms] of splitByMinute(sample.observedAtMs, delta.uptimeMs)) inc(e.data.workerId, minute).uptime_ms += ms;
        break;
      }
      case 'WorkerPollFailed': {
        const c = counter(e.data.workerId);
        const next = afterFailure(c.state, e.data.observedAtMs);
        if (next === c.state && c.state) break; // older than what we know
        c.state = next;
        c.dirty = true;
        if (c.participant) inc(e.data.workerId, e.data.observedAtMs).polls_failed += 1;
        break;
      }
      case 'TaskCompleted': {
        if (!fresh.delete(e.data.requestId)) break; // a line read twice counts once
        if (!counter(e.data.workerId).participant) break;
        const row = inc(e.data.workerId, e.data.loggedAtMs ?? e.data.observedAtMs);
        row.tasks += 1;
        row.tasks_succeeded += e.data.success ? 1 : 0;
        break;
      }
    }
  }

  if (increments.size) {
    const rows = [...increments.values()].map((r) => ({ ...r, adjusted_tokens: String(r.adjusted_tokens) }));
    await addRows(db, 'worker_stats_minutes', ['worker_id', 'bucket_start_ms'], ['adjusted_tokens', 'tasks', 'tasks_succeeded', 'uptime_ms', 'polls_ok', 'polls_failed'], rows);
  }
  const dirty = [...counters.entries()].filter(([, c]) => c.dirty);
  if (dirty.length) {
    await upsertRows(
      db,
      'worker_stats_counters',
      'worker_id',
      dirty.map(([worker_id, c]) => ({
        worker_id,
        participant: c.participant,
        observed_at_ms: c.state?.observedAtMs ?? null,
        telemetry: c.state ? c.state.telemetry : null,
        online: c.state?.online ?? false,
      })),
    );
  }
}
