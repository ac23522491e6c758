/**
 * The read-model database, always PostgreSQL through `pg`: the server at a URL when one is given,
 * else the pool's own embedded server on a cluster directory (db/embedded.ts) — the
 * zero-configuration default of `npm start`. Same driver, same SQL either way.
 *
 * Int8 columns as JS numbers (counts, unix ms, stream sequences: all < 2^53) and
 * numeric columns as decimal strings (nanoTON, token totals: converted with BigInt()).
 *
 * PostgreSQL may end any connection (a restart, a failover, `pg_terminate_backend`: SQLSTATE
 * 57P01). A pooled client that loses its connection, idle or checked out, is logged at warn and
 * dropped by the pool, which opens a new one on the next query; a query in flight fails with the
 * error, and its caller retries (projectors/runner.ts) or answers the request with an error (read API).
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { UnreachableError } from '../config/config.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import type { Database } from './schema.ts';

export interface OpenDatabaseOptions {
  /** postgres://… ; when absent the embedded PostgreSQL server (db/embedded.ts) runs on `embeddedDir`. */
  url?: string;
  /** The embedded server's cluster directory (initialised on first start); required without `url`. */
  embeddedDir?: string;
  /** The setting `url` came from, named in connect errors; default DATABASE_URL. */
  setting?: string;
  /** Pool size; default 10. */
  maxConnections?: number;
  /** Where a lost connection (warn) and an embedded server's unexpected exit (error) are reported; default: a process warning on stderr. */
  logger?: Logger;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** "postgres://host:port/db" (password removed) or "embedded PostgreSQL 18.4 (pid 123, <dir>)" */
  description: string;
  /** pid of the embedded server's postmaster; null for a server at a url */
  serverPid: number | null;
  /** Closes the pool, then stops the embedded server (when there is one). */
  close(): Promise<void>;
}

const INT8_OID = 20;

/** A `pg` pool with int8 as numbers and lost connections reported rather than fatal. */
function openPool(config: pg.PoolConfig, logger: Logger | undefined): pg.Pool {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ ...config, types });
  // A client whose connection ends emits 'error' (idle in the pool, or checked out between two
  // statements of a transaction); with no listener that is an uncaught exception and the process dies.
  const lost = (err: Error & { code?: string }) => {
    if (logger) logger.warn({ err, code: err.code }, 'PostgreSQL ended a connection; the pool opens a new one when needed');
    else process.emitWarning(`PostgreSQL ended a connection (${err.code ?? err.message}); the pool opens a new one when needed`);
  };
  pool.on('connect', (client) => client.on('error', lost));
  pool.on('error', () => undefined); // the pool's echo of an idle client's error: reported by `lost`
  return pool;
}

/**
 * Opens the database (does not migrate; see db/migrate.ts): the server at `url`, else the
 * embedded server on `embeddedDir`, started here and stopped by `close`.
 * @throws Error when neither `url` nor `embeddedDir` is given; UnreachableError naming the setting when
 * the server at `url` cannot be reached or refuses the connection; EmbeddedPostgresError (db/embedded.ts)
 * when the embedded server cannot start.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const max = options.maxConnections ?? 10;
  if (options.url) {
    const pool = openPool({ connectionString: options.url, max }, options.logger);
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
    return { db, description: u.toString(), serverPid: null, close: () => db.destroy() };
  }
  if (!options.embeddedDir) throw new Error('openDatabase needs a PostgreSQL url or an embedded cluster directory');
  const server = await startEmbeddedPostgres({ dir: options.embeddedDir });
  const description = `embedded PostgreSQL ${server.version} (pid ${server.pid}, ${server.dir})`;
  let closing = false;
  void server.exited.then(({ code, signal }) => {
    if (closing) return;
    const message = `${description} exited unexpectedly (${signal ?? `code ${code}`}; its log: ${server.dir}/server.log); every query fails until the pool restarts`;
    if (options.logger) options.logger.error({ code, signal }, message);
    else process.emitWarning(message);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPool({ ...server.connection, max }, options.logger) }) });
  return {
    db,
    description,
    serverPid: server.pid,
    async close() {
      closing = true;
      try {
        await db.destroy();
      } finally {
        await server.stop();
      }
    },
  };
}
