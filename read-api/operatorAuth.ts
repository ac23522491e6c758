/**
 * The operator's bearer token on the read API's operator routes (alerts, dead letters):
 * `Authorization: Bearer <token>`, the token read from the variable the config names
 * (`alerts.operatorTokenEnv`, default POOL_OPERATOR_TOKEN). Compared in constant time (sha256 of
 * both sides), never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestAsyncHookHandler } from 'fastify';
import Type from 'typebox';

export interface OperatorAuthOptions {
  /** the operator's bearer token; null = none configured (the routes answer 503) */
  operatorToken: string | null;
  /** the variable it is read from, for the 503's message */
  operatorTokenEnv: string;
}

/** The OpenAPI security requirement of an operator route (the `operatorToken` bearer scheme, read-api/server.ts). */
export const OperatorSecurity = [{ operatorToken: [] }];
/** Body of the 401 and 503 answers. */
export const OperatorErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * An onRequest hook for a plugin's routes: 503 `operator_token_missing` when no token is
 * configured (the routes are then closed to everyone), 401 `unauthorized` (with
 * `WWW-Authenticate: Bearer`) without the token or with another one. `what` names the routes in the 503.
 */
export function operatorAuth(options: OperatorAuthOptions, what: string): onRequestAsyncHookHandler {
  const expected = options.operatorToken ? digest(options.operatorToken) : null;
  return async (req, reply) => {
    if (!expected) {
      return reply.code(503).send({ error: 'operator_token_missing', message: `no operator token is configured: set ${options.operatorTokenEnv} in the pool's environment to use ${what}` });
    }
    const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="pool operator"').send({ error: 'unauthorized', message: m ? "the bearer token is not the operator's" : 'this route needs the operator token: Authorization: Bearer <token>' });
    }
  };
}
