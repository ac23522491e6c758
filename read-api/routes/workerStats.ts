/**
 * A worker's time series for charts (issue 8): GET /api/v1/workers/:id/stats?from=&to=&step=,
 * served from the worker-stats read model (projectors/workerStats.ts, per-minute rows) aggregated
 * in SQL to `step`-second buckets.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import Type from 'typebox';
import { badRequest, DecimalString, notFound, OrNull, WorkerIdParam } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** The bucket lengths the route serves, seconds (each a whole number of minutes). */
export const STEPS_SECONDS = [60, 300, 3600, 86_400] as const;
/** Most buckets one answer holds. */
export const MAX_BUCKETS = 1000;
/** The range when `from` is absent: the 24 hours before `to`, milliseconds. */
export const DEFAULT_RANGE_MS = 24 * 3600 * 1000;
/** Latest instant accepted (year 9999), unix ms. */
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const Instant = (name: string, absent: string) =>
  Type.String({ format: 'date-time', maxLength: 64, description: `an ISO 8601 date-time with a time zone (2026-01-02T03:04:05Z), the ${name} of the range; absent: ${absent}` });

const StatsQuery = Type.Object(
  {
    from: Type.Optional(Instant('start', '24 hours before `to`')),
    to: Type.Optional(Instant('end (exclusive)', 'now')),
    step: Type.Optional(
      Type.String({
        pattern: `^(${STEPS_SECONDS.join('|')})$`,
        description: `a bucket length in seconds: ${STEPS_SECONDS.join(', ')}; absent: the shortest giving at most ${MAX_BUCKETS} buckets`,
      }),
    ),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });

/** One bucket of the series. */
const StatsBucket = Type.Object(
  {
    start: Type.String({ format: 'date-time', description: 'start of the bucket (UTC); it lasts `step` seconds' }),
    adjustedTokens: DecimalString('adjusted tokens credited in the bucket (as for contributions)'),
    tasks: Count,
    tasksSucceeded: Count,
    successRate: OrNull(Type.Number({ minimum: 0, maximum: 1, description: 'tasksSucceeded / tasks; null without tasks' })),
    uptimeSeconds: Type.Number({ minimum: 0, description: 'credited uptime inside the bucket, seconds (at most `step`)' }),
    pollsOk: Count,
    pollsFailed: Count,
  },
  { additionalProperties: false },
);

/** The 200 answer: a dense series, every bucket of [from, to) present (zeros where nothing was credited). */
export const WorkerStats = Type.Object(
  {
    workerId: Type.String(),
    from: Type.String({ format: 'date-time', description: 'start of the first bucket: the requested `from` rounded down to `step` (UTC)' }),
    to: Type.String({ format: 'date-time', description: 'end of the last bucket (exclusive): the requested `to` rounded up to `step`' }),
    step: Type.Integer({ description: 'bucket length, seconds' }),
    buckets: Type.Array(StatsBucket, { maxItems: MAX_BUCKETS }),
  },
  { additionalProperties: false },
);

/** `value` (already a schema-valid date-time) as unix ms. @throws HttpError 400 naming `path` when it is no real instant or is out of range. */
function instantIn(value: string, path: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw badRequest(path, `is not a valid date-time (got ${JSON.stringify(value)})`);
  if (ms < 0 || ms > MAX_MS) throw badRequest(path, `must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z (got ${JSON.stringify(value)})`);
  return ms;
}

/** Buckets of `stepMs` covering [fromMs, toMs), the bounds rounded outwards to the step. */
function span(fromMs: number, toMs: number, stepMs: number): { startMs: number; endMs: number; buckets: number } {
  const startMs = Math.floor(fromMs / stepMs) * stepMs;
  const endMs = Math.ceil(toMs / stepMs) * stepMs;
  return { startMs, endMs, buckets: (endMs - startMs) / stepMs };
}

/**
 * The worker-stats route (Fastify plugin). Answers 404 for a worker the workers read model does
 * not know, 400 (`{error,message,path}`) for a bad `from`/`to`/`step`, `from` not before `to`, or
 * more than {@link MAX_BUCKETS} buckets. Buckets are aligned to multiples of `step` since the unix
 * epoch (UTC minutes, hours, days).
 */
export const workerStatsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/workers/:id/stats',
    {
      schema: {
        summary: "A worker's time series for charts",
        description:
          'Per `step`-second bucket of [from, to) (bounds rounded outwards to the step, at most 1000 buckets, every bucket present): ' +
          'adjusted tokens, tasks and their success rate, credited uptime and polls, the amounts its contributions count.',
        params: Type.Object({ id: WorkerIdParam }, { additionalProperties: false }),
        querystring: StatsQuery,
        response: { 200: WorkerStats },
      },
    },
    async (req) => {
      const toMs = req.query.to === undefined ? Date.now() : instantIn(req.query.to, 'querystring/to');
      const fromMs = req.query.from === undefined ? Math.max(0, toMs - DEFAULT_RANGE_MS) : instantIn(req.query.from, 'querystring/from');
      if (fromMs >= toMs) throw badRequest(req.query.from === undefined ? 'querystring/to' : 'querystring/from', `must be before to (from ${new Date(fromMs).toISOString()}, to ${new Date(toMs).toISOString()})`);
      let stepS: number;
      if (req.query.step !== undefined) {
        stepS = Number(req.query.step);
        const { buckets } = span(fromMs, toMs, stepS * 1000);
        if (buckets > MAX_BUCKETS) throw badRequest('querystring/step', `of ${stepS} s gives ${buckets} buckets over the range: at most ${MAX_BUCKETS}; choose a longer step or a shorter range`);
      } else {
        const fit = STEPS_SECONDS.find((s) => span(fromMs, toMs, s * 1000).buckets <= MAX_BUCKETS);
        if (fit === undefined) throw badRequest('querystring/from', `gives more than ${MAX_BUCKETS} buckets even of ${STEPS_SECONDS.at(-1)} s: choose a shorter range`);
        stepS = fit;
      }
      const stepMs = stepS * 1000;
      const { startMs, endMs, buckets } = span(fromMs, toMs, stepMs);

      const worker = await db.selectFrom('workers').select('worker_id').where('worker_id', '=', req.params.id).executeTakeFirst();
      if (!worker) throw notFound(`no worker ${req.params.id}`);
      const bucket = sql<string>`(bucket_start_ms / ${stepMs}::int8) * ${stepMs}::int8`;
      const rows = await db
        .selectFrom('worker_stats_minutes')
        .select([
          bucket.as('bucket'),
          sql<string>`sum(adjusted_tokens)::text`.as('adjusted_tokens'),
          sql<string>`sum(tasks)::int8`.as('tasks'),
          sql<string>`sum(tasks_succeeded)::int8`.as('tasks_succeeded'),
          sql<string>`sum(uptime_ms)::int8`.as('uptime_ms'),
          sql<string>`sum(polls_ok)::int8`.as('polls_ok'),
          sql<string>`sum(polls_failed)::int8`.as('polls_failed'),
        ])
        .where('worker_id', '=', worker.worker_id)
        .where('bucket_start_ms', '>=', startMs)
        .where('bucket_start_ms', '<', endMs)
        .groupBy(sql`1`)
        .execute();
      const byStart = new Map(rows.map((r) => [Number(r.bucket), r]));
      return {
        workerId: worker.worker_id,
        from: new Date(startMs).toISOString(),
        to: new Date(endMs).toISOString(),
        step: stepS,
        buckets: Array.from({ length: buckets }, (_, i) => {
          const at = startMs + i * stepMs;
          const r = byStart.get(at);
          const tasks = Number(r?.tasks ?? 0);
          const succeeded = Number(r?.tasks_succeeded ?? 0);
          return {
            start: new Date(at).toISOString(),
            adjustedTokens: r?.adjusted_tokens ?? '0',
            tasks,
            tasksSucceeded: succeeded,
            successRate: tasks ? succeeded / tasks : null,
            uptimeSeconds: Number(r?.uptime_ms ?? 0) / 1000,
            pollsOk: Number(r?.polls_ok ?? 0),
            pollsFailed: Number(r?.polls_failed ?? 0),
          };
        }),
      };
    },
  );
};
