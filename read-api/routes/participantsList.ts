/** Participants, listed: GET /api/v1/participants?limit=&after=<address> (paged by address). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import Type from 'typebox';
import { addressIn, AddressParam, DecimalString, limitIn, LimitParam, OrNull, page } from '../common.ts';
import type { RouteOptions } from './options.ts';

/** One row of GET /api/v1/participants. */
export const ParticipantRow = Type.Object(
  {
    address: Type.String({ description: 'raw address' }),
    registryStatus: OrNull(Type.String({ description: 'active | suspended | left, as the on-chain registry has it; null when never registered' })),
    workers: Type.Integer({ minimum: 0, description: 'workers bound to the participant' }),
    reputation: Type.Integer({ description: 'reputation score (500 before its first computed epoch)' }),
    earnedNanoton: DecimalString('nanoTON: Σ of its rewards, paid or pending'),
    paidNanoton: DecimalString('nanoTON: Σ of its rewards paid on chain (batch or claim)'),
  },
  { additionalProperties: false },
);

/** The 200 answer of GET /api/v1/participants. */
export const ParticipantsPage = Type.Object(
  {
    participants: Type.Array(ParticipantRow),
    next: OrNull(Type.String({ description: 'the `after` of the next page (the last address of this one); null on the last page' })),
  },
  { additionalProperties: false },
);

/** The tables a participant appears in (participants.ts answers 404 for an address in none of them) and their participant column. */
const SOURCES = [
  ['participants', 'participant'],
  ['workers', 'participant'],
  ['contributions', 'participant'],
  ['rewards', 'participant'],
  ['member_revenue', 'member'],
  ['token_credits', 'participant'],
] as const;

/**
 * GET /api/v1/participants (Fastify plugin): every participant the API knows, registered or not —
 * an address in the registry, bound to a worker, with a contribution, a reward, verified revenue
 * or a token credit (exactly those GET /api/v1/participants/:address answers 200 for) — ordered
 * by raw address, `limit` (1..1000, default 1000) a page, `after` the address the page starts
 * after (raw or user-friendly). Each source is read by its participant index up to `limit + 1`
 * addresses after the cursor, so a page costs the same wherever it starts.
 */
export const participantsListRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get(
    '/api/v1/participants',
    {
      schema: {
        querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(AddressParam) }, { additionalProperties: false }),
        response: { 200: ParticipantsPage },
      },
    },
    async (req) => {
      const limit = limitIn(req.query.limit);
      const after = req.query.after === undefined ? null : addressIn(req.query.after, 'querystring/after');
      const afterCursor = (column: string) => sql`${sql.ref(column)} is not null ${after === null ? sql`` : sql`and ${sql.ref(column)} > ${after}`}`;
      const keys = await sql<{ address: string }>`
        select address from (
          ${sql.join(
            SOURCES.map(([table, column]) => sql`(select distinct ${sql.ref(column)} as address from ${sql.table(table)} where ${afterCursor(column)} order by 1 limit ${limit + 1})`),
            sql` union `,
          )}
        ) k order by address limit ${limit + 1}`.execute(db);
      const { items, next } = page(keys.rows, limit, (r) => r.address);
      const addresses = items.map((r) => r.address);
      if (!addresses.length) return { participants: [], next: null };
      const [registry, workers, reputation, rewards] = await Promise.all([
        db.selectFrom('participants').select(['participant', 'status']).where('participant', 'in', addresses).execute(),
        db.selectFrom('workers').select(['participant', sql<number>`count(*)::int`.as('n')]).where('participant', 'in', addresses).groupBy('participant').execute(),
        db.selectFrom('reputation').select(['participant', 'score']).where('participant', 'in', addresses).execute(),
        db
          .selectFrom('rewards')
          .select(['participant', sql<string>`sum(amount_nanoton)::text`.as('earned'), sql<string>`coalesce(sum(amount_nanoton) filter (where status = 'paid'), 0)::text`.as('paid')])
          .where('participant', 'in', addresses)
          .groupBy('participant')
          .execute(),
      ]);
      const by = <R extends { participant: string | null }>(rows: R[]) => new Map(rows.map((r) => [r.participant!, r]));
      const [reg, work, rep, rew] = [by(registry), by(workers), by(reputation), by(rewards)];
      return {
        participants: addresses.map((address) => ({
          address,
          registryStatus: reg.get(address)?.status ?? null,
          workers: work.get(address)?.n ?? 0,
          reputation: rep.get(address)?.score ?? 500,
          earnedNanoton: rew.get(address)?.earned ?? '0',
          paidNanoton: rew.get(address)?.paid ?? '0',
        })),
        next,
      };
    },
  );
};
