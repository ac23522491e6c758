/**
 * Prometheus metrics (prom-client) for `GET /metrics`, read from the read models at scrape time:
 * projection positions and lag behind the stream, workers by status, epochs by status, the latest
 * settled epoch's money, plus Node's process metrics.
 */
import type { Kysely } from 'kysely';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/schema.ts';

/**
 * A registry whose gauges query `db` (and `streamSequence`, the event stream's last sequence) when
 * scraped.
 */
export function poolMetrics(db: Kysely<Database>, streamSequence: () => Promise<number>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pool_process_' });

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
