/**
 * The participants' read API (Fastify, JSON), served from the PostgreSQL read models.
 * Amounts are decimal strings of nanoTON; addresses are accepted in any form (raw, EQ…/UQ…) and
 * returned raw (`0:<hex>`). Every route's params and query are validated (TypeBox schemas); a bad
 * request gets HTTP 400 with `{ error, message }`.
 *
 *   GET /healthz                               GET /metrics (Prometheus)
 *   GET /api/v1/workers                         GET /api/v1/workers/:id
 *   GET /api/v1/participants/:address
 *   GET /api/v1/epochs                          GET /api/v1/epochs/:id
 *   GET /api/v1/epochs/:id/proofs/:address      (Merkle proof for the participant's leaf)
 *   GET /api/v1/payouts?address=&epoch=
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import Type from 'typebox';
import { AddressError, parseRawAddress, toRawAddress } from '../domain/address.ts';
import { buildRewardsTree, type RewardsTree } from '../domain/merkle/index.ts';
import type { Database, EpochsTable, WorkersTable } from '../db/schema.ts';

export interface ReadApiOptions {
  db: Kysely<Database>;
  logger: Logger;
  /** extra health facts (NATS connection, stream position); merged into /healthz */
  health?: () => Promise<Record<string, unknown>>;
  /** Prometheus registry served on GET /metrics (read-api/metrics.ts) */
  metrics?: Registry;
}

class NotFound extends Error {
  override name = 'NotFound';
}

function rawOr400(address: string): string {
  try {
    return toRawAddress(address);
  } catch (err) {
    if (err instanceof AddressError) throw Object.assign(err, { statusCode: 400 });
    throw err;
  }
}

function worker(w: WorkersTable) {
  return {
    id: w.worker_id,
    participant: w.participant,
    endpoint: w.endpoint,
    status: w.status,
    healthy: w.healthy,
    healthReasons: w.health_reasons,
    lastSeenAt: w.last_seen_at_ms === null ? null : new Date(w.last_seen_at_ms).toISOString(),
    consecutiveFailures: w.consecutive_failures,
    pollsOk: w.polls_ok,
    pollsFailed: w.polls_failed,
    uptimeSeconds: w.uptime_ms / 1000,
    restarts: w.restarts,
    // samples that were not credible and credited nothing (domain/telemetry.ts)
    anomalous: w.anomalous,
    anomalies: w.anomalies,
    lastAnomaly: w.last_anomaly && { at: new Date(w.last_anomaly.atMs).toISOString(), reason: w.last_anomaly.reason, detail: w.last_anomaly.detail },
    gitCommit: w.git_commit,
    model: w.model,
    ownerAddress: w.owner_address,
    walletBalanceNanoton: w.wallet_balance_nanoton,
    adjustedTokens: w.adjusted_tokens,
  };
}

function epoch(e: EpochsTable) {
  const ms = (v: number | null) => (v === null ? null : new Date(v).toISOString());
  return {
    id: e.epoch_id,
    status: e.status,
    startedAt: ms(e.started_at_ms),
    endsAt: ms(e.ends_at_ms),
    closedAt: ms(e.closed_at_ms),
    revenueNanoton: e.revenue_nanoton,
    carryInNanoton: e.carry_in_nanoton,
    operatorFeeNanoton: e.operator_fee_nanoton,
    rewardsNanoton: e.rewards_nanoton,
    slashedNanoton: e.slashed_nanoton,
    carryOutNanoton: e.carry_out_nanoton,
    eligibleParticipants: e.eligible,
    leafCount: e.leaf_count,
    merkleRoot: e.merkle_root,
    formulaVersion: e.formula_version,
    params: e.params,
    rootTxHash: e.root_tx_hash,
    batchesPlanned: e.batches_planned,
    batchesConfirmed: e.batches_confirmed,
    payoutsConfirmed: e.payouts_confirmed,
    paidNanoton: e.paid_nanoton,
    settledAt: ms(e.settled_at_ms),
  };
}

const EpochParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 4294967295 }) });

/**
 * Builds the server (not listening). Trees for proofs are rebuilt from the rewards table and
 * cached per epoch (the last 4), checked against the epoch's stored Merkle root.
 */
export function buildReadApi(options: ReadApiOptions) {
  const { db } = options;
  const app = Fastify({ loggerInstance: options.logger.child({ component: 'read-api' }), logController: new LogController({ disableRequestLogging: true }) }).withTypeProvider<TypeBoxTypeProvider>();
  const trees = new Map<number, RewardsTree>();

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof NotFound) return reply.code(404).send({ error: 'not_found', message: err.message });
    if (err.validation || err.statusCode === 400) return reply.code(400).send({ error: 'bad_request', message: err.message });
    options.logger.error({ err }, 'read API error');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  async function treeOf(epochId: number, root: string): Promise<RewardsTree> {
    const cached = trees.get(epochId);
    if (cached) return cached;
    const rows = await db.selectFrom('rewards').select(['leaf_index', 'participant', 'amount_nanoton']).where('epoch_id', '=', epochId).orderBy('leaf_index').execute();
    const tree = buildRewardsTree(rows.map((r) => ({ address: parseRawAddress(r.participant), amount: BigInt(r.amount_nanoton) })));
    if (tree.rootHex !== root) throw new Error(`epoch ${epochId}: rewards rows rebuild to ${tree.rootHex}, stored root is ${root}`);
    trees.set(epochId, tree);
    if (trees.size > 4) trees.delete(trees.keys().next().value!);
    return tree;
  }

  app.get('/healthz', async () => {
    await sql`select 1`.execute(db);
    const projections = await db.selectFrom('projection_checkpoints').select(['name', 'position']).orderBy('name').execute();
    return { status: 'ok', projections: Object.fromEntries(projections.map((p) => [p.name, p.position])), ...(await options.health?.()) };
  });

  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  }

  app.get('/api/v1/workers', async () => {
    const rows = await db.selectFrom('workers').selectAll().orderBy('worker_id').execute();
    return { workers: rows.map(worker) };
  });

  app.get('/api/v1/workers/:id', { schema: { params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }) } }, async (req) => {
    const w = await db.selectFrom('workers').selectAll().where('worker_id', '=', req.params.id).executeTakeFirst();
    if (!w) throw new NotFound(`no worker ${req.params.id}`);
    const contributions = await db.selectFrom('contributions').selectAll().where('worker_id', '=', w.worker_id).orderBy('epoch_id').execute();
    return {
      ...worker(w),
      contributions: contributions.map((c) => ({
        epochId: c.epoch_id, participant: c.participant, adjustedTokens: c.adjusted_tokens, tasks: c.tasks, tasksSucceeded: c.tasks_succeeded,
        uptimeSeconds: c.uptime_ms / 1000, pollsOk: c.polls_ok, pollsFailed: c.polls_failed, restarts: c.restarts,
      })),
    };
  });

  app.get('/api/v1/participants/:address', { schema: { params: Type.Object({ address: Type.String({ maxLength: 100 }) }) } }, async (req) => {
    const address = rawOr400(req.params.address);
    const [workers, contributions, rep, history, rewards, registry] = await Promise.all([
      db.selectFrom('workers').selectAll().where('participant', '=', address).orderBy('worker_id').execute(),
      db
        .selectFrom('contributions')
        .select([
          'epoch_id',
          sql<number>`count(distinct worker_id)::int`.as('workers'),
          sql<string>`sum(adjusted_tokens)::text`.as('adjusted_tokens'),
          sql<number>`sum(tasks)::int8`.as('tasks'),
          sql<number>`sum(tasks_succeeded)::int8`.as('tasks_succeeded'),
          sql<number>`sum(uptime_ms)::int8`.as('uptime_ms'),
        ])
        .where('participant', '=', address)
        .groupBy('epoch_id')
        .orderBy('epoch_id')
        .execute(),
      db.selectFrom('reputation').selectAll().where('participant', '=', address).executeTakeFirst(),
      db.selectFrom('reputation_history').selectAll().where('participant', '=', address).orderBy('epoch_id').execute(),
      db.selectFrom('rewards').select(['status', sql<string>`sum(amount_nanoton)::text`.as('total')]).where('participant', '=', address).groupBy('status').execute(),
      db.selectFrom('participants').selectAll().where('participant', '=', address).executeTakeFirst(),
    ]);
    if (!workers.length && !contributions.length && !rewards.length && !registry) throw new NotFound(`no participant ${address}`);
    const byStatus = Object.fromEntries(rewards.map((r) => [r.status, r.total]));
    return {
      address,
      registry: registry
        ? {
            status: registry.status,
            stakeNanoton: registry.stake_nanoton,
            gpuSpecHash: registry.gpu_spec_hash,
            gpuCount: registry.gpu_count,
            registeredAt: new Date(registry.registered_at_ms).toISOString(),
            pendingWithdrawalNanoton: registry.pending_withdrawal_nanoton,
            unlockAt: registry.unlock_at === null ? null : new Date(registry.unlock_at * 1000).toISOString(),
            slashes: registry.slashes,
            slashedNanoton: registry.slashed_nanoton,
          }
        : null,
      reputation: rep?.score ?? 500,
      reputationHistory: history.map((h) => ({ epochId: h.epoch_id, before: h.score_before, target: h.target, after: h.score_after })),
      workers: workers.map(worker),
      contributions: contributions.map((c) => ({
        epochId: c.epoch_id, workers: c.workers, adjustedTokens: c.adjusted_tokens, tasks: Number(c.tasks), tasksSucceeded: Number(c.tasks_succeeded),
        successRate: Number(c.tasks) ? Number(c.tasks_succeeded) / Number(c.tasks) : null,
        uptimeSeconds: Number(c.uptime_ms) / 1000,
      })),
      rewards: {
        earnedNanoton: String(BigInt(byStatus.paid ?? '0') + BigInt(byStatus.pending ?? '0')),
        paidNanoton: byStatus.paid ?? '0',
        pendingNanoton: byStatus.pending ?? '0',
      },
    };
  });

  app.get('/api/v1/epochs', async () => {
    const rows = await db.selectFrom('epochs').selectAll().orderBy('epoch_id', 'desc').execute();
    return { epochs: rows.map(epoch) };
  });

  app.get('/api/v1/epochs/:id', { schema: { params: EpochParams } }, async (req) => {
    const e = await db.selectFrom('epochs').selectAll().where('epoch_id', '=', req.params.id).executeTakeFirst();
    if (!e) throw new NotFound(`no epoch ${req.params.id}`);
    return epoch(e);
  });

  app.get(
    '/api/v1/epochs/:id/proofs/:address',
    { schema: { params: Type.Object({ id: EpochParams.properties.id, address: Type.String({ maxLength: 100 }) }) } },
    async (req) => {
      const address = rawOr400(req.params.address);
      const e = await db.selectFrom('epochs').select(['merkle_root', 'leaf_count']).where('epoch_id', '=', req.params.id).executeTakeFirst();
      if (!e?.merkle_root) throw new NotFound(`epoch ${req.params.id} has no rewards table yet`);
      const leaf = await db.selectFrom('rewards').select(['leaf_index', 'amount_nanoton']).where('epoch_id', '=', req.params.id).where('participant', '=', address).executeTakeFirst();
      if (!leaf) throw new NotFound(`${address} has no reward in epoch ${req.params.id}`);
      const tree = await treeOf(req.params.id, e.merkle_root);
      const proof = tree.proof([leaf.leaf_index]);
      return {
        epochId: req.params.id,
        index: leaf.leaf_index,
        address,
        amountNanoton: leaf.amount_nanoton,
        root: e.merkle_root,
        proofBoc: proof.toBoc().toString('base64'),
      };
    },
  );

  app.get(
    '/api/v1/payouts',
    { schema: { querystring: Type.Object({ address: Type.String({ maxLength: 100 }), epoch: Type.Optional(EpochParams.properties.id) }) } },
    async (req) => {
      const address = rawOr400(req.query.address);
      let q = db.selectFrom('rewards').selectAll().where('participant', '=', address);
      if (req.query.epoch !== undefined) q = q.where('epoch_id', '=', req.query.epoch);
      const rows = await q.orderBy('epoch_id', 'desc').execute();
      return {
        address,
        payouts: rows.map((r) => ({
          epochId: r.epoch_id,
          index: r.leaf_index,
          amountNanoton: r.amount_nanoton,
          status: r.status,
          method: r.method,
          batch: r.batch,
          txHash: r.tx_hash,
          paidAt: r.paid_at_ms === null ? null : new Date(r.paid_at_ms).toISOString(),
        })),
      };
    },
  );

  return app;
}
