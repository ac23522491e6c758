/**
 * Dead letters over HTTP for the operator (a Fastify plugin of the read API, behind the operator
 * token, read-api/operatorAuth.ts): what the pool refused and why, from stream POOL_DLQ
 * (streams/deadLetter.ts; its headers `Pool-DLQ-*`).
 *
 *   GET /api/v1/dead-letters?source=&limit=&before=<sequence>
 *     → { total, bySource: { <source>: count }, letters: [newest first], next }
 *
 * A letter shows its stream sequence, source, reason, time, origin (subject and sequence of a
 * stored event that was refused), context, the payload's size and its first 2 KiB as text. A page
 * reads at most {@link MAX_SCAN} messages backwards from `before` (or the stream's end) to fill
 * `limit` letters of `source`; `next` is where the following page starts, null at the beginning.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { JetStreamManager } from '@nats-io/jetstream';
import Type, { type Static } from 'typebox';
import { DEAD_LETTER_HEADERS } from '../streams/deadLetter.ts';
import { DEFAULT_POOL_NAMES, type PoolNames } from '../streams/names.ts';
import { operatorAuth, OperatorErrorBody, OperatorSecurity, type OperatorAuthOptions } from './operatorAuth.ts';

export interface DeadLettersApiOptions extends OperatorAuthOptions {
  /** a JetStream manager whose user may read POOL_DLQ (role `read-api`, infra/nats/roles.ts) */
  jsm: JetStreamManager;
  /** whose dead letters (streams/names.ts); default the `pool` pool */
  names?: PoolNames;
}

/** Most letters one page holds. */
const MAX_LETTERS = 200;
/** Most stream messages one page reads to find letters of one source. */
const MAX_SCAN = 5000;
/** Bytes of a payload shown as text. */
const PREVIEW_BYTES = 2048;

const Letter = Type.Object(
  {
    sequence: Type.Integer({ minimum: 1, description: 'POOL_DLQ stream sequence' }),
    subject: Type.String(),
    source: Type.String({ description: 'the component that refused it' }),
    reason: Type.String(),
    at: Type.Union([Type.String({ description: 'ISO 8601 time it was refused' }), Type.Null()]),
    origin: Type.Union([Type.Object({ subject: Type.String(), sequence: Type.Integer() }, { additionalProperties: false }), Type.Null()]),
    context: Type.Record(Type.String(), Type.String()),
    payloadBytes: Type.Integer({ minimum: 0 }),
    payloadPreview: Type.String({ description: `the payload's first ${PREVIEW_BYTES} bytes, as UTF-8 text` }),
  },
  { additionalProperties: false },
);

const SOURCE = '^[A-Za-z0-9_-]{1,64}$';

/** The plugin; register it on the read API (`app.register(deadLettersApi, options)`). */
export const deadLettersApi: FastifyPluginAsyncTypebox<DeadLettersApiOptions> = async (app, options) => {
  app.addHook('onRequest', operatorAuth(options, '/api/v1/dead-letters'));
  const H = DEAD_LETTER_HEADERS;
  const decoder = new TextDecoder();

  app.get('/api/v1/dead-letters', {
    schema: {
      summary: 'Dead letters: input the pool refused, with the reason, newest first',
      security: OperatorSecurity,
      querystring: Type.Object({
        source: Type.Optional(Type.String({ pattern: SOURCE, description: 'only letters of this source (poller, tailer, projection-contributions, …)' })),
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: `a count, decimal 1..${MAX_LETTERS} (default 50)` })),
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'a stream sequence: letters before it (`next` of the previous page)' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          total: Type.Integer({ description: 'letters in the stream' }),
          bySource: Type.Record(Type.String(), Type.Integer(), { description: 'letters in the stream per source' }),
          letters: Type.Array(Letter),
          next: Type.Union([Type.String(), Type.Null()]),
        }, { additionalProperties: false }),
        400: OperatorErrorBody, 401: OperatorErrorBody, 503: OperatorErrorBody,
      },
    },
  }, async (req, reply) => {
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    if (limit < 1 || limit > MAX_LETTERS) return reply.code(400).send({ error: 'bad_request', message: `querystring/limit must be 1..${MAX_LETTERS}, got ${req.query.limit}` });
    const names = options.names ?? DEFAULT_POOL_NAMES;
    const root = `${names.deadLetterRoot}.`;
    const info = await options.jsm.streams.info(names.deadLetterStream, { subjects_filter: `${root}>` });
    const bySource: Record<string, number> = {};
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) bySource[subject.slice(root.length)] = n;
    const first = info.state.first_seq;
    let seq = Math.min(req.query.before === undefined ? info.state.last_seq : Number(req.query.before) - 1, info.state.last_seq);
    const letters: Static<typeof Letter>[] = [];
    const wanted = req.query.source === undefined ? null : `${root}${req.query.source}`;
    for (let scanned = 0; seq >= first && letters.length < limit && scanned < MAX_SCAN; seq--, scanned++) {
      const m = await options.jsm.streams.getMessage(names.deadLetterStream, { seq }).catch(() => null); // a gap (aged out) is skipped
      if (!m || (wanted && m.subject !== wanted)) continue;
      const h = (k: string) => m.header?.get(k) || null;
      const context: Record<string, string> = {};
      for (const [k, v] of m.header ?? []) if (k.startsWith(H.contextPrefix)) context[k.slice(H.contextPrefix.length)] = v[0] ?? '';
      const originSubject = h(H.originSubject);
      letters.push({
        sequence: m.seq, subject: m.subject, source: h(H.source) ?? m.subject.slice(root.length), reason: h(H.reason) ?? '', at: h(H.at),
        origin: originSubject ? { subject: originSubject, sequence: Number(h(H.originSequence)) } : null,
        context, payloadBytes: m.data.length, payloadPreview: decoder.decode(m.data.subarray(0, PREVIEW_BYTES)),
      });
    }
    return { total: info.state.messages, bySource, letters, next: seq >= first ? String(seq + 1) : null };
  });
};
