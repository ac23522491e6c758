/** Workers: GET /api/v1/workers (paged by id) and GET /api/v1/workers/:id with its contributions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { limitIn, NoQuery, notFound, LimitParam, WorkerIdParam } from '../common.ts';
import { worker } from '../views.ts';
import type { RouteOptions } from './options.ts';

/** The workers' routes (Fastify plugin). */
export const workersRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/workers',
    { schema: { querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(WorkerIdParam) }, { additionalProperties: false }) } },
    async (req) => {
      const limit = limitIn(req.query.limit);
      let q = db.selectFrom('workers').selectAll();
      if (req.query.after !== undefined) q = q.where('worker_id', '>', req.query.after);
      const rows = await q.orderBy('worker_id').limit(limit).execute();
      return { workers: rows.map(worker) };
    },
  );

  app.get('/api/v1/workers/:id', { schema: { params: Type.Object({ id: WorkerIdParam }), querystring: NoQuery } }, async (req) => {
    const w = await db.selectFrom('workers').selectAll().where('worker_id', '=', req.params.id).executeTakeFirst();
    if (!w) throw notFound(`no worker ${req.params.id}`);
    const contributions = await db.selectFrom('contributions').selectAll().where('worker_id', '=', w.worker_id).orderBy('epoch_id').execute();
    const checks = await db.selectFrom('worker_contract_checks').selectAll().where('worker_id', '=', w.worker_id).orderBy('proxy').execute();
    return {
      ...worker(w),
      contributions: contributions.map((c) => ({
        epochId: c.epoch_id, participant: c.participant, adjustedTokens: c.adjusted_tokens, tasks: c.tasks, tasksSucceeded: c.tasks_succeeded,
        uptimeSeconds: c.uptime_ms / 1000, pollsOk: c.polls_ok, pollsFailed: c.polls_failed, restarts: c.restarts,
      })),
      // per proxy: the cached_out_tokens it claims beside its Cocoon worker contract's on-chain tokens (producers/chain/workerTokens.ts)
      workerContracts: checks.map((k) => ({
        proxy: k.proxy, workerContract: k.worker_contract, claimedTokens: k.claimed_tokens, onChainTokens: k.on_chain_tokens, paidNanoton: k.paid_nanoton,
        workerFeePerTokenNanoton: k.worker_fee_per_token, genuine: k.genuine, consistent: k.consistent, divergence: k.divergence,
        checks: k.checks, divergences: k.divergences, sampleAt: new Date(k.sample_at_ms).toISOString(),
      })),
    };
  });
};
