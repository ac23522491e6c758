/**
 * The participants' read API (Fastify, JSON), served from the PostgreSQL read models.
 * Amounts are decimal strings of nanoTON; addresses are accepted raw (`0:<hex>`, workchain 0 or -1)
 * or user-friendly (EQ…/UQ…) and returned raw. Every route's params and query are validated
 * (TypeBox schemas, unknown query parameters refused, numbers as plain decimals within their
 * column's range); lists are bounded by `limit` (1..1000, default 1000) and paged by a cursor.
 *
 *   GET /healthz                               GET /metrics (Prometheus)
 *   GET /api/v1/workers?limit=&after=<id>       GET /api/v1/workers/:id
 *   GET /api/v1/participants/:address
 *   GET /api/v1/epochs?limit=&before=<id>       GET /api/v1/epochs/:id
 *   GET /api/v1/epochs/:id/proofs/:address      (Merkle proof for the participant's leaf)
 *   GET /api/v1/epochs/:id/contributions?limit=&after=<address>  (claimed and verified tokens per member)
 *   GET /api/v1/payouts?address=&epoch=&before=&limit=
 *
 * Errors: every non-2xx answer is `{ error, message }`, plus `path` (`params/id`,
 * `querystring/limit`) when one parameter is at fault. A path naming one thing (a worker, a
 * participant, an epoch, a proof) is 404 when that thing does not exist; a list filtered by a
 * query (`/payouts?address=`) that matches nothing is 200 with an empty list.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Address } from '@ton/core';
import Fastify, { LogController, type FastifyError } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import Type from 'typebox';
import { parseRawAddress } from '../domain/address.ts';
import { buildRewardsTree, type RewardsTree } from '../domain/merkle/index.ts';
import type { Database, EpochsTable, WorkersTable } from '../db/schema.ts';

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
}

/** Largest value of a PostgreSQL `integer` column (epochs.epoch_id, rewards.epoch_id: db/migrations/0001). */
export const INT4_MAX = 2_147_483_647;
/** Most items one list response holds (`limit`). */
export const MAX_LIMIT = 1000;
/** No route takes a body; anything bigger than this is refused with 413 before it is read whole. */
const BODY_LIMIT_BYTES = 1024;

/** An answer other than 2xx: `{ error, message }` (plus `path` for a bad parameter). */
class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

const notFound = (message: string) => new HttpError(404, 'not_found', message);
const badRequest = (path: string, message: string) => new HttpError(400, 'bad_request', `${path} ${message}`, path);

/** The `error` of each 4xx a client can cause (Fastify's own errors carry only a status code). */
const CLIENT_ERRORS: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

/**
 * A decimal integer in the URL exactly as the client wrote it: digits only, so `Infinity`, `NaN`,
 * `1e3`, `0x10`, `-1` and ` 1` are refused instead of coerced (Fastify's AJV would coerce most of
 * them). The range is checked by `decimalIn`, since a pattern cannot say "≤ 2147483647".
 */
const Decimal = (description: string) => Type.String({ pattern: '^[0-9]{1,10}$', description });
const EpochIdParam = Decimal(`an epoch id, decimal 1..${INT4_MAX}`);
const LimitParam = Decimal(`a count, decimal 1..${MAX_LIMIT}`);
const AddressParam = Type.String({ minLength: 1, maxLength: 100, description: 'a TON address, raw 0:<64 hex> or 48-character user-friendly' });
const WorkerIdParam = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'a worker id: 1..64 of A-Z a-z 0-9 _ -' });

const DecimalString = (description: string) => Type.String({ pattern: '^(0|[1-9][0-9]*)$', description });
const OrNull = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A member's tokens in one epoch, claimed and verified side by side (issue 11): `claimedTokens`
 * its workers' adjusted tokens (/jsonstats; frozen ones once the epoch is computed with formula 2),
 * `verifiedTokens` and `verifiedRevenueNanoton` what the network paid it through its forwarder
 * (projectors/memberRevenue.ts); for an epoch computed with formula 2, `creditedTokens` (what its
 * token component counted), the carries out and `divergent` (domain/rewardsV2.ts), else null.
 */
const MemberTokens = Type.Object(
  {
    epochId: Type.Integer({ minimum: 1 }),
    participant: Type.String({ description: 'raw address' }),
    claimedTokens: DecimalString('adjusted tokens'),
    verifiedTokens: DecimalString('adjusted tokens'),
    verifiedRevenueNanoton: DecimalString('nanoTON'),
    creditedTokens: OrNull(DecimalString('adjusted tokens')),
    unpaidClaimsTokens: OrNull(DecimalString('adjusted tokens')),
    unclaimedPaymentsTokens: OrNull(DecimalString('adjusted tokens')),
    divergent: OrNull(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** {@link MemberTokens} rows of one epoch or one participant, ordered by epoch then participant, after `after` (epoch, participant). */
async function memberTokens(db: Kysely<Database>, filter: { epochId: number } | { participant: string }, limit: number, after?: { epochId: number; participant: string }) {
  const where = (column: string) => ('epochId' in filter ? sql`epoch_id = ${filter.epochId}` : sql`${sql.ref(column)} = ${filter.participant}`);
  const rows = await sql<{
    epoch_id: number; participant: string; claimed_tokens: string; verified_tokens: string; verified_revenue_nanoton: string;
    credited_tokens: string | null; unpaid_claims_out: string | null; unclaimed_payments_out: string | null; divergent: boolean | null;
  }>`
    with keys as (
      select epoch_id, participant from contributions where ${where('participant')}
      union select epoch_id, member from member_revenue where ${where('member')}
      union select epoch_id, participant from token_credits where ${where('participant')}
    )
    select k.epoch_id, k.participant,
      coalesce(t.claimed_tokens, c.claimed, 0)::text as claimed_tokens,
      coalesce(m.verified_tokens, 0)::text as verified_tokens,
      coalesce(m.verified_revenue_nanoton, 0)::text as verified_revenue_nanoton,
      t.credited_tokens::text as credited_tokens, t.unpaid_claims_out::text as unpaid_claims_out,
      t.unclaimed_payments_out::text as unclaimed_payments_out, t.divergent
    from keys k
    left join lateral (select sum(adjusted_tokens) as claimed from contributions c where c.epoch_id = k.epoch_id and c.participant = k.participant) c on true
    left join member_revenue m on m.epoch_id = k.epoch_id and m.member = k.participant
    left join token_credits t on t.epoch_id = k.epoch_id and t.participant = k.participant
    where ${after ? sql`(k.epoch_id, k.participant) > (${after.epochId}, ${after.participant})` : sql`true`}
    order by k.epoch_id, k.participant
    limit ${limit}`.execute(db);
  return rows.rows.map((r) => ({
    epochId: r.epoch_id, participant: r.participant, claimedTokens: r.claimed_tokens, verifiedTokens: r.verified_tokens, verifiedRevenueNanoton: r.verified_revenue_nanoton,
    creditedTokens: r.credited_tokens, unpaidClaimsTokens: r.unpaid_claims_out, unclaimedPaymentsTokens: r.unclaimed_payments_out, divergent: r.divergent,
  }));
}

/** `value` (already matching `Decimal`) as a number in [min, max]. @throws HttpError 400 naming `path`. */
function decimalIn(value: string, path: string, min: number, max: number): number {
  const n = Number(value);
  if (n < min || n > max) throw badRequest(path, `must be ${min}..${max} (got ${JSON.stringify(value)})`);
  return n;
}

const epochIdIn = (value: string, path: string) => decimalIn(value, path, 1, INT4_MAX);

/**
 * A participant address from the URL, raw (`0:<hex>`) as stored. Only workchains 0 and -1 exist
 * for the pool; the input is parsed as written (no trimming, no number coercion of the workchain).
 * @throws HttpError 400 naming `path` with the reason.
 */
function addressIn(value: string, path: string): string {
  const raw = /^(-?[0-9]+):([0-9a-fA-F]*)$/.exec(value);
  if (raw) {
    if (raw[1] !== '0' && raw[1] !== '-1') throw badRequest(path, `has workchain ${raw[1]}: only 0 (basechain) and -1 (masterchain) exist`);
    if (raw[2]!.length !== 64) throw badRequest(path, `must have 64 hex digits after the workchain (got ${raw[2]!.length})`);
    return `${raw[1]}:${raw[2]!.toLowerCase()}`;
  }
  if (!Address.isFriendly(value)) throw badRequest(path, `is not a TON address: expected raw 0:<64 hex> or a 48-character user-friendly form (got ${JSON.stringify(value)})`);
  let parsed: Address;
  try {
    parsed = Address.parseFriendly(value).address;
  } catch (err) {
    throw badRequest(path, `is not a valid user-friendly TON address: ${(err as Error).message.split(':')[0]}`);
  }
  if (parsed.workChain !== 0 && parsed.workChain !== -1) throw badRequest(path, `has workchain ${parsed.workChain}: only 0 (basechain) and -1 (masterchain) exist`);
  return parsed.toRawString();
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

function worker(w: WorkersTable) {
  return {
    id: w.worker_id,
    participant: w.participant,
    endpoint: w.endpoint,
    status: w.status,
    healthy: w.healthy,
    healthReasons: w.health_reasons,
    lastSeenAt: w.last_seen_at_ms === null ? null : new Date(w.last_seen_at_ms).toISOString(),
    consecutiveFailures: w.consecutive_failures,
    pollsOk: w.polls_ok,
    pollsFailed: w.polls_failed,
    uptimeSeconds: w.uptime_ms / 1000,
    restarts: w.restarts,
    // samples that were not credible and credited nothing (domain/telemetry.ts)
    anomalous: w.anomalous,
    anomalies: w.anomalies,
    lastAnomaly: w.last_anomaly && { at: new Date(w.last_anomaly.atMs).toISOString(), reason: w.last_anomaly.reason, detail: w.last_anomaly.detail },
    gitCommit: w.git_commit,
    model: w.model,
    ownerAddress: w.owner_address,
    walletBalanceNanoton: w.wallet_balance_nanoton,
    adjustedTokens: w.adjusted_tokens,
  };
}

function epoch(e: EpochsTable) {
  const ms = (v: number | null) => (v === null ? null : new Date(v).toISOString());
  return {
    id: e.epoch_id,
    status: e.status,
    startedAt: ms(e.started_at_ms),
    endsAt: ms(e.ends_at_ms),
    closedAt: ms(e.closed_at_ms),
    revenueNanoton: e.revenue_nanoton,
    carryInNanoton: e.carry_in_nanoton,
    operatorFeeNanoton: e.operator_fee_nanoton,
    rewardsNanoton: e.rewards_nanoton,
    slashedNanoton: e.slashed_nanoton,
    carryOutNanoton: e.carry_out_nanoton,
    eligibleParticipants: e.eligible,
    leafCount: e.leaf_count,
    merkleRoot: e.merkle_root,
    formulaVersion: e.formula_version,
    params: e.params,
    rootTxHash: e.root_tx_hash,
    batchesPlanned: e.batches_planned,
    batchesConfirmed: e.batches_confirmed,
    payoutsConfirmed: e.payouts_confirmed,
    paidNanoton: e.paid_nanoton,
    settledAt: ms(e.settled_at_ms),
  };
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
export function buildReadApi(options: ReadApiOptions) {
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
  const trees = new Map<number, Promise<RewardsTree>>();

  app.setErrorHandler((err: FastifyError, req, reply) => {
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

  const NoQuery = Type.Object({}, { additionalProperties: false });
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

  const metrics = options.metrics;
  if (metrics) {
    app.get('/metrics', { schema: { querystring: NoQuery } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  }

  app.get(
    '/api/v1/workers',
    { schema: { querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(WorkerIdParam) }, { additionalProperties: false }) } },
    async (req) => {
      const limit = req.query.limit === undefined ? MAX_LIMIT : decimalIn(req.query.limit, 'querystring/limit', 1, MAX_LIMIT);
      let q = db.selectFrom('workers').selectAll();
      if (req.query.after !== undefined) q = q.where('worker_id', '>', req.query.after);
      const rows = await q.orderBy('worker_id').limit(limit).execute();
      return { workers: rows.map(worker) };
    },
  );

  app.get('/api/v1/workers/:id', { schema: { params: Type.Object({ id: WorkerIdParam }), querystring: NoQuery } }, async (req) => {
    const w = await db.selectFrom('workers').selectAll().where('worker_id', '=', req.params.id).executeTakeFirst();
    if (!w) throw notFound(`no worker ${req.params.id}`);
    const contributions = await db.selectFrom('contributions').selectAll().where('worker_id', '=', w.worker_id).orderBy('epoch_id').execute();
    return {
      ...worker(w),
      contributions: contributions.map((c) => ({
        epochId: c.epoch_id, participant: c.participant, adjustedTokens: c.adjusted_tokens, tasks: c.tasks, tasksSucceeded: c.tasks_succeeded,
        uptimeSeconds: c.uptime_ms / 1000, pollsOk: c.polls_ok, pollsFailed: c.polls_failed, restarts: c.restarts,
      })),
    };
  });

  app.get('/api/v1/participants/:address', { schema: { params: Type.Object({ address: AddressParam }), querystring: NoQuery } }, async (req) => {
    const address = addressIn(req.params.address, 'params/address');
    const [workers, contributions, rep, history, rewards, registry, tokens] = await Promise.all([
      db.selectFrom('workers').selectAll().where('participant', '=', address).orderBy('worker_id').execute(),
      db
        .selectFrom('contributions')
        .select([
          'epoch_id',
          sql<number>`count(distinct worker_id)::int`.as('workers'),
          sql<string>`sum(adjusted_tokens)::text`.as('adjusted_tokens'),
          sql<number>`sum(tasks)::int8`.as('tasks'),
          sql<number>`sum(tasks_succeeded)::int8`.as('tasks_succeeded'),
          sql<number>`sum(uptime_ms)::int8`.as('uptime_ms'),
        ])
        .where('participant', '=', address)
        .groupBy('epoch_id')
        .orderBy('epoch_id')
        .execute(),
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
        const c = contributions.find((x) => x.epoch_id === epochId);
        return {
          epochId, workers: c?.workers ?? 0, adjustedTokens: c?.adjusted_tokens ?? '0', tasks: Number(c?.tasks ?? 0), tasksSucceeded: Number(c?.tasks_succeeded ?? 0),
          successRate: c && Number(c.tasks) ? Number(c.tasks_succeeded) / Number(c.tasks) : null,
          uptimeSeconds: Number(c?.uptime_ms ?? 0) / 1000,
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

  app.get(
    '/api/v1/epochs',
    { schema: { querystring: Type.Object({ limit: Type.Optional(LimitParam), before: Type.Optional(EpochIdParam) }, { additionalProperties: false }) } },
    async (req) => {
      const limit = req.query.limit === undefined ? MAX_LIMIT : decimalIn(req.query.limit, 'querystring/limit', 1, MAX_LIMIT);
      let q = db.selectFrom('epochs').selectAll();
      if (req.query.before !== undefined) q = q.where('epoch_id', '<', epochIdIn(req.query.before, 'querystring/before'));
      const rows = await q.orderBy('epoch_id', 'desc').limit(limit).execute();
      return { epochs: rows.map(epoch) };
    },
  );

  app.get('/api/v1/epochs/:id', { schema: { params: Type.Object({ id: EpochIdParam }), querystring: NoQuery } }, async (req) => {
    const id = epochIdIn(req.params.id, 'params/id');
    const e = await db.selectFrom('epochs').selectAll().where('epoch_id', '=', id).executeTakeFirst();
    if (!e) throw notFound(`no epoch ${id}`);
    return epoch(e);
  });

  app.get(
    '/api/v1/epochs/:id/contributions',
    {
      schema: {
        params: Type.Object({ id: EpochIdParam }),
        querystring: Type.Object({ limit: Type.Optional(LimitParam), after: Type.Optional(AddressParam) }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            { epochId: Type.Integer({ minimum: 1 }), formulaVersion: OrNull(Type.Integer({ minimum: 1 })), contributions: Type.Array(MemberTokens) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (req) => {
      const id = epochIdIn(req.params.id, 'params/id');
      const limit = req.query.limit === undefined ? MAX_LIMIT : decimalIn(req.query.limit, 'querystring/limit', 1, MAX_LIMIT);
      const after = req.query.after === undefined ? undefined : { epochId: id, participant: addressIn(req.query.after, 'querystring/after') };
      const e = await db.selectFrom('epochs').select('formula_version').where('epoch_id', '=', id).executeTakeFirst();
      if (!e) throw notFound(`no epoch ${id}`);
      return { epochId: id, formulaVersion: e.formula_version, contributions: await memberTokens(db, { epochId: id }, limit, after) };
    },
  );

  app.get(
    '/api/v1/epochs/:id/proofs/:address',
    { schema: { params: Type.Object({ id: EpochIdParam, address: AddressParam }), querystring: NoQuery } },
    async (req) => {
      const id = epochIdIn(req.params.id, 'params/id');
      const address = addressIn(req.params.address, 'params/address');
      // one indexed read (epochs and rewards primary keys); the proof is cut from the cached tree
      const e = await db
        .selectFrom('epochs as e')
        .leftJoin('rewards as r', (j) => j.onRef('r.epoch_id', '=', 'e.epoch_id').on('r.participant', '=', address))
        .select(['e.merkle_root', 'r.leaf_index', 'r.amount_nanoton'])
        .where('e.epoch_id', '=', id)
        .executeTakeFirst();
      if (!e) throw notFound(`no epoch ${id}`);
      if (!e.merkle_root) throw notFound(`epoch ${id} has no rewards table yet`);
      if (e.leaf_index === null || e.amount_nanoton === null) throw notFound(`${address} has no reward in epoch ${id}`);
      const leaf = { leaf_index: e.leaf_index, amount_nanoton: e.amount_nanoton };
      const tree = await treeOf(id, e.merkle_root);
      const proof = tree.proofBoc(leaf.leaf_index);
      return {
        epochId: id,
        index: leaf.leaf_index,
        address,
        amountNanoton: leaf.amount_nanoton,
        root: e.merkle_root,
        proofBoc: proof.toString('base64'),
      };
    },
  );

  app.get(
    '/api/v1/payouts',
    {
      schema: {
        querystring: Type.Object(
          { address: AddressParam, epoch: Type.Optional(EpochIdParam), before: Type.Optional(EpochIdParam), limit: Type.Optional(LimitParam) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      // a filter over the rewards table: an address or epoch with no reward is an empty list, not a 404
      const address = addressIn(req.query.address, 'querystring/address');
      const limit = req.query.limit === undefined ? MAX_LIMIT : decimalIn(req.query.limit, 'querystring/limit', 1, MAX_LIMIT);
      let q = db.selectFrom('rewards').selectAll().where('participant', '=', address);
      if (req.query.epoch !== undefined) q = q.where('epoch_id', '=', epochIdIn(req.query.epoch, 'querystring/epoch'));
      if (req.query.before !== undefined) q = q.where('epoch_id', '<', epochIdIn(req.query.before, 'querystring/before'));
      const rows = await q.orderBy('epoch_id', 'desc').limit(limit).execute();
      return {
        address,
        payouts: rows.map((r) => ({
          epochId: r.epoch_id,
          index: r.leaf_index,
          amountNanoton: r.amount_nanoton,
          status: r.status,
          method: r.method,
          batch: r.batch,
          txHash: r.tx_hash,
          paidAt: r.paid_at_ms === null ? null : new Date(r.paid_at_ms).toISOString(),
        })),
      };
    },
  );

  return app;
}
