/** What every route plugin of the read API is registered with. */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** Options of a route plugin (`app.register(plugin, options)`): the read models. */
export interface RouteOptions {
  db: Kysely<Database>;
}
