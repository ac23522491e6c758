/** Epochs: list, one epoch, its members' contributions, a participant's Merkle proof and its pull claim. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { buildRewardsTree, type RewardsTree } from '../../domain/merkle/index.ts';
import { parseRawAddress } from '../../domain/address.ts';
import { Address } from '@ton/core';
import { buildClaim } from '../../contracts/claim.ts';
import { addressIn, AddressParam, DecimalString, EpochIdParam, epochCaching, epochIdIn, HttpError, limitIn, LimitParam, NextCursor, NoQuery, notFound, OrNull, page } from '../common.ts';
import { Epoch, epoch, memberTokens, MemberTokens } from '../views.ts';
import type { RouteOptions } from './options.ts';

/** The leaf a proof or a claim is of (the proof and claim answers). */
const Leaf = {
  epochId: Type.Integer({ minimum: 1 }),
  index: Type.Integer({ minimum: 0, description: 'leaf index' }),
  address: Type.String({ description: 'raw address, the one the contract pays' }),
  amountNanoton: DecimalString('nanoTON'),
  root: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Merkle root, hex' }),
};

/** The 304 of an answer about a settled epoch whose ETag the client holds (common.ts epochCaching). */
const NotModified = Type.Null({ description: 'Not Modified: the epoch is settled and the ETag in If-None-Match is its answer\'s (no body)' });

/**
 * The epochs' routes (Fastify plugin). The answers about one epoch (the epoch, its contributions,
 * a proof) are cacheable forever once it is settled (ETag, 304; common.ts epochCaching). Trees for proofs are rebuilt from the rewards table once per
 * epoch and plugin instance, checked against the stored Merkle root, and cached (the last 4 epochs).
 */
export const epochsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db, claims }) => {
  const trees = new Map<number, Promise<RewardsTree>>();
  /**
   * The epoch's rewards tree, built once per process from the rewards table (checked against the
   * stored root) and kept for the last 4 epochs asked for; concurrent first requests share one build.
   */
  function treeOf(epochId: number, root: string): Promise<RewardsTree> {
    const cached = trees.get(epochId);
    if (cached) return cached;
    const building = (async () => {
      const rows = await db.selectFrom('rewards').select(['leaf_index', 'participant', 'amount_nanoton']).where('epoch_id', '=', epochId).orderBy('leaf_index').execute();
      const tree = buildRewardsTree(rows.map((r) => ({ address: parseRawAddress(r.participant), amount: BigInt(r.amount_nanoton) })));
      if (tree.rootHex !== root) throw new Error(`epoch ${epochId}: rewards rows rebuild to ${tree.rootHex}, stored root is ${root}`);
      return tree;
    })();
    trees.set(epochId, building);
    building.catch(() => trees.get(epochId) === building && trees.delete(epochId));
    if (trees.size > 4) trees.delete(trees.keys().next().value!);
    return building;
  }

  /**
   * The Merkle proof of `address`'s leaf in epoch `id` (the proof route's answer), whether the
   * epoch is settled, and whether that leaf is paid. One indexed read (epochs and rewards primary
   * keys); the proof is cut from the cached tree. @throws HttpError 404 for no epoch, no rewards table, no reward.
   */
  async function proofOf(id: number, address: string) {
    const e = await db
      .selectFrom('epochs as e')
      .leftJoin('rewards as r', (j) => j.onRef('r.epoch_id', '=', 'e.epoch_id').on('r.participant', '=', address))
      .select(['e.merkle_root', 'e.status', 'r.leaf_index', 'r.amount_nanoton', 'r.status as reward_status'])
      .where('e.epoch_id', '=', id)
      .executeTakeFirst();
    if (!e) throw notFound(`no epoch ${id}`);
    if (!e.merkle_root) throw notFound(`epoch ${id} has no rewards table yet`);
    if (e.leaf_index === null || e.amount_nanoton === null) throw notFound(`${address} has no reward in epoch ${id}`);
    const tree = await treeOf(id, e.merkle_root);
    const answer = { epochId: id, index: e.leaf_index, address, amountNanoton: e.amount_nanoton, root: e.merkle_root, proofBoc: tree.proofBoc(e.leaf_index).toString('base64') };
    return { answer, settled: e.status === 'settled', paid: e.reward_status === 'paid' };
  }

  app.get(
    '/api/v1/epochs',
    {
      schema: {
        querystring: Type.Object({ limit: Type.Optional(LimitParam), before: Type.Optional(EpochIdParam) }, { additionalProperties: false }),
        response: { 200: Type.Object({ epochs: Type.Array(Epoch), next: NextCursor }, { additionalProperties: false }) },
      },
    },
    async (req) => {
      // newest first; `next` is the page's last (oldest) epoch id, passed back as `before`
      const limit = limitIn(req.query.limit);
      let q = db.selectFrom('epochs').selectAll();
      if (req.query.before !== undefined) q = q.where('epoch_id', '<', epochIdIn(req.query.before, 'querystring/before'));
      const { items, next } = page(await q.orderBy('epoch_id', 'desc').limit(limit + 1).execute(), limit, (e) => String(e.epoch_id));
      return { epochs: items.map(epoch), next };
    },
  );

  app.get('/api/v1/epochs/:id', { schema: { params: Type.Object({ id: EpochIdParam }), querystring: NoQuery, response: { 200: Epoch, 304: NotModified } } }, async (req, reply) => {
    const id = epochIdIn(req.params.id, 'params/id');
    const e = await db.selectFrom('epochs').selectAll().where('epoch_id', '=', id).executeTakeFirst();
    if (!e) throw notFound(`no epoch ${id}`);
    return epochCaching(req, reply, e.status === 'settled', epoch(e));
  });

  app.get(
    '/api/v1/epochs/:id/contributions',
    {
      schema: {
        params: Type.Object({ id: EpochIdParam }),
        querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(AddressParam) }, { additionalProperties: false }),
        response: {
          304: NotModified,
          200: Type.Object(
            { epochId: Type.Integer({ minimum: 1 }), formulaVersion: OrNull(Type.Integer({ minimum: 1 })), contributions: Type.Array(MemberTokens), next: NextCursor },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (req, reply) => {
      // by participant address ascending; `next` is the page's last raw address, passed back as `after`
      const id = epochIdIn(req.params.id, 'params/id');
      const limit = limitIn(req.query.limit);
      const after = req.query.after === undefined ? undefined : { epochId: id, participant: addressIn(req.query.after, 'querystring/after') };
      const e = await db.selectFrom('epochs').select(['formula_version', 'status']).where('epoch_id', '=', id).executeTakeFirst();
      if (!e) throw notFound(`no epoch ${id}`);
      const { items, next } = page(await memberTokens(db, { epochId: id }, limit + 1, after), limit, (m) => m.participant);
      return epochCaching(req, reply, e.status === 'settled', { epochId: id, formulaVersion: e.formula_version, contributions: items, next });
    },
  );

  app.get(
    '/api/v1/epochs/:id/proofs/:address',
    {
      schema: {
        params: Type.Object({ id: EpochIdParam, address: AddressParam }),
        querystring: NoQuery,
        response: {
          304: NotModified,
          200: Type.Object(
            {
              ...Leaf,
              proofBoc: Type.String({ description: 'Merkle-proof cell, base64 BoC' }),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (req, reply) => {
      const { answer, settled } = await proofOf(epochIdIn(req.params.id, 'params/id'), addressIn(req.params.address, 'params/address'));
      return epochCaching(req, reply, settled, answer);
    },
  );

  app.get(
    '/api/v1/epochs/:id/claims/:address',
    {
      schema: {
        summary: "A participant's pull claim of its reward: the ClaimReward message and a ton://transfer link a wallet opens",
        description: 'Built from the proof (cli/claim.ts buildClaim, the same as `pool claim`); the contract pays the leaf\'s address whoever sends it, and refuses a leaf already paid. 404 when there is no reward, 409 when it is paid already, 503 when the pool has no distribution contract to name.',
        params: Type.Object({ id: EpochIdParam, address: AddressParam }),
        querystring: NoQuery,
        response: {
          200: Type.Object(
            {
              ...Leaf,
              distribution: Type.String({ description: 'the RewardDistribution contract, user-friendly bounceable' }),
              valueNanoton: DecimalString('nanoTON the message carries (gas and fees; the change above claimCost + 0.01 TON comes back)'),
              bodyBoc: Type.String({ description: 'ClaimReward body, base64 BoC' }),
              link: Type.String({ description: 'ton://transfer/<distribution>?amount=<nanoTON>&bin=<base64url BoC>' }),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (req) => {
      if (!claims) throw new HttpError(503, 'unavailable', 'the pool has no distribution contract configured: no claim can be built');
      const id = epochIdIn(req.params.id, 'params/id');
      const address = addressIn(req.params.address, 'params/address');
      const { answer, paid } = await proofOf(id, address);
      if (paid) throw new HttpError(409, 'conflict', `the reward of ${address} in epoch ${id} is paid already`);
      const c = buildClaim(answer, { epochId: id, address: Address.parseRaw(address), distribution: claims.distribution, testOnly: claims.testOnly });
      return {
        epochId: c.epochId, index: c.index, address, amountNanoton: String(c.amountNanoton), root: c.root,
        distribution: c.distribution.toString({ bounceable: true, testOnly: claims.testOnly }), valueNanoton: String(c.value), bodyBoc: c.bodyBase64, link: c.link,
      };
    },
  );
};
