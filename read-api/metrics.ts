/**
 * Prometheus metrics (prom-client) for `GET /metrics`.
 *
 * Read from the read models at scrape time ({@link poolMetrics}): projection positions and lag
 * behind the stream, workers by status, epochs by status and how long settled ones took to close,
 * the latest settled epoch's money, failed chain transactions (from the event stream), Node's
 * process metrics, and per worker under the names of the Cocoon monitoring seeds
 * (`cocoon_worker_status`, `cocoon_inference_requests_total`, `cocoon_revenue_ton`,
 * `cocoon_worker_errors_total`). `cocoon_gpu_utilization` is not exported: a worker's `/jsonstats`
 * (producers/cocoon/jsonstats.ts) carries no GPU figure.
 *
 * Counted in the process as events are appended ({@link poolActivityMetrics} and
 * {@link countAppends}): appends by type, polls, tasks, payout batches sent and confirmed, and
 * `cocoon_inference_latency_seconds` (a summary of the task durations read from the workers' logs).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/schema.ts';
import type { EventType, PoolEvent, RecordedOf } from '../schemas/catalog.ts';
import type { AppendResult, EventStore } from '../streams/eventStore.ts';

/**
 * A registry whose gauges query `db` (and `streamSequence`, the event stream's last sequence) when
 * scraped. With `events`, `pool_chain_transactions_failed_total{contract,exit_code}` counts the
 * stream's ChainTransactionFailed events (the aborted transactions of the pool's contracts) and
 * `pool_contribution_divergences_total` its ContributionDivergenceDetected events
 * ({@link streamCounter}).
 */
export function poolMetrics(db: Kysely<Database>, streamSequence: () => Promise<number>, events?: Pick<EventStore, 'read'>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pool_process_' });

  if (events) {
    streamCounter(registry, events, {
      name: 'pool_chain_transactions_failed_total',
      help: 'Aborted transactions of the pool contracts (ChainTransactionFailed events), by contract and exit code',
      labelNames: ['contract', 'exit_code'],
      type: 'ChainTransactionFailed',
      labels: (e) => ({ contract: e.subject.split('.').pop()!, exit_code: String(e.data.exitCode) }),
    });
    streamCounter(registry, events, {
      name: 'pool_contribution_divergences_total',
      help: 'Members whose claimed tokens diverged from what the network paid them beyond the tolerance (ContributionDivergenceDetected events, reward formula v2)',
      labelNames: [],
      type: 'ContributionDivergenceDetected',
      labels: () => ({}),
    });
  }

  new Gauge({
    name: 'pool_projection_position',
    help: 'Stream sequence up to which each projection has committed its rows',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await db.selectFrom('projection_checkpoints').select(['name', 'position']).execute()) this.set({ projection: p.name }, p.position);
    },
  });
  new Gauge({
    name: 'pool_projection_lag_events',
    help: 'Stream sequences not yet applied by each projection (an upper bound: some are other projections\' events)',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      this.reset();
      const last = await streamSequence();
      for (const p of await db.selectFrom('projection_checkpoints').select(['name', 'position']).execute()) this.set({ projection: p.name }, last - p.position);
    },
  });
  new Gauge({
    name: 'pool_workers',
    help: 'Workers by status (online, offline, unknown) and health',
    labelNames: ['status', 'healthy'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await db.selectFrom('workers').select(['status', 'healthy']).execute()) this.inc({ status: w.status, healthy: String(w.healthy) });
    },
  });
  new Gauge({
    name: 'pool_epochs',
    help: 'Epochs by status (open, closing, computed, committed, paying, settled; halted: EpochHalted, an operator must act)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const e of await db.selectFrom('epochs').select('status').execute()) this.inc({ status: e.status });
    },
  });
  new Gauge({
    name: 'pool_last_settled_epoch_nanoton',
    help: 'Money of the latest settled epoch, nanoTON (revenue, operator fee, rewards, paid)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const e = await db.selectFrom('epochs').selectAll().where('status', '=', 'settled').orderBy('epoch_id', 'desc').limit(1).executeTakeFirst();
      if (!e) return;
      this.set({ kind: 'revenue' }, Number(e.revenue_nanoton));
      this.set({ kind: 'operator_fee' }, Number(e.operator_fee_nanoton ?? 0));
      this.set({ kind: 'rewards' }, Number(e.rewards_nanoton ?? 0));
      this.set({ kind: 'paid' }, Number(e.paid_nanoton));
    },
  });
  new Histogram({
    name: 'pool_epoch_close_duration_seconds',
    help: 'Seconds from an epoch\'s close (EpochClosing) to its settlement (EpochSettled), over every settled epoch',
    buckets: EPOCH_CLOSE_BUCKETS,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.selectFrom('epochs').select(['closed_at_ms', 'settled_at_ms']).where('status', '=', 'settled').execute();
      for (const e of rows) if (e.closed_at_ms !== null && e.settled_at_ms !== null) this.observe(Math.max(0, e.settled_at_ms - e.closed_at_ms) / 1000);
    },
  });
  new Gauge({
    name: 'pool_epoch_unsettled_seconds',
    help: 'Seconds since the oldest epoch that closed but is not settled yet closed (0 when every closed epoch is settled; a halted epoch counts)',
    registers: [registry],
    async collect() {
      const oldest = await db
        .selectFrom('epochs')
        .select((eb) => eb.fn.min('closed_at_ms').as('closed_at_ms'))
        .where('status', 'in', ['closing', 'computed', 'committed', 'paying', 'halted'])
        .executeTakeFirst();
      const closedAt = oldest?.closed_at_ms === null || oldest?.closed_at_ms === undefined ? null : Number(oldest.closed_at_ms);
      this.set(closedAt === null ? 0 : Math.max(0, Date.now() - closedAt) / 1000);
    },
  });
  workerMetrics(registry, db);
  return registry;
}

/** `pool_component_restarts_total{component}`, unregistered: restarts of each supervised component (cli/start.ts supervise). */
export function componentRestartsCounter(): Counter<'component'> {
  return new Counter({ name: 'pool_component_restarts_total', help: 'Restarts of each supervised component after a failure', labelNames: ['component'], registers: [] });
}

/** Buckets of `pool_epoch_close_duration_seconds`: 10 s to 6 h. */
const EPOCH_CLOSE_BUCKETS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

/**
 * Per-worker gauges and counters under the Cocoon monitoring names, from the `workers`,
 * `contributions` and `rewards` read models at scrape time:
 * - `cocoon_worker_status{worker_id, instance}`: 1 online (its last poll answered), 0 offline or
 *   not polled yet; `instance` is its endpoint;
 * - `cocoon_worker_healthy{worker_id}`: 1 healthy by the Cocoon rule, 0 not (absent before a sample);
 * - `cocoon_inference_requests_total{worker_id}`: `stats.queries[0]` of its last accepted
 *   `/jsonstats` sample (the worker's own count since its process started: it resets with it);
 * - `cocoon_worker_errors_total{worker_id, error_type}`: `failed_requests` (`stats.failed[0]`, same
 *   reset), `poll_failed` (polls that got no valid reply) and `telemetry_anomaly` (samples not credible);
 * - `cocoon_revenue_ton{worker_id, participant_id}`: TON rewarded to its participant over every
 *   computed epoch, attributed to the participant's workers by their adjusted tokens in that epoch
 *   (evenly when none has tokens).
 */
function workerMetrics(registry: Registry, db: Kysely<Database>): void {
  // one read of the workers table serves the four metrics of one scrape (they collect together)
  const read = () => db.selectFrom('workers').select(['worker_id', 'endpoint', 'status', 'healthy', 'last_totals', 'polls_failed', 'anomalies']).execute();
  let last: { atMs: number; rows: ReturnType<typeof read> } | null = null;
  const workers = () => {
    if (!last || Date.now() - last.atMs > 1000) {
      const rows = read();
      rows.catch(() => (last = null)); // a failed read fails this scrape only
      last = { atMs: Date.now(), rows };
    }
    return last.rows;
  };
  new Gauge({
    name: 'cocoon_worker_status',
    help: 'Worker up (1: its last /jsonstats poll answered) or down (0: offline, or not polled yet)',
    labelNames: ['worker_id', 'instance'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await workers()) this.set({ worker_id: w.worker_id, instance: w.endpoint ?? '' }, w.status === 'online' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cocoon_worker_healthy',
    help: 'Worker healthy by the Cocoon rule (1) or not (0: TON state stale, image or model not in the root contract, wallet low); absent before its first sample',
    labelNames: ['worker_id'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await workers()) if (w.healthy !== null) this.set({ worker_id: w.worker_id }, w.healthy ? 1 : 0);
    },
  });
  new Counter({
    name: 'cocoon_inference_requests_total',
    help: 'Inference requests the worker served since its process started (stats.queries[0] of its last accepted /jsonstats sample)',
    labelNames: ['worker_id'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await workers()) if (w.last_totals) this.inc({ worker_id: w.worker_id }, w.last_totals.queries ?? 0);
    },
  });
  new Counter({
    name: 'cocoon_worker_errors_total',
    help: 'Worker errors by type: failed_requests (stats.failed[0] since its process started), poll_failed (polls without a valid reply), telemetry_anomaly (samples not credible)',
    labelNames: ['worker_id', 'error_type'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await workers()) {
        if (w.last_totals) this.inc({ worker_id: w.worker_id, error_type: 'failed_requests' }, w.last_totals.failed ?? 0);
        this.inc({ worker_id: w.worker_id, error_type: 'poll_failed' }, w.polls_failed);
        this.inc({ worker_id: w.worker_id, error_type: 'telemetry_anomaly' }, w.anomalies);
      }
    },
  });
  new Gauge({
    name: 'cocoon_revenue_ton',
    help: "TON rewarded to the worker's participant over every computed epoch, attributed to the participant's workers by adjusted tokens",
    labelNames: ['worker_id', 'participant_id'],
    registers: [registry],
    async collect() {
      this.reset();
      const { rows } = await sql<{ worker_id: string; participant: string; nanoton: string }>`
        select c.worker_id, c.participant,
               sum(r.amount_nanoton * case when t.tokens > 0 then c.adjusted_tokens / t.tokens else 1.0 / t.workers end) as nanoton
        from contributions c
        join (select epoch_id, participant, sum(amount_nanoton) as amount_nanoton from rewards group by epoch_id, participant) r
          on r.epoch_id = c.epoch_id and r.participant = c.participant
        join (select epoch_id, participant, sum(adjusted_tokens) as tokens, count(*) as workers from contributions group by epoch_id, participant) t
          on t.epoch_id = c.epoch_id and t.participant = c.participant
        group by c.worker_id, c.participant`.execute(db);
      for (const r of rows) this.set({ worker_id: r.worker_id, participant_id: r.participant }, Number(r.nanoton) / 1e9);
    },
  });
}

/**
 * What this process appends, counted as it happens (prom-client metrics, unregistered: the caller
 * registers {@link PoolActivityMetrics.all} on its registry and wraps its stores with {@link countAppends}).
 */
export interface PoolActivityMetrics {
  /** `pool_events_appended_total{type}`: events stored (a duplicate of a stored id is not counted) */
  appended: Counter<'type'>;
  /** `pool_event_append_failures_total{type}`: appends that threw (broker unreachable, OCC conflict, invalid event) */
  appendFailures: Counter<'type'>;
  /** `pool_event_append_duration_seconds`: time of one append (or one appendMany batch), seconds */
  appendSeconds: Histogram;
  /** `pool_polls_total{result}`: /jsonstats polls recorded, result `ok` or the miss kind (connect, timeout, http, parse) */
  polls: Counter<'result'>;
  /** `pool_poll_duration_seconds`: time of one answered poll (WorkerStatsSampled.pollMs), seconds */
  pollSeconds: Histogram;
  /** `pool_tasks_total{result}`: TaskCompleted read from the logs, `success` or `failed` */
  tasks: Counter<'result'>;
  /** `cocoon_inference_latency_seconds{worker_id, quantile}`: task durations (TaskCompleted.seconds), last 10 minutes */
  latency: Summary<'worker_id'>;
  /** `pool_payout_batches_sent_total`: payout batch attempts recorded before sending (PayoutBatchSubmitted) */
  payoutBatchesSent: Counter;
  /** `pool_payout_batches_confirmed_total`: batches seen paid on chain (PayoutBatchConfirmed) */
  payoutBatchesConfirmed: Counter;
  /** `pool_epochs_settled_total`: EpochSettled appended */
  epochsSettled: Counter;
  all: (Counter<string> | Histogram | Summary<string>)[];
}

/** Creates the {@link PoolActivityMetrics} (one set per process). */
export function poolActivityMetrics(): PoolActivityMetrics {
  const m = {
    appended: new Counter({ name: 'pool_events_appended_total', help: 'Events this process appended to the event stream, by type (duplicates of a stored id not counted)', labelNames: ['type'], registers: [] }),
    appendFailures: new Counter({ name: 'pool_event_append_failures_total', help: 'Appends to the event stream that failed, by event type', labelNames: ['type'], registers: [] }),
    appendSeconds: new Histogram({ name: 'pool_event_append_duration_seconds', help: 'Seconds one append (or one pipelined batch of appends) to the event stream took, until JetStream acknowledged it', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [] }),
    polls: new Counter({ name: 'pool_polls_total', help: '/jsonstats polls recorded: ok, or the kind of miss (connect, timeout, http, parse)', labelNames: ['result'], registers: [] }),
    pollSeconds: new Histogram({ name: 'pool_poll_duration_seconds', help: 'Seconds an answered /jsonstats poll took', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [] }),
    tasks: new Counter({ name: 'pool_tasks_total', help: 'Task completions read from the workers\' logs: success or failed', labelNames: ['result'], registers: [] }),
    latency: new Summary({
      name: 'cocoon_inference_latency_seconds',
      help: 'Inference task durations read from the worker\'s log (TaskCompleted.seconds) over the last 10 minutes',
      labelNames: ['worker_id'],
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers: [],
    }),
    payoutBatchesSent: new Counter({ name: 'pool_payout_batches_sent_total', help: 'Payout batch attempts recorded before their message is sent (PayoutBatchSubmitted)', registers: [] }),
    payoutBatchesConfirmed: new Counter({ name: 'pool_payout_batches_confirmed_total', help: 'Payout batches seen paid on chain (PayoutBatchConfirmed)', registers: [] }),
    epochsSettled: new Counter({ name: 'pool_epochs_settled_total', help: 'Epochs settled (EpochSettled) by this process', registers: [] }),
  };
  return { ...m, all: Object.values(m) };
}

/** Counts one stored (non-duplicate) event in `m`. Pure bookkeeping, no I/O. */
function countStored(m: PoolActivityMetrics, event: PoolEvent): void {
  m.appended.inc({ type: event.type });
  switch (event.type) {
    case 'WorkerStatsSampled':
      m.polls.inc({ result: 'ok' });
      m.pollSeconds.observe(event.data.pollMs / 1000);
      break;
    case 'WorkerPollFailed':
      m.polls.inc({ result: event.data.kind });
      break;
    case 'TaskCompleted':
      m.tasks.inc({ result: event.data.success ? 'success' : 'failed' });
      m.latency.observe({ worker_id: event.data.workerId }, event.data.seconds);
      break;
    case 'PayoutBatchSubmitted':
      m.payoutBatchesSent.inc();
      break;
    case 'PayoutBatchConfirmed':
      m.payoutBatchesConfirmed.inc();
      break;
    case 'EpochSettled':
      m.epochsSettled.inc();
      break;
  }
}

/**
 * `store` with its appends counted in `m` (every other method passed through): an event counts
 * once it is stored, not when JetStream reports it a duplicate; a failed append counts in
 * `appendFailures` and rethrows.
 */
export function countAppends(store: EventStore, m: PoolActivityMetrics): EventStore {
  const record = (event: PoolEvent, result: AppendResult) => {
    if (!result.duplicate) countStored(m, event);
  };
  return {
    async append(subject, event, options) {
      const end = m.appendSeconds.startTimer();
      try {
        const result = await store.append(subject, event, options);
        record(event, result);
        return result;
      } catch (err) {
        m.appendFailures.inc({ type: event.type });
        throw err;
      } finally {
        end();
      }
    },
    async appendMany(items) {
      const end = m.appendSeconds.startTimer();
      try {
        const results = await store.appendMany(items);
        results.forEach((r, i) => record(items[i]!.event, r));
        return results;
      } catch (err) {
        for (const { event } of items) m.appendFailures.inc({ type: event.type });
        throw err;
      } finally {
        end();
      }
    },
    read: (o) => store.read(o),
    subscribe: (o) => store.subscribe(o),
    readSubject: (s, o) => store.readSubject(s, o),
    lastOnSubject: (s, o) => store.lastOnSubject(s, o),
    lastSequence: () => store.lastSequence(),
  };
}

/**
 * A counter of the stream's events of one type: each scrape reads only the events after the last
 * one counted (one reader at a time), so the total covers the whole stream and survives restarts.
 */
function streamCounter<T extends EventType>(
  registry: Registry,
  events: Pick<EventStore, 'read'>,
  spec: { name: string; help: string; labelNames: string[]; type: T; labels: (e: RecordedOf<T>) => Record<string, string> },
): void {
  let counted = 0; // last stream sequence read
  let scraping: Promise<void> = Promise.resolve();
  new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      // one reader at a time: two concurrent scrapes must not count the same events twice
      const run = scraping.then(async () => {
        for await (const batch of events.read({
          fromSequence: counted + 1,
          types: [spec.type],
          // an undecodable message is the projections' to quarantine; here it is only not counted
          onInvalid: async () => {},
        })) {
          for (const e of batch.events) if (e.type === spec.type) this.inc(spec.labels(e as RecordedOf<T>));
          counted = batch.lastSequence;
        }
      });
      scraping = run.catch(() => {}); // a failed read (broker down) fails this scrape only; the next resumes from `counted`
      return run;
    },
  });
}
