/**
 * Prometheus metrics (prom-client) for `GET /metrics`, read from the read models at scrape time:
 * projection positions and lag behind the stream, workers by status, epochs by status, the latest
 * settled epoch's money, failed chain transactions (from the event stream), plus Node's process
 * metrics.
 */
import type { Kysely } from 'kysely';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/schema.ts';
import type { EventType, RecordedOf } from '../schemas/catalog.ts';
import type { EventStore } from '../streams/eventStore.ts';

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
  return registry;
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
