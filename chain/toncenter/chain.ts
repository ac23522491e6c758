/**
 * The pool's chain port over TON Center: a {@link ChainReader} and a {@link ChainSender}.
 *
 * TON Center endpoints used (base URL `endpoint`):
 * - v3 `GET /api/v3/transactions?account=<raw>&start_lt=<lt>&sort=asc&limit=<n>`: the index of an
 *   account's transactions with their masterchain seqno (finality) and prev links; paged by
 *   moving `start_lt` (chain/toncenter/walk.ts);
 * - v3 `GET /api/v3/masterchainInfo`: the latest final masterchain block (finality, chain time);
 * - v2 through @ton/ton's TonClient, unchanged (`POST /api/v2/jsonRPC`): `getTransactions` by
 *   lt+hash (the transactions' BoCs, and gap refills), `getAddressInformation` (account state),
 *   `runGetMethod`, `sendBoc`.
 * The API key is read from the environment variable named in the options and sent as `X-API-Key`.
 * Request pacing, retries and counts: chain/toncenter/transport.ts.
 */
import { Cell, loadMessage, type Address, TupleReader, type Transaction, type TupleItem } from '@ton/core';
import { TonClient } from '@ton/ton';
import type { Logger } from 'pino';
import { Counter, type Metric } from 'prom-client';
import {
  AccountNotActiveError,
  ChainUnavailableError,
  SendRejectedError,
  type AccountInfo,
  type ChainReader,
  type ChainSender,
  type GetMethodResult,
  type SubmittedMessage,
} from '../client.ts';
import { txLink, type TxRef } from '../continuity.ts';
import { normalizedMessageHash } from '../messageHash.ts';
import { MalformedAnswerError, parseMasterchainInfo, parseV3Transactions, type FinalBlock } from './rows.ts';
import { TonCenterRefusal, Transport } from './transport.ts';
import { HistoryMismatchError, walkFinal, type TransactionSource } from './walk.ts';

export interface TonCenterOptions {
  /** base URL of the TON Center instance, e.g. `https://testnet.toncenter.com` (no `/api/...`) */
  endpoint: string;
  /** NAME of the environment variable holding the API key; no key when undefined */
  apiKeyEnv?: string;
  /** requests per second; default 1 without a key, 10 with one (TON Center's plans: 10 / 25 / 100) */
  rps?: number;
  /** per request, ms; default 15 000 */
  timeoutMs?: number;
  /** retries of a failure worth retrying; default 5 */
  retries?: number;
  /** first back-off delay, ms (doubling, random ×1..2, up to 8 s); default 500 */
  minDelayMs?: number;
  /** v3 rows per page; default 100 (TON Center's maximum is 1000) */
  pageSize?: number;
  /** v2 transactions per walk-back request; default 100 */
  historyPageSize?: number;
  logger: Logger;
  /** where the API key variable is read; default process.env */
  env?: NodeJS.ProcessEnv;
}

/** The latest final block is asked for again at most this often (ms) when rows wait for finality. */
const FINAL_BLOCK_REFRESH_MS = 1_000;

/** TON Center as the pool's chain. Create with {@link openTonCenter}. */
export interface TonCenterChain {
  reader: ChainReader;
  sender: ChainSender;
  /** TON Center requests made so far, by method (attempts; retries included) */
  requests(): Record<string, number>;
  /** prom-client metrics to register (requests, retries, unavailability, gaps refilled) */
  metrics: Metric[];
}

/**
 * Opens the chain port over TON Center (no request is made yet).
 * @throws Error when `apiKeyEnv` names a variable that is not set (a key was meant, none is there).
 */
export function openTonCenter(options: TonCenterOptions): TonCenterChain {
  const env = options.env ?? process.env;
  let apiKey: string | undefined;
  if (options.apiKeyEnv !== undefined) {
    apiKey = env[options.apiKeyEnv];
    if (!apiKey) throw new Error(`the TON Center API key variable ${options.apiKeyEnv} is not set`);
  }
  const transport = new Transport({
    endpoint: options.endpoint,
    apiKey,
    rps: options.rps ?? (apiKey ? 10 : 1),
    timeoutMs: options.timeoutMs ?? 15_000,
    retries: options.retries ?? 5,
    minDelayMs: options.minDelayMs ?? 500,
    maxDelayMs: 8_000,
    logger: options.logger,
  });
  // TonClient retries nothing itself; each of its calls below is one HTTP request.
  const v2 = new TonClient({ endpoint: `${options.endpoint.replace(/\/+$/, '')}/api/v2/jsonRPC`, apiKey, timeout: transport.options.timeoutMs });
  const reader = new TonCenterReader(transport, v2, options.pageSize ?? 100, options.historyPageSize ?? 100, options.logger);
  const sender = new TonCenterSender(transport, v2);
  return {
    reader,
    sender,
    requests: () => Object.fromEntries(transport.requests),
    metrics: [transport.requestsCounter, transport.retriesCounter, transport.unavailableCounter, reader.gapsCounter, reader.mismatchCounter],
  };
}

/** ChainReader over TON Center; see the module comment. */
class TonCenterReader implements ChainReader {
  readonly gapsCounter = new Counter({ name: 'pool_toncenter_gap_refills_total', help: 'Transactions the v3 index skipped, refilled by walking back with v2', registers: [] });
  readonly mismatchCounter = new Counter({ name: 'pool_toncenter_history_mismatches_total', help: 'Reads whose first transaction did not link to the one returned before', registers: [] });
  /** per account (raw), the last transaction returned */
  private readonly lastReturned = new Map<string, TxRef>();
  private final: FinalBlock | undefined;
  /** when `final` was fetched, ms (Date.now()) */
  private finalAt = 0;

  constructor(
    private readonly transport: Transport,
    private readonly v2: TonClient,
    private readonly pageSize: number,
    private readonly historyPageSize: number,
    private readonly logger: Logger,
  ) {}

  /** See {@link ChainReader.getTransactions} and chain/toncenter/walk.ts. */
  async getTransactions(address: Address, opts: { afterLt?: bigint; limit?: number }): Promise<Transaction[]> {
    const { afterLt, limit } = opts;
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const raw = address.toRawString();
    const known = this.lastReturned.get(raw);
    const source: TransactionSource = {
      page: (startLt, n) => this.transport.v3('transactions', { account: raw, start_lt: String(startLt), sort: 'asc', limit: n }, (body) => parseV3Transactions(body, address)),
      // fetched again only for rows past the known final block, and at most once a second
      finalBlock: async (atLeast) =>
        this.final !== undefined && (this.final.seqno >= atLeast || Date.now() - this.finalAt < FINAL_BLOCK_REFRESH_MS) ? this.final : this.fetchFinal(),
      history: (from, n) =>
        this.transport.call('v2.getTransactions', () =>
          this.v2.getTransactions(address, { lt: String(from.lt), hash: Buffer.from(from.hash, 'hex').toString('base64'), inclusive: true, limit: n, archival: true }),
        ),
    };
    let result;
    try {
      result = await walkFinal(source, { afterLt, limit, anchor: known?.lt === afterLt ? known : undefined, pageSize: this.pageSize, historyPageSize: this.historyPageSize });
    } catch (err) {
      if (err instanceof HistoryMismatchError) {
        this.mismatchCounter.inc();
        this.logger.error({ account: raw, anchor: { lt: String(err.anchor.lt), hash: err.anchor.hash }, found: { lt: String(err.found.lt), hash: err.found.hash } }, 'TON Center history contradicts what was read before');
      }
      throw this.unavailable(err);
    }
    if (result.refilled.length) {
      this.gapsCounter.inc(result.refilled.length);
      this.logger.warn({ account: raw, refilled: result.refilled.map((r) => String(r.lt)) }, 'v3 index skipped transactions; refilled from v2');
    }
    if (result.phantoms.length) this.logger.warn({ account: raw, rows: result.phantoms.map((r) => `${r.lt}:${r.hash}`) }, 'v3 index listed transactions that are not on the chain; dropped');
    const last = result.transactions[result.transactions.length - 1];
    if (last !== undefined) {
      const { lt, hash } = txLink(last);
      this.lastReturned.set(raw, { lt, hash });
    }
    return result.transactions;
  }

  /** See {@link ChainReader.runGetMethod}: v2 runGetMethod; the account's state is read only when the method fails. */
  async runGetMethod(address: Address, name: string, args: TupleItem[] = []): Promise<GetMethodResult> {
    const r = await this.read('v2.runGetMethod', () => this.v2.runMethodWithError(address, name, args));
    if (r.exit_code === 0 || r.exit_code === 1) return { exitCode: r.exit_code, stack: r.stack };
    const account = await this.getAccount(address);
    if (account.state !== 'active') throw new AccountNotActiveError(address, account.state);
    return { exitCode: r.exit_code, stack: new TupleReader([]) };
  }

  /** See {@link ChainReader.getAccount}: v2 getAddressInformation. */
  async getAccount(address: Address): Promise<AccountInfo> {
    const s = await this.read('v2.getAddressInformation', () => this.v2.getContractState(address));
    const lastTransaction = s.lastTransaction ? { lt: BigInt(s.lastTransaction.lt), hash: Buffer.from(s.lastTransaction.hash, 'base64') } : null;
    const state = s.state === 'uninitialized' ? (s.balance === 0n && lastTransaction === null ? 'none' : 'uninit') : s.state;
    return {
      state,
      balance: s.balance,
      codeHash: state === 'active' && s.code ? Cell.fromBoc(s.code)[0]!.hash() : null,
      lastTransaction,
    };
  }

  /** See {@link ChainReader.chainTime}: `gen_utime` of v3 masterchainInfo's last block, never decreasing. */
  async chainTime(): Promise<number> {
    try {
      return (await this.fetchFinal()).time;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private async fetchFinal(): Promise<FinalBlock> {
    const got = await this.transport.v3('masterchainInfo', {}, parseMasterchainInfo);
    const prev = this.final;
    this.finalAt = Date.now();
    this.final = prev === undefined ? got : { seqno: Math.max(prev.seqno, got.seqno), time: Math.max(prev.time, got.time) };
    return this.final;
  }

  /** A read through the transport (see {@link unavailable}). */
  private async read<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.transport.call(method, fn);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /**
   * A refused read or an answer that contradicts the chain is the endpoint's fault: logged, and
   * reported as ChainUnavailableError (retry later); other errors are returned as they are.
   */
  private unavailable(err: unknown): unknown {
    if (!(err instanceof TonCenterRefusal || err instanceof MalformedAnswerError)) return err;
    this.logger.error({ err: err.message }, 'TON Center answer unusable');
    return new ChainUnavailableError(err.message, 'server-error', { cause: err });
  }
}

/** ChainSender over TON Center: v2 sendBoc through TonClient.sendFile. */
class TonCenterSender implements ChainSender {
  constructor(
    private readonly transport: Transport,
    private readonly v2: TonClient,
  ) {}

  /**
   * See {@link ChainSender.sendMessage}. Retried only after a 429 or a refused connection (the
   * message surely did not arrive); after a timeout or a 5xx it may have landed, so the caller
   * decides from the chain. A refusal after an earlier attempt of the same message that may have
   * landed does not prove it never ran (a replayed message is refused too).
   * @throws RangeError when `message` is not an external-in message.
   */
  async sendMessage(message: Cell): Promise<SubmittedMessage> {
    const parsed = loadMessage(message.beginParse());
    if (parsed.info.type !== 'external-in') throw new RangeError(`not an external-in message: ${parsed.info.type}`);
    const normalizedHash = normalizedMessageHash(parsed);
    const boc = message.toBoc();
    try {
      await this.transport.call('v2.sendBoc', () => this.v2.sendFile(boc), 'send');
    } catch (err) {
      if (err instanceof TonCenterRefusal && err.status !== 401 && err.status !== 403) {
        throw new SendRejectedError(parsed.info.dest.toString(), { cause: err });
      }
      if (err instanceof TonCenterRefusal) throw new ChainUnavailableError(err.message, 'server-error', { cause: err });
      throw err;
    }
    return { normalizedHash };
  }
}

