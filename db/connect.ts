/**
 * The read-model database: PostgreSQL through `pg` when a URL is given, else embedded PGlite
 * (a WASM PostgreSQL) in a directory — the zero-configuration default of `npm start`.
 *
 * Both return int8 columns as JS numbers (counts, unix ms, stream sequences: all < 2^53) and
 * numeric columns as decimal strings (nanoTON, token totals: converted with BigInt()).
 *
 * PostgreSQL may end any connection (a restart, a failover, `pg_terminate_backend`: SQLSTATE
 * 57P01). A pooled client that loses its connection, idle or checked out, is logged at warn and
 * dropped by the pool, which opens a new one on the next query; a query in flight fails with the
 * error, and its caller retries (projectors/runner.ts) or answers the request with an error (read API).
 */
import { mkdirSync } from 'node:fs';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { UnreachableError } from '../config/config.ts';
import type { Database } from './schema.ts';

export interface OpenDatabaseOptions {
  /** postgres://… ; when absent PGlite is used in `pgliteDir`. */
  url?: string;
  /** PGlite data directory (created if missing); required without `url`. */
  pgliteDir?: string;
  /** The setting `url` came from, named in connect errors; default DATABASE_URL. */
  setting?: string;
  /** Pool size for PostgreSQL; default 10. */
  maxConnections?: number;
  /** Where a lost idle connection is reported (warn); default: a process warning on stderr. */
  logger?: Logger;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** "postgres://host:port/db" (password removed) or "pglite:<dir>" */
  description: string;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * Opens the database (does not migrate; see db/migrate.ts).
 * @throws Error when neither `url` nor `pgliteDir` is given; UnreachableError naming the setting when
 * the server cannot be reached or refuses the connection.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  if (options.url) {
    const types = {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    };
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10, types });
    // A client whose connection ends emits 'error' (idle in the pool, or checked out between two
    // statements of a transaction); with no listener that is an uncaught exception and the process dies.
    const lost = (err: Error & { code?: string }) => {
      if (options.logger) options.logger.warn({ err, code: err.code }, 'PostgreSQL ended a connection; the pool opens a new one when needed');
      else process.emitWarning(`PostgreSQL ended a connection (${err.code ?? err.message}); the pool opens a new one when needed`);
    };
    pool.on('connect', (client) => client.on('error', lost));
    pool.on('error', () => undefined); // the pool's echo of an idle client's error: logged by `lost`
    try {
      const client = await pool.connect(); // fail fast with the server's own message
      client.release();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new UnreachableError(options.setting ?? 'DATABASE_URL', options.url, err);
    }
    const u = new URL(options.url);
    u.password = '';
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, description: u.toString(), close: () => db.destroy() };
  }
  if (!options.pgliteDir) throw new Error('openDatabase needs a PostgreSQL url or a PGlite directory');
  mkdirSync(options.pgliteDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = new PGlite(options.pgliteDir);
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return { db, description: `pglite:${options.pgliteDir}`, close: () => db.destroy() };
}
