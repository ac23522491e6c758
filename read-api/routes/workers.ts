/** Workers: GET /api/v1/workers (paged by id) and GET /api/v1/workers/:id with its contributions. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { DecimalString, limitIn, LimitParam, NextCursor, NoQuery, notFound, OrNull, page, WorkerIdParam } from '../common.ts';
import { Worker, worker } from '../views.ts';
import type { RouteOptions } from './options.ts';

const Count = Type.Integer({ minimum: 0 });

/** GET /api/v1/workers/:id: the {@link Worker} plus its contributions per epoch and its Cocoon worker contracts. */
const WorkerDetail = Type.Object(
  {
    ...Worker.properties,
    contributions: Type.Array(
      Type.Object(
        {
          epochId: Type.Integer({ minimum: 1 }),
          participant: Type.String({ description: 'raw address' }),
          adjustedTokens: DecimalString('adjusted tokens'),
          tasks: Count,
          tasksSucceeded: Count,
          uptimeSeconds: Type.Number({ minimum: 0, description: 'credited uptime, seconds' }),
          pollsOk: Count,
          pollsFailed: Count,
          restarts: Count,
        },
        { additionalProperties: false },
      ),
    ),
    workerContracts: Type.Array(
      Type.Object(
        {
          proxy: Type.String({ description: 'raw address of the Cocoon proxy' }),
          workerContract: Type.String({ description: 'raw address' }),
          claimedTokens: DecimalString('adjusted tokens (/jsonstats cached_out_tokens)'),
          onChainTokens: OrNull(DecimalString('the contract\'s tokens')),
          paidNanoton: OrNull(DecimalString('nanoTON')),
          workerFeePerTokenNanoton: DecimalString('nanoTON'),
          genuine: Type.Boolean(),
          consistent: Type.Boolean(),
          divergence: OrNull(Type.String()),
          checks: Count,
          divergences: Count,
          sampleAt: Type.String({ description: 'ISO 8601 time' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The workers' routes (Fastify plugin). */
export const workersRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/workers',
    {
      schema: {
        querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(WorkerIdParam) }, { additionalProperties: false }),
        response: { 200: Type.Object({ workers: Type.Array(Worker), next: NextCursor }, { additionalProperties: false }) },
      },
    },
    async (req) => {
      // by id ascending; `next` is the page's last worker id, passed back as `after`
      const limit = limitIn(req.query.limit);
      let q = db.selectFrom('workers').selectAll();
      if (req.query.after !== undefined) q = q.where('worker_id', '>', req.query.after);
      const { items, next } = page(await q.orderBy('worker_id').limit(limit + 1).execute(), limit, (w) => w.worker_id);
      return { workers: items.map(worker), next };
    },
  );

  app.get('/api/v1/workers/:id', { schema: { params: Type.Object({ id: WorkerIdParam }), querystring: NoQuery, response: { 200: WorkerDetail } } }, async (req) => {
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
