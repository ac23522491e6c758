/** Payouts: GET /api/v1/payouts, the pool's rewards and their payment state, filtered by epoch, address, status. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { addressIn, AddressParam, decimalIn, DecimalString, EpochIdParam, epochIdIn, INT4_MAX, limitIn, LimitParam, NextCursor, OrNull, page } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** One reward of an epoch's table and how it was paid. */
export const Payout = Type.Object(
  {
    epochId: Type.Integer({ minimum: 1 }),
    index: Type.Integer({ minimum: 0, description: 'leaf index in the epoch rewards table' }),
    address: Type.String({ description: 'raw address of the participant' }),
    amountNanoton: DecimalString('nanoTON'),
    status: Type.String({ description: 'pending | paid' }),
    method: OrNull(Type.String({ description: 'batch | claim' })),
    batch: OrNull(Type.Integer({ minimum: 0 })),
    txHash: OrNull(Type.String()),
    paidAt: OrNull(Type.String({ description: 'ISO 8601 time' })),
  },
  { additionalProperties: false },
);

/** `cursor` of /payouts: `<epoch>:<leaf index>` of the last row of the previous page. */
const PayoutCursor = Type.String({ pattern: '^[0-9]{1,10}:[0-9]{1,10}$', description: `a payouts cursor <epoch>:<index> (the previous answer's next)` });

/**
 * The payouts' routes (Fastify plugin). GET /api/v1/payouts lists the rewards of every epoch, newest
 * epoch first and by leaf index within one, filtered by `address` (any form; then the answer also
 * carries it raw as `address`), `epoch`, `status` (pending | paid) and `before=<epoch>` (epochs
 * older than it, kept from the first version of the route); `cursor` is the previous page's
 * `next` (`<epoch>:<index>`). A filter that matches nothing is an empty list, not a 404.
 */
export const payoutsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/payouts',
    {
      schema: {
        querystring: Type.Object(
          {
            address: Type.Optional(AddressParam),
            epoch: Type.Optional(EpochIdParam),
            status: Type.Optional(Type.Enum(['pending', 'paid'], { description: 'pending or paid' })),
            before: Type.Optional(EpochIdParam),
            cursor: Type.Optional(PayoutCursor),
            limit: Type.Optional(LimitParam),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { address: Type.Optional(Type.String({ description: 'the address filter, raw; absent without one' })), payouts: Type.Array(Payout), next: NextCursor },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (req) => {
      const address = req.query.address === undefined ? undefined : addressIn(req.query.address, 'querystring/address');
      const limit = limitIn(req.query.limit);
      let q = db.selectFrom('rewards').selectAll();
      if (address !== undefined) q = q.where('participant', '=', address);
      if (req.query.epoch !== undefined) q = q.where('epoch_id', '=', epochIdIn(req.query.epoch, 'querystring/epoch'));
      if (req.query.status !== undefined) q = q.where('status', '=', req.query.status);
      if (req.query.before !== undefined) q = q.where('epoch_id', '<', epochIdIn(req.query.before, 'querystring/before'));
      if (req.query.cursor !== undefined) {
        const [e, i] = req.query.cursor.split(':') as [string, string];
        const epochId = epochIdIn(e, 'querystring/cursor');
        const index = decimalIn(i, 'querystring/cursor', 0, INT4_MAX);
        q = q.where((eb) => eb.or([eb('epoch_id', '<', epochId), eb.and([eb('epoch_id', '=', epochId), eb('leaf_index', '>', index)])]));
      }
      const rows = await q.orderBy('epoch_id', 'desc').orderBy('leaf_index').limit(limit + 1).execute();
      const { items, next } = page(rows, limit, (r) => `${r.epoch_id}:${r.leaf_index}`);
      return {
        ...(address !== undefined ? { address } : {}),
        payouts: items.map((r) => ({
          epochId: r.epoch_id,
          index: r.leaf_index,
          address: r.participant,
          amountNanoton: r.amount_nanoton,
          status: r.status,
          method: r.method,
          batch: r.batch,
          txHash: r.tx_hash,
          paidAt: r.paid_at_ms === null ? null : new Date(r.paid_at_ms).toISOString(),
        })),
        next,
      };
    },
  );
};
