/**
 * Every request to TON Center goes through {@link Transport.call}: paced within the plan's rate
 * limit (TON Center: 1 request per second without an API key, 10 / 25 / 100 with one, by plan),
 * counted, and retried with exponential back-off and jitter when the endpoint could not answer
 * (429, timeout, 5xx, connection errors), a bounded number of times; then it fails loudly (error
 * log, `pool_toncenter_unavailable_total`) with a ChainUnavailableError.
 *
 * v2 requests are the @ton/ton TonClient's own (JSON-RPC `POST /api/v2/jsonRPC`); v3 requests are
 * `GET /api/v3/<path>` made here ({@link Transport.v3}). Both share one pace and one count.
 */
import pRetry, { AbortError } from 'p-retry';
import pThrottle from 'p-throttle';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { ChainUnavailableError } from '../client.ts';
import { MalformedAnswerError } from './rows.ts';

export interface TransportOptions {
  /** base URL of the TON Center instance, e.g. `https://testnet.toncenter.com` */
  endpoint: string;
  /** sent as `X-API-Key` when given */
  apiKey?: string;
  /** requests per second, at most (strict: no 1 s window holds more) */
  rps: number;
  /** per request, milliseconds */
  timeoutMs: number;
  /** retries after the first attempt, for a failure worth retrying */
  retries: number;
  /** first back-off delay, ms; each next one doubles, times a random 1..2, up to `maxDelayMs` */
  minDelayMs: number;
  maxDelayMs: number;
  logger: Logger;
}

/**
 * The endpoint answered, and the answer is no (a 4xx other than 429, or a lite server's verdict
 * on an external message): asking again will not change it.
 */
export class TonCenterRefusal extends Error {
  constructor(readonly method: string, readonly status: number | null, readonly detail: string) {
    super(`TON Center refused ${method}${status === null ? '' : ` (HTTP ${status})`}: ${detail}`);
    this.name = 'TonCenterRefusal';
  }
}

/** A v3 answer that was not 2xx. */
class HttpStatusError extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/** How a failed attempt is handled. */
export type Failure =
  /** could not answer now; `delivered` false when the request surely never reached the endpoint */
  | { kind: 'unavailable'; code: ChainUnavailableError['code']; delivered: boolean | 'maybe'; detail: string }
  | { kind: 'refused'; status: number | null; detail: string }
  /** not a transport failure (a bug): rethrown as it is */
  | { kind: 'other' };

/** A lite server's refusal of an external message, as TON Center passes it on (HTTP 500 or 4xx). */
const EXTERNAL_REFUSED = /External message was not accepted|cannot apply external message/i;

/**
 * Classifies an error from a TonClient (axios) or v3 (fetch) request.
 * - an answer carrying a lite server's refusal of an external message → refused;
 * - 429 → rate-limited (not delivered); 5xx → server-error (maybe delivered); other 4xx → refused;
 * - timeouts → timeout (maybe delivered); connection refused → network (not delivered); other
 *   connection errors → network (maybe); an answer the API does not document → server-error.
 */
export function classifyFailure(err: unknown): Failure {
  const e = err as { isAxiosError?: boolean; code?: string; message?: string; name?: string; cause?: { code?: string }; response?: { status: number; data: unknown } };
  let status: number | undefined;
  let text = '';
  if (err instanceof HttpStatusError) [status, text] = [err.status, err.body];
  else if (e?.isAxiosError && e.response) [status, text] = [e.response.status, typeof e.response.data === 'string' ? e.response.data : JSON.stringify(e.response.data)];
  else if (err instanceof Error && /^Received error: /.test(err.message)) text = err.message; // TonClient: HTTP 200 with ok: false
  if (EXTERNAL_REFUSED.test(text)) return { kind: 'refused', status: status ?? null, detail: text.slice(0, 500) };
  if (status !== undefined) {
    if (status === 429) return { kind: 'unavailable', code: 'rate-limited', delivered: false, detail: `HTTP 429` };
    if (status >= 500) return { kind: 'unavailable', code: 'server-error', delivered: 'maybe', detail: `HTTP ${status}: ${text.slice(0, 300)}` };
    return { kind: 'refused', status, detail: text.slice(0, 500) };
  }
  if (text) return { kind: 'unavailable', code: 'server-error', delivered: 'maybe', detail: text.slice(0, 300) };
  if (err instanceof MalformedAnswerError || (err instanceof Error && /^Malformed response/.test(err.message))) {
    return { kind: 'unavailable', code: 'server-error', delivered: 'maybe', detail: err.message };
  }
  const code = e?.code ?? e?.cause?.code;
  if (e?.name === 'TimeoutError' || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || /timeout/i.test(e?.message ?? '')) {
    return { kind: 'unavailable', code: 'timeout', delivered: 'maybe', detail: e?.message ?? 'timeout' };
  }
  if (code === 'ECONNREFUSED') return { kind: 'unavailable', code: 'network', delivered: false, detail: e?.message ?? code };
  if (e?.isAxiosError || (err instanceof TypeError && /fetch failed/.test(err.message)) || (code && /^(E[A-Z]+|UND_ERR)/.test(code))) {
    return { kind: 'unavailable', code: 'network', delivered: 'maybe', detail: e?.message ?? String(code) };
  }
  return { kind: 'other' };
}

/** The request layer; see the module comment. */
export class Transport {
  /** attempts made, by method (`v3.transactions`, `v2.getTransactions`, …); retries included */
  readonly requests = new Map<string, number>();
  readonly requestsCounter = new Counter({ name: 'pool_toncenter_requests_total', help: 'TON Center requests made (attempts, retries included)', labelNames: ['method'], registers: [] });
  readonly retriesCounter = new Counter({ name: 'pool_toncenter_retries_total', help: 'TON Center requests retried after a failure worth retrying', labelNames: ['code'], registers: [] });
  readonly unavailableCounter = new Counter({ name: 'pool_toncenter_unavailable_total', help: 'TON Center calls given up after every retry failed', labelNames: ['code'], registers: [] });
  private readonly paced: <T>(fn: () => Promise<T>) => Promise<T>;

  constructor(readonly options: TransportOptions) {
    if (!(options.rps > 0)) throw new RangeError(`rps must be positive, got ${options.rps}`);
    this.paced = pThrottle({ limit: Math.max(1, Math.floor(options.rps)), interval: Math.max(1, Math.floor(options.rps)) * 1000 / options.rps, strict: true })(
      <T>(fn: () => Promise<T>) => fn(),
    ) as <T>(fn: () => Promise<T>) => Promise<T>;
  }

  /** Requests made so far, all methods. */
  get total(): number {
    let n = 0;
    for (const v of this.requests.values()) n += v;
    return n;
  }

  /**
   * Runs request `fn` (one HTTP request) paced, counted and retried.
   * `send`: a request that must not be repeated when it may have been delivered (an external
   * message: a second copy of a message that already ran is refused, which would read as "never
   * ran"); it is retried only after a 429 or a refused connection.
   * @throws ChainUnavailableError when every attempt failed with a failure worth retrying.
   * @throws TonCenterRefusal when the endpoint refused it.
   */
  async call<T>(method: string, fn: () => Promise<T>, kind: 'read' | 'send' = 'read'): Promise<T> {
    const { retries, minDelayMs, maxDelayMs, logger } = this.options;
    try {
      return await pRetry(
        async () => {
          try {
            return await this.paced(() => {
              this.requests.set(method, (this.requests.get(method) ?? 0) + 1);
              this.requestsCounter.inc({ method });
              return fn();
            });
          } catch (err) {
            const failure = classifyFailure(err);
            if (failure.kind === 'other') throw new AbortError(err as Error);
            if (failure.kind === 'refused') throw new AbortError(new TonCenterRefusal(method, failure.status, failure.detail));
            const unavailable = new ChainUnavailableError(`TON Center ${method}: ${failure.detail}`, failure.code, { cause: err });
            if (kind === 'send' && failure.delivered !== false) throw new AbortError(unavailable);
            throw unavailable;
          }
        },
        {
          retries,
          factor: 2,
          minTimeout: minDelayMs,
          maxTimeout: maxDelayMs,
          randomize: true,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (retriesLeft > 0 && error instanceof ChainUnavailableError) {
              this.retriesCounter.inc({ code: error.code });
              logger.debug({ method, attempt: attemptNumber, code: error.code }, 'TON Center request failed, retrying');
            }
          },
        },
      );
    } catch (err) {
      if (err instanceof ChainUnavailableError) {
        this.unavailableCounter.inc({ code: err.code });
        logger.error({ method, code: err.code, err: err.message }, 'TON Center unavailable');
      }
      throw err;
    }
  }

  /**
   * `GET /api/v3/<path>?<query>`, its JSON body checked by `parse` (a MalformedAnswerError from
   * it counts as a failed attempt, retried like a 5xx).
   * @throws ChainUnavailableError, TonCenterRefusal (see {@link call}).
   */
  v3<T>(path: string, query: Record<string, string | number>, parse: (body: unknown) => T): Promise<T> {
    const url = new URL(`${this.options.endpoint.replace(/\/+$/, '')}/api/v3/${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.apiKey) headers['X-API-Key'] = this.options.apiKey;
    return this.call(`v3.${path}`, async () => {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
      const body = await res.text();
      if (!res.ok) throw new HttpStatusError(res.status, body);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new MalformedAnswerError(`v3 ${path} answer is not JSON: ${body.slice(0, 200)}`);
      }
      return parse(json);
    });
  }
}
