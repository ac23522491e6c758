/** Payouts: GET /api/v1/payouts, a participant's rewards and their payment state. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { addressIn, AddressParam, DecimalString, OrNull, EpochIdParam, epochIdIn, limitIn, LimitParam } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** The payouts' routes (Fastify plugin). */
export const payoutsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/payouts',
    {
      schema: {
        querystring: Type.Object(
          { address: AddressParam, epoch: Type.Optional(EpochIdParam), before: Type.Optional(EpochIdParam), limit: Type.Optional(LimitParam) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              address: Type.String({ description: 'raw address' }),
              payouts: Type.Array(
                Type.Object(
                  {
                    epochId: Type.Integer({ minimum: 1 }),
                    index: Type.Integer({ minimum: 0, description: 'leaf index in the epoch rewards table' }),
                    amountNanoton: DecimalString('nanoTON'),
                    status: Type.String({ description: 'pending | paid' }),
                    method: OrNull(Type.String({ description: 'batch | claim' })),
                    batch: OrNull(Type.Integer({ minimum: 0 })),
                    txHash: OrNull(Type.String()),
                    paidAt: OrNull(Type.String({ description: 'ISO 8601 time' })),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (req) => {
      // a filter over the rewards table: an address or epoch with no reward is an empty list, not a 404
      const address = addressIn(req.query.address, 'querystring/address');
      const limit = limitIn(req.query.limit);
      let q = db.selectFrom('rewards').selectAll().where('participant', '=', address);
      if (req.query.epoch !== undefined) q = q.where('epoch_id', '=', epochIdIn(req.query.epoch, 'querystring/epoch'));
      if (req.query.before !== undefined) q = q.where('epoch_id', '<', epochIdIn(req.query.before, 'querystring/before'));
      const rows = await q.orderBy('epoch_id', 'desc').limit(limit).execute();
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
};
