/** What every route plugin of the read API is registered with. */
import type { Address } from '@ton/core';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** Options of a route plugin (`app.register(plugin, options)`): the read models. */
export interface RouteOptions {
  db: Kysely<Database>;
  /** Where pull claims go (GET /api/v1/epochs/:id/claims/:address): the RewardDistribution, and whether its network is not mainnet (test-only addresses); absent: that route answers 503. */
  claims?: { distribution: Address; testOnly: boolean };
}
