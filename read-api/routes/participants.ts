/** Participants: GET /api/v1/participants/:address (registry, reputation, workers, tokens per epoch, rewards). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import Type from 'typebox';
import { addressIn, AddressParam, INT4_MAX, NoQuery, notFound } from '../common.ts';
import { contributionTotals } from '../../projectors/contributions.ts';
import { memberTokens, worker } from '../views.ts';
import type { RouteOptions } from './options.ts';

/** The participants' routes (Fastify plugin). */
export const participantsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { db }) => {
  app.get('/api/v1/participants/:address', { schema: { params: Type.Object({ address: AddressParam }), querystring: NoQuery } }, async (req) => {
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
