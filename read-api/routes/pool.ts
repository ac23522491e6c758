/** The pool at a glance: GET /api/v1/pool (fee, workers, participants, epochs, totals to date, stream position). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import Type from 'typebox';
import { DecimalString, NoQuery, OrNull } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** Options of {@link poolRoutes}: the read models, plus what only the running pool knows. */
export interface PoolRouteOptions extends RouteOptions {
  /** The operator fee the pool computes epochs with (config `rewards.operatorFeeBps`, basis points); absent: the last computed epoch's. */
  operatorFeeBps?: number;
  /** The event stream's last sequence (JetStream); absent: `stream.sequence` is null. */
  streamSequence?: () => Promise<number>;
}

const Count = Type.Integer({ minimum: 0 });
const Time = Type.String({ description: 'ISO 8601 time' });

/** The 200 answer of GET /api/v1/pool. */
export const PoolSummary = Type.Object(
  {
    operatorFeeBps: OrNull(Type.Integer({ minimum: 0, maximum: 10_000, description: 'operator fee, basis points of an epoch revenue' })),
    operatorFeeFrom: OrNull(Type.String({ description: 'config (what the pool computes the next epochs with) | epoch (the params of the last computed epoch) | null (neither known)' })),
    workers: Type.Object(
      {
        online: Type.Integer({ minimum: 0, description: 'workers with status online' }),
        total: Count,
        unhealthy: Type.Integer({ minimum: 0, description: 'workers whose last sample reported them unhealthy' }),
      },
      { additionalProperties: false },
    ),
    participants: Type.Object(
      {
        registered: Type.Integer({ minimum: 0, description: 'participants in the on-chain registry, whatever their status' }),
        active: Type.Integer({ minimum: 0, description: 'registered participants with status active' }),
      },
      { additionalProperties: false },
    ),
    lastSettledEpoch: OrNull(Type.Object({ id: Type.Integer({ minimum: 1 }), settledAt: OrNull(Time), merkleRoot: OrNull(Type.String({ pattern: '^[0-9a-f]{64}$' })) }, { additionalProperties: false })),
    currentEpoch: OrNull(Type.Object({ id: Type.Integer({ minimum: 1 }), startedAt: OrNull(Time), endsAt: OrNull(Time) }, { additionalProperties: false })),
    totals: Type.Object(
      {
        revenueNanoton: DecimalString('nanoTON: Σ revenue counted for every epoch, the open one included'),
        operatorFeeNanoton: DecimalString('nanoTON: Σ operator fee of the computed epochs'),
        rewardsNanoton: DecimalString('nanoTON: Σ rewards of the computed epochs'),
        paidNanoton: DecimalString('nanoTON: Σ rewards paid as the epoch saga confirmed them (batches confirmed; every paid leaf once an epoch settles)'),
      },
      { additionalProperties: false },
    ),
    stream: Type.Object(
      {
        sequence: OrNull(Type.Integer({ minimum: 0, description: "the event stream's last sequence; null when the API was started without the stream" })),
        projectedSequence: OrNull(Type.Integer({ minimum: 0, description: 'stream sequence every read model has applied (the lowest projection checkpoint); null before any' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/**
 * GET /api/v1/pool (Fastify plugin). Six small queries in parallel: aggregates over the workers and
 * participants tables (one row each per worker and participant) and the epochs table (one row per
 * epoch), two primary-key-ordered reads of one epoch, and the projection checkpoints; nothing over
 * the per-leaf or per-sample tables.
 */
export const poolRoutes: FastifyPluginAsyncTypebox<PoolRouteOptions> = async (app, { db, operatorFeeBps, streamSequence }) => {
  app.get('/api/v1/pool', { schema: { querystring: NoQuery, response: { 200: PoolSummary } } }, async () => {
    const [workers, participants, totals, settled, open, lastParams, projected, sequence] = await Promise.all([
      db
        .selectFrom('workers')
        .select([
          sql<number>`count(*) filter (where status = 'online')::int`.as('online'),
          sql<number>`count(*)::int`.as('total'),
          sql<number>`count(*) filter (where healthy = false)::int`.as('unhealthy'),
        ])
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('participants')
        .select([sql<number>`count(*)::int`.as('registered'), sql<number>`count(*) filter (where status = 'active')::int`.as('active')])
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('epochs')
        .select([
          sql<string>`coalesce(sum(revenue_nanoton), 0)::text`.as('revenue'),
          sql<string>`coalesce(sum(operator_fee_nanoton), 0)::text`.as('fee'),
          sql<string>`coalesce(sum(rewards_nanoton), 0)::text`.as('rewards'),
          sql<string>`coalesce(sum(paid_nanoton), 0)::text`.as('paid'),
        ])
        .executeTakeFirstOrThrow(),
      db.selectFrom('epochs').select(['epoch_id', 'settled_at_ms', 'merkle_root']).where('status', '=', 'settled').orderBy('epoch_id', 'desc').limit(1).executeTakeFirst(),
      db.selectFrom('epochs').select(['epoch_id', 'started_at_ms', 'ends_at_ms']).where('status', '=', 'open').orderBy('epoch_id', 'desc').limit(1).executeTakeFirst(),
      operatorFeeBps === undefined
        ? db.selectFrom('epochs').select('params').where('params', 'is not', null).orderBy('epoch_id', 'desc').limit(1).executeTakeFirst()
        : undefined,
      db.selectFrom('projection_checkpoints').select(sql<number | null>`min(position)`.as('position')).executeTakeFirstOrThrow(),
      streamSequence ? streamSequence() : null,
    ]);
    const ms = (v: number | null) => (v === null ? null : new Date(v).toISOString());
    const epochFee = lastParams?.params?.operatorFeeBps;
    const fee = operatorFeeBps !== undefined ? { bps: operatorFeeBps, from: 'config' } : typeof epochFee === 'number' ? { bps: epochFee, from: 'epoch' } : null;
    return {
      operatorFeeBps: fee?.bps ?? null,
      operatorFeeFrom: fee?.from ?? null,
      workers,
      participants,
      lastSettledEpoch: settled ? { id: settled.epoch_id, settledAt: ms(settled.settled_at_ms), merkleRoot: settled.merkle_root } : null,
      currentEpoch: open ? { id: open.epoch_id, startedAt: ms(open.started_at_ms), endsAt: ms(open.ends_at_ms) } : null,
      totals: { revenueNanoton: totals.revenue, operatorFeeNanoton: totals.fee, rewardsNanoton: totals.rewards, paidNanoton: totals.paid },
      stream: { sequence, projectedSequence: projected.position === null ? null : Number(projected.position) },
    };
  });
};
