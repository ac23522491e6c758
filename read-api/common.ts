/**
 * What every read-API route shares: the error answer (`HttpError`, `{ error, message, path? }`),
 * the URL parameter schemas (TypeBox) and their parsing into column values (ranges, addresses).
 */
import { Address } from '@ton/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import Type from 'typebox';

/** Largest value of a PostgreSQL `integer` column (epochs.epoch_id, rewards.epoch_id: db/migrations/0001). */
export const INT4_MAX = 2_147_483_647;
/** Most items one list response holds (`limit`). */
export const MAX_LIMIT = 1000;
/** No route takes a body; anything bigger than this is refused with 413 before it is read whole. */
export const BODY_LIMIT_BYTES = 1024;

/** An answer other than 2xx: `{ error, message }` (plus `path` for a bad parameter). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const badRequest = (path: string, message: string) => new HttpError(400, 'bad_request', `${path} ${message}`, path);

/** The `error` of each 4xx a client can cause (Fastify's own errors carry only a status code). */
export const CLIENT_ERRORS: Record<number, string> = {
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
export const Decimal = (description: string) => Type.String({ pattern: '^[0-9]{1,10}$', description });
export const EpochIdParam = Decimal(`an epoch id, decimal 1..${INT4_MAX}`);
export const LimitParam = Decimal(`a count, decimal 1..${MAX_LIMIT}`);
export const AddressParam = Type.String({ minLength: 1, maxLength: 100, description: 'a TON address, raw 0:<64 hex> or 48-character user-friendly' });
export const WorkerIdParam = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'a worker id: 1..64 of A-Z a-z 0-9 _ -' });

export const DecimalString = (description: string) => Type.String({ pattern: '^(0|[1-9][0-9]*)$', description });
export const OrNull = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** `value` (already matching `Decimal`) as a number in [min, max]. @throws HttpError 400 naming `path`. */
export function decimalIn(value: string, path: string, min: number, max: number): number {
  const n = Number(value);
  if (n < min || n > max) throw badRequest(path, `must be ${min}..${max} (got ${JSON.stringify(value)})`);
  return n;
}

export const epochIdIn = (value: string, path: string) => decimalIn(value, path, 1, INT4_MAX);

/**
 * A participant address from the URL, raw (`0:<hex>`) as stored. Only workchains 0 and -1 exist
 * for the pool; the input is parsed as written (no trimming, no number coercion of the workchain).
 * @throws HttpError 400 naming `path` with the reason.
 */
export function addressIn(value: string, path: string): string {
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

/** `limit` from the query string (absent: {@link MAX_LIMIT}). @throws HttpError 400 outside 1..MAX_LIMIT. */
export const limitIn = (value: string | undefined) => (value === undefined ? MAX_LIMIT : decimalIn(value, 'querystring/limit', 1, MAX_LIMIT));

/** A query string that takes no parameter. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** Every answer other than 2xx (HttpError, validation, 404/405/413, 500). */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'machine-readable kind: bad_request, not_found, method_not_allowed, payload_too_large, internal, ...' }),
    message: Type.String({ description: 'what was wrong, for a human' }),
    path: Type.Optional(Type.String({ description: 'the parameter at fault: params/id, querystring/limit, ...' })),
  },
  { additionalProperties: false },
);

/** The `next` of every paged list: the cursor to pass for the following page, or null on the last page. */
export const NextCursor = OrNull(Type.String({ description: 'cursor of the following page (pass it back as the route\'s cursor parameter); null on the last page' }));

/**
 * One page of a list read with `limit + 1` rows: the first `limit` rows as `items`, and `next` the
 * cursor of the following page (`cursorOf` the page's last row: a worker id, an epoch id, an
 * address, `<epoch>:<index>`) when a row beyond them exists, else null. A client walks a list by
 * passing `next` back until it is null; each row comes exactly once while the list does not change.
 * @param rows the rows of the query in the list's order, at most `limit + 1` (read `limit + 1` to know whether another page exists)
 */
export function page<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => string): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit && items.length ? cursorOf(items[items.length - 1]!) : null };
}

/** The Cache-Control of an answer about a settled epoch: it never changes again. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * HTTP caching of an answer about one epoch. A settled epoch never changes (its rewards are all
 * paid, its root is on chain), so its answer gets `Cache-Control: public, max-age=31536000,
 * immutable` and a strong ETag (`"<sha-256 of the JSON body, 32 hex>"`); a request whose
 * `If-None-Match` names that tag (or `*`; weak `W/` tags compare equal, RFC 9110 §13.1.2) gets 304
 * without a body. Any other epoch's answer is `Cache-Control: no-cache` (a client must ask again).
 * @returns the body to send, or the reply already sent as 304
 */
export function epochCaching<T>(req: FastifyRequest, reply: FastifyReply, settled: boolean, body: T): T | FastifyReply {
  if (!settled) {
    reply.header('cache-control', 'no-cache');
    return body;
  }
  const etag = `"${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32)}"`;
  reply.header('cache-control', IMMUTABLE).header('etag', etag);
  if (matchesEtag(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return body;
}

/** Whether an If-None-Match header (a list of entity tags, weak or strong, or `*`) names `etag` (weak comparison, RFC 9110 §13.1.2). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
