/** Participants: GET /api/v1/participants/:address (registry, reputation, workers, tokens per epoch, rewards). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import Type from 'typebox';
import { addressIn, AddressParam, DecimalString, INT4_MAX, NoQuery, notFound, OrNull } from '../common.ts';
import { contributionTotals } from '../../projectors/contributions.ts';
import { memberTokens, MemberTokens, Worker, worker } from '../views.ts';
import type { RouteOptions } from './options.ts';

const Count = Type.Integer({ minimum: 0 });
const Time = Type.String({ description: 'ISO 8601 time' });
const { epochId: _epochId, participant: _participant, ...claimedAndVerified } = MemberTokens.properties;

/** GET /api/v1/participants/:address: registry entry, reputation, workers, tokens per epoch and rewards. */
const Participant = Type.Object(
  {
    address: Type.String({ description: 'raw address' }),
    registry: OrNull(
      Type.Object(
        {
          status: Type.String({ description: 'active | suspended | left' }),
          stakeNanoton: DecimalString('nanoTON'),
          gpuSpecHash: Type.String(),
          gpuCount: Count,
          registeredAt: Time,
          pendingWithdrawalNanoton: DecimalString('nanoTON'),
          unlockAt: OrNull(Time),
          slashes: Count,
          slashedNanoton: DecimalString('nanoTON'),
        },
        { additionalProperties: false },
      ),
    ),
    reputation: Type.Integer({ description: 'reputation score (500 before any epoch)' }),
    reputationHistory: Type.Array(
      Type.Object({ epochId: Type.Integer({ minimum: 1 }), before: Type.Integer(), target: Type.Integer(), after: Type.Integer() }, { additionalProperties: false }),
    ),
    workers: Type.Array(Worker),
    contributions: Type.Array(
      Type.Object(
        {
          epochId: Type.Integer({ minimum: 1 }),
          workers: Count,
          adjustedTokens: DecimalString('adjusted tokens'),
          tasks: Count,
          tasksSucceeded: Count,
          successRate: OrNull(Type.Number({ minimum: 0, maximum: 1 })),
          uptimeSeconds: Type.Number({ minimum: 0, description: 'credited uptime, seconds' }),
          ...claimedAndVerified,
        },
        { additionalProperties: false },
      ),
    ),
    rewards: Type.Object(
      { earnedNanoton: DecimalString('nanoTON'), paidNanoton: DecimalString('nanoTON'), pendingNanoton: DecimalString('nanoTON') },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** The participants' routes (Fastify plugin). */
export const participantsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get('/api/v1/participants/:address', { schema: { params: Type.Object({ address: AddressParam }), querystring: NoQuery, response: { 200: Participant } } }, async (req) => {
    const address = addressIn(req.params.address, 'params/address');
    const [workers, contributions, rep, history, rewards, registry, tokens] = await Promise.all([
      db.selectFrom('workers').selectAll().where('participant', '=', address).orderBy('worker_id').execute(),
      contributionTotals(db, { participant: address }),
      db.selectFrom('reputation').selectAll().where('participant', '=', address).executeTakeFirst(),
      db.selectFrom('reputation_history').selectAll().where('participant', '=', address).orderBy('epoch_id').execute(),
      db.selectFrom('rewards').select(['status', sql<string>`sum(amount_nanoton)::text`.as('total')]).where('participant', '=', address).groupBy('status').execute(),
      db.selectFrom('participants').selectAll().where('participant', '=', address).executeTakeFirst(),
      memberTokens(db, { participant: address }, INT4_MAX),
    ]);
    if (!workers.length && !contributions.length && !rewards.length && !registry && !tokens.length) {
      throw notFound(`no participant ${address}: no worker, contribution, verified revenue, reward or registration`);
    }
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
      // per epoch: its workers' claims and, side by side, what the network paid it (memberTokens)
      contributions: tokens.map(({ epochId, participant: _, ...claimedAndVerified }) => {
        const c = contributions.find((x) => x.epochId === epochId);
        return {
          epochId, workers: c?.workers ?? 0, adjustedTokens: c?.adjustedTokens ?? '0', tasks: c?.tasks ?? 0, tasksSucceeded: c?.tasksSucceeded ?? 0,
          successRate: c?.tasks ? c.tasksSucceeded / c.tasks : null,
          uptimeSeconds: (c?.uptimeMs ?? 0) / 1000,
          ...claimedAndVerified,
        };
      }),
      rewards: {
        earnedNanoton: String(BigInt(byStatus.paid ?? '0') + BigInt(byStatus.pending ?? '0')),
        paidNanoton: byStatus.paid ?? '0',
        pendingNanoton: byStatus.pending ?? '0',
      },
    };
  });
};
