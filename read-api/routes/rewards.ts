/**
 * An epoch's rewards table and its artifacts as files:
 *   GET /api/v1/epochs/:id/rewards?limit=&after=<leaf index>   the leaves, paged by index
 *   GET /api/v1/epochs/:id/artifacts                            its stored artifacts (references)
 *   GET /api/v1/epochs/:id/artifacts/:kind                      one artifact's bytes, as stored
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ArtifactRef, ArtifactStore } from '../../streams/artifacts.ts';
import { DecimalString, Decimal, decimalIn, EpochIdParam, epochCaching, epochIdIn, HttpError, INT4_MAX, limitIn, LimitParam, matchesEtag, NoQuery, notFound, OrNull, page } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** Options of {@link rewardsRoutes}: the read models and the object store the artifacts are in. */
export interface RewardsRouteOptions extends RouteOptions {
  /** The `pool_artifacts` object store (streams/artifacts.ts); absent: an artifact's bytes answer 503. */
  artifacts?: ArtifactStore;
}

/** The artifact kinds an epoch has, and the epochs column keeping each one's reference (db/migrations/0009). */
export const ARTIFACT_KINDS = { contributions: 'contributions_artifact', rewards: 'rewards_artifact' } as const;
export type ArtifactKind = keyof typeof ARTIFACT_KINDS;

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the stored bytes, lowercase hex' });

/** The 200 answer of GET /api/v1/epochs/:id/rewards. */
export const RewardsPage = Type.Object(
  {
    epochId: Type.Integer({ minimum: 1 }),
    merkleRoot: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Merkle root of the whole table, hex' }),
    leafCount: Type.Integer({ minimum: 0 }),
    rewards: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ minimum: 0, description: 'leaf index' }),
          address: Type.String({ description: 'raw address' }),
          amountNanoton: DecimalString('nanoTON'),
          status: Type.String({ description: 'pending | paid' }),
          txHash: OrNull(Type.String({ description: 'the transaction that paid it' })),
        },
        { additionalProperties: false },
      ),
    ),
    next: OrNull(Type.String({ pattern: '^[0-9]{1,10}$', description: 'the `after` of the next page (the last index of this one); null on the last page' })),
  },
  { additionalProperties: false },
);

/** The 200 answer of GET /api/v1/epochs/:id/artifacts. */
export const ArtifactList = Type.Object(
  {
    epochId: Type.Integer({ minimum: 1 }),
    artifacts: Type.Array(
      Type.Object(
        {
          kind: Type.String({ description: 'contributions | rewards' }),
          name: Type.String({ description: 'object name in the bucket' }),
          bucket: Type.String({ description: 'JetStream object store' }),
          sha256: Sha256,
          bytes: Type.Integer({ minimum: 0 }),
          rows: Type.Integer({ minimum: 0 }),
          url: Type.String({ description: 'path of its bytes on this API' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const KindParam = Type.String({ pattern: '^(contributions|rewards)$', description: 'an artifact kind: contributions | rewards' });
const LeafIndexParam = Decimal(`a leaf index, decimal 0..${INT4_MAX}`);

/**
 * The rewards and artifact routes (Fastify plugin).
 *
 * Rewards: `limit` 1..1000 (default 1000) leaves in index order after `after` (exclusive), with
 * `next` the cursor of the following page; 404 for no such epoch, and 404 too for an epoch that
 * has no rewards table yet (not computed: the same answer GET /epochs/:id/proofs/:address gives;
 * a table that will exist later is a resource that does not exist yet, not a conflict of state).
 *
 * Artifacts: the epoch's ArtifactRefs as its ContributionsFrozen and RewardsComputed events carry
 * them (kept by the epochs projection since migration 0009), and each one's bytes streamed from the
 * object store exactly as stored, so `sha256sum` of the download equals the reference's sha256 and a
 * third party rebuilds the epoch's Merkle root from the rewards file alone. The bytes answer has
 * `Content-Type: application/x-ndjson` (the line format of streams/artifacts.ts) or
 * `application/json` (the older single-array format: first byte `[`), `Content-Length`,
 * `ETag: "<sha256>"` and `Cache-Control: public, max-age=31536000, immutable` (an artifact never
 * changes under its reference); `If-None-Match` naming that tag answers 304 without reading the
 * store. 404 for no such epoch or no such artifact (not frozen or computed yet, or projected before
 * migration 0009: rebuild the read models); 503 without an artifact store; 500 (logged) when the
 * store lost the object. The bytes go out one object-store chunk (≤ 128 KiB) behind the read, the
 * last one only after the length and sha256 are checked: bytes that do not match the reference
 * answer 500 when they fit one chunk, else abort the response short of its Content-Length.
 */
export const rewardsRoutes: FastifyPluginAsyncTypebox<RewardsRouteOptions> = async (app, { db, artifacts }) => {
  app.get(
    '/api/v1/epochs/:id/rewards',
    {
      schema: {
        params: Type.Object({ id: EpochIdParam }),
        querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(LeafIndexParam) }, { additionalProperties: false }),
        response: { 200: RewardsPage, 304: Type.Null({ description: 'Not Modified: the epoch is settled and If-None-Match names this page\'s ETag' }) },
      },
    },
    async (req, reply) => {
      const id = epochIdIn(req.params.id, 'params/id');
      const limit = limitIn(req.query.limit);
      const after = req.query.after === undefined ? null : decimalIn(req.query.after, 'querystring/after', 0, INT4_MAX);
      const e = await db.selectFrom('epochs').select(['merkle_root', 'leaf_count', 'status']).where('epoch_id', '=', id).executeTakeFirst();
      if (!e) throw notFound(`no epoch ${id}`);
      if (!e.merkle_root) throw notFound(`epoch ${id} has no rewards table yet`);
      let q = db.selectFrom('rewards').select(['leaf_index', 'participant', 'amount_nanoton', 'status', 'tx_hash']).where('epoch_id', '=', id);
      if (after !== null) q = q.where('leaf_index', '>', after);
      const { items, next } = page(await q.orderBy('leaf_index').limit(limit + 1).execute(), limit, (r) => String(r.leaf_index));
      // a settled epoch's rewards are all paid: the page never changes again
      return epochCaching(req, reply, e.status === 'settled', {
        epochId: id,
        merkleRoot: e.merkle_root,
        leafCount: e.leaf_count ?? 0,
        rewards: items.map((r) => ({ index: r.leaf_index, address: r.participant, amountNanoton: r.amount_nanoton, status: r.status, txHash: r.tx_hash })),
        next,
      });
    },
  );

  app.get(
    '/api/v1/epochs/:id/artifacts',
    { schema: { params: Type.Object({ id: EpochIdParam }), querystring: NoQuery, response: { 200: ArtifactList } } },
    async (req) => {
      const id = epochIdIn(req.params.id, 'params/id');
      const e = await db.selectFrom('epochs').select(['contributions_artifact', 'rewards_artifact']).where('epoch_id', '=', id).executeTakeFirst();
      if (!e) throw notFound(`no epoch ${id}`);
      const list = (Object.entries(ARTIFACT_KINDS) as [ArtifactKind, (typeof ARTIFACT_KINDS)[ArtifactKind]][]).flatMap(([kind, column]) => {
        const ref = e[column];
        return ref ? [{ kind, name: ref.name, bucket: ref.bucket, sha256: ref.sha256, bytes: ref.bytes, rows: ref.rows, url: `/api/v1/epochs/${id}/artifacts/${kind}` }] : [];
      });
      return { epochId: id, artifacts: list };
    },
  );

  app.get(
    '/api/v1/epochs/:id/artifacts/:kind',
    {
      schema: {
        params: Type.Object({ id: EpochIdParam, kind: KindParam }),
        querystring: NoQuery,
        response: {
          200: {
            description: 'the stored bytes, exactly; application/json for an artifact of the older array format',
            headers: {
              etag: { type: 'string', description: '"<sha256>" of the bytes' },
              'cache-control': { type: 'string', description: 'public, max-age=31536000, immutable' },
            },
            content: {
              'application/x-ndjson': { schema: Type.String({ description: 'line 1 {"columns":[…]}, then one JSON array of values per row (streams/artifacts.ts)' }) },
              'application/json': { schema: Type.String({ description: 'one JSON array of row objects (artifacts written before issue 12)' }) },
            },
          },
          304: { description: 'If-None-Match names the ETag: the client has these bytes', type: 'null' },
        },
      },
    },
    async (req, reply) => {
      const id = epochIdIn(req.params.id, 'params/id');
      const kind = req.params.kind as ArtifactKind;
      const e = await db.selectFrom('epochs').select(ARTIFACT_KINDS[kind]).where('epoch_id', '=', id).executeTakeFirst();
      if (!e) throw notFound(`no epoch ${id}`);
      const ref = (e as Record<string, ArtifactRef | null>)[ARTIFACT_KINDS[kind]];
      if (!ref) throw notFound(`epoch ${id} has no ${kind} artifact (not ${kind === 'rewards' ? 'computed' : 'frozen'} yet, or projected before migration 0009: rebuild the read models)`);
      const etag = `"${ref.sha256}"`;
      reply.header('etag', etag).header('cache-control', 'public, max-age=31536000, immutable');
      if (matchesEtag(req.headers['if-none-match'], etag)) return reply.code(304).send(null);
      if (!artifacts) throw new HttpError(503, 'unavailable', 'this read API has no artifact store: artifact bytes cannot be served');
      const chunks = artifacts.getBytes(ref)[Symbol.asyncIterator]();
      const first = await chunks.next(); // a missing object fails here, before any header is sent (500, logged)
      // one chunk behind the store: the last chunk goes out only once getBytes has checked length and
      // sha256, so bytes that do not match the reference never reach the client whole
      const body = Readable.from(
        (async function* () {
          if (first.done) return;
          let held = first.value;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
            yield held;
            held = next.value;
          }
          yield held;
        })(),
        { objectMode: false },
      );
      // a client that goes away (or a failed read) destroys the body: end the object store's read too
      body.on('close', () => void chunks.return?.());
      const json = !first.done && first.value[0] === 0x5b;
      return reply
        .type(json ? 'application/json' : 'application/x-ndjson')
        .header('content-length', ref.bytes)
        .header('content-disposition', `attachment; filename="epoch-${id}-${kind}.${json ? 'json' : 'ndjson'}"`)
        .send(body as never); // a stream: sent as it is read, never serialized
    },
  );
};
