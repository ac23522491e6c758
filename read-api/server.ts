/**
 * The participants' read API (Fastify, JSON), served from the PostgreSQL read models.
 * Amounts are decimal strings of nanoTON; addresses are accepted raw (`0:<hex>`, workchain 0 or -1)
 * or user-friendly (EQ…/UQ…) and returned raw. Every route's params and query are validated
 * (TypeBox schemas, unknown query parameters refused, numbers as plain decimals within their
 * column's range); lists are bounded by `limit` (1..1000, default 1000) and paged by a cursor:
 * every list answer carries `next`, the value to pass back as the cursor parameter for the
 * following page, null on the last one (common.ts page).
 *
 *   GET /healthz                               GET /metrics (Prometheus)
 *   GET /api/v1/openapi.json (OpenAPI 3.1)      GET /api/v1/docs/ (Swagger UI over that document)
 *   GET /api/v1/workers?limit=&after=<id>       GET /api/v1/workers/:id
 *   GET /api/v1/participants/:address
 *   GET /api/v1/epochs?limit=&before=<id>       GET /api/v1/epochs/:id
 *   GET /api/v1/epochs/:id/proofs/:address      (Merkle proof for the participant's leaf)
 *   GET /api/v1/epochs/:id/claims/:address      (a pending reward's ClaimReward and ton://transfer link)
 *   GET /api/v1/workers/:id/stats?from=&to=&step=  (time series per bucket: routes/workerStats.ts)
 *   GET /api/v1/epochs/:id/contributions?limit=&after=<address>  (claimed and verified tokens per member)
 *   GET /api/v1/payouts?address=&epoch=&status=&before=<epoch>&cursor=<epoch>:<index>&limit=  (the pool's rewards)
 *   GET /api/v1/pool                            (fee, workers, participants, epochs, totals, stream position)
 *   GET /api/v1/participants?limit=&after=<address>
 *   GET /api/v1/epochs/:id/rewards?limit=&after=<leaf index>
 *   GET /api/v1/epochs/:id/artifacts            GET /api/v1/epochs/:id/artifacts/:kind (the stored bytes)
 *   GET /api/v1/participants/:address/export?format=koinly|csv&from=&to=  (rewards received, CSV: routes/exports.ts)
 *   GET /api/v1/events?from=&participant=&types=  (Server-Sent Events of the public events, when given the store: routes/events.ts)
 *   operator token (cli/start.ts registers them): /api/v1/alerts… (alerts.ts), GET /api/v1/dead-letters (deadLetters.ts)
 *
 * The answers about one settled epoch never change: `Cache-Control: public, max-age=31536000,
 * immutable` with an ETag (304 on If-None-Match); any other epoch's answers are `no-cache`.
 * CORS (`cors.origins`) is off unless origins are configured.
 *
 * Errors: every non-2xx answer is `{ error, message }`, plus `path` (`params/id`,
 * `querystring/limit`) when one parameter is at fault. A path naming one thing (a worker, a
 * participant, an epoch, a proof) is 404 when that thing does not exist; a list filtered by a
 * query (`/payouts?address=`) that matches nothing is 200 with an empty list.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { Kysely } from 'kysely';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Database } from '../db/schema.ts';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv, type ValidateFunction } from 'ajv';
import { BODY_LIMIT_BYTES, CLIENT_ERRORS, ErrorBody, HttpError, NoQuery } from './common.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { epochsRoutes } from './routes/epochs.ts';
import type { RouteOptions } from './routes/options.ts';
import { eventsRoutes, type EventsRouteOptions } from './routes/events.ts';
import { exportsRoutes, type PriceTable } from './routes/exports.ts';
import { participantsRoutes } from './routes/participants.ts';
import { participantsListRoutes } from './routes/participantsList.ts';
import { payoutsRoutes } from './routes/payouts.ts';
import { poolRoutes } from './routes/pool.ts';
import { rewardsRoutes } from './routes/rewards.ts';
import { workersRoutes } from './routes/workers.ts';
import { workerStatsRoutes } from './routes/workerStats.ts';
import type { ArtifactStore } from '../streams/artifacts.ts';

export { INT4_MAX, MAX_LIMIT } from './common.ts';

export interface ReadApiOptions {
  db: Kysely<Database>;
  logger: Logger;
  /**
   * The pool's dependencies besides the database, checked by /healthz: each resolves with its
   * facts (merged into the answer under its name) or throws the reason it is down.
   */
  dependencies?: Record<string, () => Promise<Record<string, unknown>>>;
  /** How long /healthz waits for one dependency before it reports it down; default 1000 ms. */
  healthTimeoutMs?: number;
  /** Prometheus registry served on GET /metrics (read-api/metrics.ts) */
  metrics?: Registry;
  /** The epoch artifacts' object store, for GET /api/v1/epochs/:id/artifacts/:kind; absent: that route answers 503. */
  artifacts?: ArtifactStore;
  /** The event stream's last sequence, shown by GET /api/v1/pool; absent: null there. */
  streamSequence?: () => Promise<number>;
  /** The operator fee the pool computes epochs with (config `rewards.operatorFeeBps`), shown by GET /api/v1/pool; absent: the last computed epoch's. */
  operatorFeeBps?: number;
  /** The event store (the read-api role's): GET /api/v1/events is served only when given. */
  store?: EventStore;
  /** Bounds of GET /api/v1/events (read-api/routes/events.ts); defaults there. */
  events?: Pick<EventsRouteOptions, 'maxClients' | 'heartbeatMs' | 'stallTimeoutMs'>;
  /** Daily TON prices for the fiat column of the tax export (loadPriceFile, read-api/routes/exports.ts); none: empty cells. */
  prices?: PriceTable;
  /** Where pull claims go (GET /api/v1/epochs/:id/claims/:address, routes/options.ts); absent: that route answers 503. */
  claims?: RouteOptions['claims'];
  /**
   * Browser origins allowed to call the API (CORS, @fastify/cors): exact origins such as
   * `https://pool.example` or `*` for any; absent or empty, no CORS header is sent and a preflight
   * OPTIONS is 405 like any other method a route does not take.
   */
  cors?: { origins: string[] };
  /**
   * Validate every 2xx answer against its route's response schema before it is serialized (the
   * serializer would silently drop a property the schema lacks); a mismatch is a 500 logged with
   * the schema errors. For tests: it costs a validation per answer.
   */
  checkResponses?: boolean;
}

/** A Fastify route pattern (`/api/v1/epochs/:id`) as a regular expression over concrete paths. */
function routePattern(url: string): RegExp {
  const escaped = url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${escaped.join('/')}$`);
}

/** The `{ error, message, path }` of an AJV validation failure, naming the parameter and the rule it broke. */
function validationMessage(err: FastifyError): { message: string; path: string } {
  const v = err.validation![0]! as { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string; parentSchema?: { description?: string }; data?: unknown };
  const context = err.validationContext ?? 'request';
  if (v.keyword === 'additionalProperties') {
    const path = `${context}/${String(v.params.additionalProperty)}`;
    return { path, message: `${path} is not a known parameter` };
  }
  if (v.keyword === 'required') {
    const path = `${context}/${String(v.params.missingProperty)}`;
    return { path, message: `${path} is required` };
  }
  const path = `${context}${v.instancePath}`;
  const rule = v.parentSchema?.description ? `must be ${v.parentSchema.description}` : (v.message ?? 'is invalid');
  const got = v.data === undefined ? '' : ` (got ${JSON.stringify(v.data)?.slice(0, 120)})`;
  return { path, message: `${path} ${rule}${got}` };
}

/**
 * Builds the server (not listening). Trees for proofs are rebuilt from the rewards table once per
 * epoch and process, checked against the epoch's stored Merkle root, and cached (the last 4
 * epochs, ~180 bytes a leaf); a proof request is then one indexed read plus the proof's BoC
 * written from the cached hashes (RewardsTree.proofBoc, tens of microseconds).
 *
 * Every answer that is not 2xx is `{ error, message }` (`path` added for a bad parameter): 400 for
 * a parameter outside its schema or its column's range, 404 for a resource that does not exist or
 * an unknown route, 405 (with `Allow`) for a known path with another method, 413 for a body (no
 * route takes one). A 5xx only comes from a fault of the server itself, logged at error with the
 * request id that its message quotes.
 */
export function buildReadApi(options: ReadApiOptions): ReadApi {
  const { db } = options;
  const logger = options.logger.child({ component: 'read-api' });
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // longer params reach their schema (a 400 naming the limit), not a router 404
    routerOptions: { maxParamLength: 16_384 },
    // unknown query parameters are refused, not silently dropped; errors carry the rule and the value
    ajv: { customOptions: { removeAdditional: false, verbose: true } },
    clientErrorHandler(err: NodeJS.ErrnoException, socket) {
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify({ error: CLIENT_ERRORS[status], message: `malformed HTTP request (${err.code ?? err.message})` });
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: FastifyError, req, reply) => {
    // an error is no cacheable file: drop what a file answer set before it failed (routes/rewards.ts)
    for (const header of ['etag', 'cache-control', 'content-disposition']) reply.removeHeader(header);
    if (err.validation?.length) return reply.code(400).send({ error: 'bad_request', ...validationMessage(err) });
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.error, message: err.message, ...(err.path ? { path: err.path } : {}) });
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: CLIENT_ERRORS[status] ?? 'client_error', message: err.message });
    logger.error({ err, reqId: req.id, method: req.method, url: req.url }, 'read API request failed');
    return reply.code(500).send({ error: 'internal', message: `internal error (request ${req.id}); the server logged it` });
  });

  // a body announced bigger than any route could take is refused before routing, whatever the method
  app.addHook('onRequest', async (req) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > BODY_LIMIT_BYTES) throw new HttpError(413, 'payload_too_large', `request body of ${length} bytes: no route takes a body over ${BODY_LIMIT_BYTES} bytes`);
  });

  // 404 or 405: a path some route serves with another method answers 405 with the methods it allows
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    // every /api/v1 route declares the error shape for its 4xx and 5xx answers (OpenAPI, serialization);
    // /healthz answers its own 503 body
    if (route.url.startsWith('/api/v1/') && !route.schema?.hide) route.schema = { ...route.schema, response: { '4xx': ErrorBody, '5xx': ErrorBody, ...(route.schema?.response as object | undefined) } };
    routes.push({ pattern: routePattern(route.url ?? route.path), methods: ([] as string[]).concat(route.method) });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length) {
      return reply.code(405).header('allow', allowed.join(', ')).send({ error: 'method_not_allowed', message: `${req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})` });
    }
    return reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${path}` });
  });

  // Answers within healthTimeoutMs whatever is down: 200 when every dependency answered,
  // else 503 with the reason of each one that did not (a load balancer or supervisor acts on it).
  const healthTimeoutMs = options.healthTimeoutMs ?? 1000;
  const checks: Record<string, () => Promise<Record<string, unknown>>> = {
    database: async () => {
      const projections = await db.selectFrom('projection_checkpoints').select(['name', 'position']).orderBy('name').execute();
      return { projections: Object.fromEntries(projections.map((p) => [p.name, p.position])) };
    },
    ...options.dependencies,
  };
  app.get('/healthz', { schema: { querystring: NoQuery } }, async (_req, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${healthTimeoutMs} ms`)), healthTimeoutMs);
        });
        try {
          return { name, up: true as const, facts: await Promise.race([check(), timeout]) };
        } catch (err) {
          return { name, up: false as const, reason: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const down = results.filter((r) => !r.up);
    const body: Record<string, unknown> = { status: down.length ? 'unavailable' : 'ok' };
    for (const r of results) body[r.name] = r.up ? { status: 'up', ...r.facts } : { status: 'down', reason: r.reason };
    if (down.length) body.reasons = down.map((r) => `${r.name}: ${r.reason}`);
    return reply.code(down.length ? 503 : 200).send(body);
  });

  if (options.checkResponses) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const compiled = new WeakMap<object, ValidateFunction>();
    app.addHook('preSerialization', async (req, reply, payload) => {
      const schema = (req.routeOptions.schema?.response as Record<string, object> | undefined)?.[String(reply.statusCode)];
      if (!schema || reply.statusCode >= 300) return payload;
      let validate = compiled.get(schema);
      if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
      if (!validate(payload)) throw new Error(`${req.method} ${req.routeOptions.url} answered outside its ${reply.statusCode} schema: ${ajv.errorsText(validate.errors)}`);
      return payload;
    });
  }

  // CORS only for the configured origins (none by default); its OPTIONS route answers preflights
  const origins = options.cors?.origins ?? [];
  if (origins.length) app.register(cors, { origin: origins.includes('*') ? '*' : origins, methods: ['GET', 'HEAD', 'POST', 'DELETE'] });

  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', { schema: { querystring: NoQuery } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  }

  // OpenAPI 3.1 document of every route registered after it, from the routes' TypeBox schemas
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Cocoon pool read API', version: '1' },
      // the operator routes (read-api/alerts.ts): `Authorization: Bearer <the operator token>`
      components: { securitySchemes: { operatorToken: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true, querystring: NoQuery } }, async () => app.swagger());
  // the document browsable (Swagger UI); it reads the same document from /api/v1/docs/json and stays out of it
  app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
  registerRoutes(app, { db, artifacts: options.artifacts, streamSequence: options.streamSequence, operatorFeeBps: options.operatorFeeBps, store: options.store, events: options.events, prices: options.prices, claims: options.claims });
  return app;
}

/** The Fastify app {@link buildReadApi} builds (TypeBox type provider). */
export type ReadApi = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;

/**
 * Registers every /api/v1 route plugin (read-api/routes/*.ts) on the app; one more plugin (such as
 * read-api/alerts.ts) is one more `app.register(plugin, { db, ... })` line here. The options
 * besides `db` (artifact store, stream position, configured fee) are for the plugins that use them
 * (read-api/routes/rewards.ts, pool.ts); each is optional. Each plugin
 * inherits the app's error handler, 404/405 handling and validation.
 */
export function registerRoutes(app: ReadApi, options: { db: Kysely<Database> } & Pick<ReadApiOptions, 'artifacts' | 'streamSequence' | 'operatorFeeBps' | 'store' | 'events' | 'prices' | 'claims'>) {
  app.register(workersRoutes, options);
  app.register(participantsRoutes, options);
  app.register(epochsRoutes, options);
  app.register(payoutsRoutes, options);
  app.register(workerStatsRoutes, options);
  app.register(poolRoutes, options);
  app.register(participantsListRoutes, options);
  app.register(rewardsRoutes, options);
  app.register(exportsRoutes, { db: options.db, prices: options.prices, claims: options.claims });
  if (options.store) app.register(eventsRoutes, { db: options.db, store: options.store, ...options.events });
}

