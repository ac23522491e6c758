/**
 * The devnet endpoint: a TON Center-compatible HTTP API (the subset the pool and @ton/ton's
 * TonClient use) over the persistent local chain (chain/localChain.ts, @ton/sandbox), so the
 * pool, TonClient (endpoint `<url>/api/v2/jsonRPC`) or any TON tool can run offline.
 *
 * API v2 (toncenter/ton-http-api): `POST /api/v2/jsonRPC` `{id, jsonrpc, method, params}` →
 * `{ok, result, jsonrpc, id}`; the same methods as `GET /api/v2/<method>?…` and
 * `POST /api/v2/<method>` with a JSON body → `{ok, result}`. Methods:
 *   getAddressInformation, getAddressBalance, getAddressState, getTransactions (walks back from
 *   lt/hash or the last transaction; `limit` 1..100, `to_lt` exclusive, `archival` accepted),
 *   runGetMethod (TonClient's stack format), sendBoc, sendBocReturnHash, getMasterchainInfo,
 *   getConsensusBlock.
 * Errors: HTTP status = `code`, body `{ok:false, error, code}` (416 bad address, 422 bad
 * parameter or unknown method, 500 a message the chain refused, 429 rate limited).
 *
 * API v3 (toncenter/ton-indexer): `GET /api/v3/transactions?account=…&start_lt=&end_lt=&
 * start_utime=&end_utime=&limit=(1..1000, default 100)&offset=&sort=asc|desc(default)` →
 * `{transactions, address_book}` (lt bounds inclusive, as the indexer's SQL), and
 * `GET /api/v3/masterchainInfo` → `{last, first}`. Errors: `{error}` with the status.
 *
 * Blocks and finality (devnet/blocks.ts): v2 `getMasterchainInfo.last` is the latest block and v2
 * account state, get-methods and transactions are as of it; v2 `getConsensusBlock.consensus_block`
 * and v3 `masterchainInfo.last` are the latest FINAL block. v3 rows carry `mc_block_seqno` and
 * `finality` ("finalized" at or below the final block, "confirmed" above it). The rule for a
 * reader: read the final seqno first, then act only on rows with `mc_block_seqno` ≤ it.
 *
 * Devnet only (no TON Center counterpart, never faulted): `GET /devnet/status`,
 * `GET|PUT /devnet/faults` (devnet/faults.ts), `POST /devnet/mint {address, nanoton}`.
 * An `X-API-Key` header or `api_key` query parameter is accepted (any value) and keys the
 * optional per-key rate limit.
 */
import { Address, Cell, TupleReader, type Transaction, type TupleItem } from '@ton/core';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { InvalidMessageError, SendRejectedError, type AccountInfo, type GetMethodResult, type SubmittedMessage } from '../chain/client.ts';
import { sleep } from '../runtime/sleep.ts';
import { BASECHAIN_SHARD_HEX, MASTERCHAIN_SHARD, blockHashes, blockOfTime, blockTime, finalBlock, latestBlock } from './blocks.ts';
import { Faults, faultProblems, type DevnetFaults } from './faults.ts';
import {
  ToncenterError,
  friendly,
  parseAnyAddress,
  parseHash,
  parseV2Stack,
  rawUpper,
  v2Stack,
  v2Transaction,
  v3Transaction,
  type Finality,
} from './format.ts';

/** What the endpoint needs of the chain: chain/localChain.ts `LocalChain` provides it. */
export interface DevnetChain {
  /** Every durable transaction of the account, oldest first (optionally after `afterLt`). */
  getTransactions(address: Address, opts: { afterLt?: bigint; limit?: number }): Promise<Transaction[]>;
  runGetMethod(address: Address, name: string, args?: TupleItem[]): Promise<GetMethodResult>;
  getAccount(address: Address): Promise<AccountInfo>;
  getAccountCells(address: Address): Promise<{ code: Cell; data: Cell } | null>;
  sendMessage(message: Cell): Promise<SubmittedMessage>;
  mint(address: Address, nanoton: bigint): Promise<void>;
  /** Chain time, unix seconds. */
  now(): number;
}

/** Options of {@link startDevnet} / {@link buildDevnet}. */
export interface DevnetOptions {
  chain: DevnetChain;
  /** TCP port; 0 (default) = any free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Seconds between a block closing and it being final (≥ 0, default 0). */
  finalityLagSeconds?: number;
  /** Length of a synthetic masterchain block, whole seconds (default 1). */
  blockSeconds?: number;
  /** Faults switched on from the start (default none); change them with `setFaults` or PUT /devnet/faults. */
  faults?: DevnetFaults;
  /**
   * TON Center's rate limit, per API key (requests in one wall-clock second): `withoutKey` for
   * requests without a key (TON Center: 1), `withKey` for each key. Absent = unlimited.
   */
  rateLimit?: { withoutKey: number; withKey: number };
  /** Request errors are logged here (debug); default silent. */
  logger?: Logger;
}

/** A running devnet endpoint. */
export interface Devnet {
  /** Base URL, e.g. `http://127.0.0.1:8081`; TonClient's endpoint is `${url}/api/v2/jsonRPC`. */
  url: string;
  /** Replaces the faults (decisions restart from the first request). @throws RangeError for an invalid setting. */
  setFaults(faults: DevnetFaults): void;
  /** Stops listening and drops open connections (hanging requests included); the chain stays open. */
  close(): Promise<void>;
}

/** TON Center's answer to a request over the rate limit (docs.ton.org, "Rate limits"). */
export const RATE_LIMIT_BODY = { ok: false, result: 'Ratelimit exceed', code: 429 } as const;

/** Most transactions of one v2 getTransactions call (ton-http-api: `limit` le=100). */
const V2_MAX_LIMIT = 100;
/** ton-index-go defaults: `default-limit` 100, `max-limit` 1000. */
const V3_DEFAULT_LIMIT = 100;
const V3_MAX_LIMIT = 1000;
const ZERO_HASH_B64 = Buffer.alloc(32).toString('base64');
/** A made-up global id for the devnet (mainnet is -239, testnet -3). */
const DEVNET_GLOBAL_ID = -217;

type Params = Record<string, unknown>;
type V2Handler = (params: Params, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Reply already sent or connection dropped: the v2 dispatcher must not answer. */
const NO_ANSWER = Symbol('no answer');

/**
 * Starts the endpoint on `host:port`.
 * @throws the listen error (e.g. EADDRINUSE) when the port is taken; RangeError for bad options.
 */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  const { app, setFaults, stop } = buildDevnet(options);
  try {
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    stop.abort();
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    setFaults,
    close: async () => {
      stop.abort();
      await app.close();
    },
  };
}

/**
 * Builds the endpoint (not listening): the Fastify app, the faults setter, and the signal that
 * ends hanging requests at close.
 * @throws RangeError for a bad `blockSeconds`, `finalityLagSeconds` or `faults`.
 */
export function buildDevnet(options: DevnetOptions) {
  const { chain } = options;
  const blockSeconds = options.blockSeconds ?? 1;
  const lag = options.finalityLagSeconds ?? 0;
  blockOfTime(0, blockSeconds); // validates
  finalBlock(0, blockSeconds, lag);
  let faults = new Faults(options.faults ?? {});
  const stop = new AbortController();
  const rateWindow = { second: 0, counts: new Map<string, number>() };
  const sendSeq = new WeakMap<FastifyRequest, number>();

  const app = Fastify({ loggerInstance: options.logger, forceCloseConnections: true, bodyLimit: 16 * 1024 * 1024 });

  const blocks = () => {
    const now = chain.now();
    return { now, latest: latestBlock(now, blockSeconds), final: finalBlock(now, blockSeconds, lag) };
  };

  // --- faults and rate limit, before any TON Center route ------------------------------------
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    if (options.rateLimit && overRateLimit(request)) return reply.code(429).send(RATE_LIMIT_BODY);
    const { seq, fault } = faults.nextRequest();
    sendSeq.set(request, seq);
    if (fault === 'rate-limited') return reply.code(429).send(RATE_LIMIT_BODY);
    if (fault === 'timeout') {
      reply.hijack();
      await sleep(faults.hangMs, stop.signal);
      request.raw.socket.destroy();
    }
  });

  function overRateLimit(request: FastifyRequest): boolean {
    const limits = options.rateLimit!;
    const header = request.headers['x-api-key'];
    const query = (request.query as Params | undefined)?.api_key;
    const key = typeof header === 'string' ? header : typeof query === 'string' ? query : '';
    const second = Math.floor(Date.now() / 1000);
    if (rateWindow.second !== second) {
      rateWindow.second = second;
      rateWindow.counts.clear();
    }
    const count = (rateWindow.counts.get(key) ?? 0) + 1;
    rateWindow.counts.set(key, count);
    return count > (key === '' ? limits.withoutKey : limits.withKey);
  }

  // --- API v2 -----------------------------------------------------------------------------------
  const blockIdExt = (seqno: number) => {
    const { rootHash, fileHash } = blockHashes(-1, seqno);
    return { '@type': 'ton.blockIdExt', workchain: -1, shard: MASTERCHAIN_SHARD, seqno, root_hash: rootHash.toString('base64'), file_hash: fileHash.toString('base64') };
  };

  async function accountInformation(address: Address) {
    const [account, cells] = await Promise.all([chain.getAccount(address), chain.getAccountCells(address)]);
    const { latest } = blocks();
    return {
      '@type': 'raw.fullAccountState',
      balance: account.balance.toString(),
      extra_currencies: [],
      code: cells ? cells.code.toBoc().toString('base64') : '',
      data: cells ? cells.data.toBoc().toString('base64') : '',
      last_transaction_id: {
        '@type': 'internal.transactionId',
        lt: account.lastTransaction ? account.lastTransaction.lt.toString() : '0',
        hash: account.lastTransaction ? account.lastTransaction.hash.toString('base64') : ZERO_HASH_B64,
      },
      block_id: blockIdExt(latest),
      frozen_hash: '',
      sync_utime: blockTime(latest, blockSeconds),
      state: v2State(account),
    };
  }

  const v2: Record<string, V2Handler> = {
    getAddressInformation: async (p) => accountInformation(parseAnyAddress(p.address)),
    getAddressBalance: async (p) => (await chain.getAccount(parseAnyAddress(p.address))).balance.toString(),
    getAddressState: async (p) => v2State(await chain.getAccount(parseAnyAddress(p.address))),
    getTransactions: async (p) => {
      const address = parseAnyAddress(p.address);
      const limit = intParam(p, 'limit', 10);
      if (limit < 1 || limit > V2_MAX_LIMIT) throw new ToncenterError(422, `Validation error: limit must be in 1..${V2_MAX_LIMIT}`);
      const toLt = bigintParam(p, 'to_lt') ?? 0n;
      const lt = bigintParam(p, 'lt');
      const hash = p.hash === undefined || p.hash === null ? undefined : parseHash(p.hash);
      const all = await chain.getTransactions(address, {});
      let from = all.length - 1;
      if (lt !== undefined && hash !== undefined) {
        from = lastIndexWithLt(all, lt);
        if (from < 0 || !all[from]!.hash().equals(hash)) {
          throw new ToncenterError(500, `LITE_SERVER_UNKNOWN: cannot locate transaction ${lt}:${hash.toString('hex')} of ${address.toRawString()}`);
        }
      } else if (lt !== undefined || hash !== undefined) {
        throw new ToncenterError(422, 'lt and hash must be given together');
      }
      const out: unknown[] = [];
      for (let i = from; i >= 0 && out.length < limit && all[i]!.lt > toLt; i--) out.push(v2Transaction(all[i]!, address));
      return out;
    },
    runGetMethod: async (p) => {
      const address = parseAnyAddress(p.address);
      const method = p.method;
      if (typeof method !== 'string' || method.length === 0) {
        throw new ToncenterError(422, 'method must be a get-method name (numeric method ids are not supported by the devnet)');
      }
      const stack = parseV2Stack(p.stack);
      const account = await chain.getAccount(address);
      const { latest } = blocks();
      const lastTx = {
        '@type': 'internal.transactionId',
        lt: account.lastTransaction ? account.lastTransaction.lt.toString() : '0',
        hash: account.lastTransaction ? account.lastTransaction.hash.toString('base64') : ZERO_HASH_B64,
      };
      // tonlib answers a get-method on an account without code with exit code -13 and no stack
      if (account.state !== 'active') return { '@type': 'smc.runResult', gas_used: 0, stack: [], exit_code: -13, block_id: blockIdExt(latest), last_transaction_id: lastTx };
      const result = await chain.runGetMethod(address, method, stack);
      return { '@type': 'smc.runResult', gas_used: 0, stack: v2Stack(readAll(result.stack)), exit_code: result.exitCode, block_id: blockIdExt(latest), last_transaction_id: lastTx };
    },
    sendBoc: async (p, request, reply) => {
      await submit(p, request, reply);
      return reply.sent ? NO_ANSWER : { '@type': 'ok' };
    },
    sendBocReturnHash: async (p, request, reply) => {
      const { cell, submitted } = await submit(p, request, reply);
      if (reply.sent) return NO_ANSWER;
      return { '@type': 'raw.extMessageInfo', hash: cell.hash().toString('base64'), hash_norm: submitted.normalizedHash.toString('base64') };
    },
    getMasterchainInfo: async () => {
      const { latest } = blocks();
      return { '@type': 'blocks.masterchainInfo', last: blockIdExt(latest), state_root_hash: blockHashes(-1, latest).rootHash.toString('base64'), init: blockIdExt(0) };
    },
    getConsensusBlock: async () => {
      const { final } = blocks();
      return { consensus_block: final, timestamp: final === 0 ? 0 : blockTime(final, blockSeconds) + blockSeconds + lag };
    },
  };

  /** Runs the external message of a sendBoc call; drops the connection when the fault says so. */
  async function submit(p: Params, request: FastifyRequest, reply: FastifyReply): Promise<{ cell: Cell; submitted: SubmittedMessage }> {
    if (typeof p.boc !== 'string') throw new ToncenterError(422, 'Validation error: boc (base64 bag of cells) is required');
    let cell: Cell;
    try {
      cell = Cell.fromBoc(Buffer.from(p.boc, 'base64'))[0]!;
    } catch {
      throw new ToncenterError(500, 'LITE_SERVER_UNKNOWN: cannot apply external message to current state : failed to parse external message external message is not a valid bag of cells');
    }
    let submitted: SubmittedMessage;
    try {
      submitted = await chain.sendMessage(cell);
    } catch (error) {
      if (error instanceof InvalidMessageError) {
        throw new ToncenterError(500, `LITE_SERVER_UNKNOWN: cannot apply external message to current state : failed to parse external message ${error.message}`);
      }
      if (error instanceof SendRejectedError) {
        const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
        throw new ToncenterError(500, `LITE_SERVER_UNKNOWN: cannot apply external message to current state : External message was not accepted${cause}`);
      }
      throw error;
    }
    if (faults.loseSendResponse(sendSeq.get(request) ?? 0)) {
      reply.hijack();
      request.raw.socket.destroy();
    }
    return { cell, submitted };
  }

  async function runV2(method: unknown, params: Params, request: FastifyRequest, reply: FastifyReply): Promise<{ status: number; body: Record<string, unknown> } | typeof NO_ANSWER> {
    const handler = typeof method === 'string' && Object.hasOwn(v2, method) ? v2[method]! : undefined;
    if (!handler) return { status: 422, body: { ok: false, error: 'Unknown method', code: 422 } };
    try {
      const result = await handler(params, request, reply);
      if (result === NO_ANSWER) return NO_ANSWER;
      return { status: 200, body: { ok: true, result } };
    } catch (error) {
      if (reply.sent) return NO_ANSWER;
      if (error instanceof ToncenterError) return { status: error.code, body: { ok: false, error: error.message, code: error.code } };
      request.log.error({ err: error, method }, 'devnet v2 method failed');
      return { status: 503, body: { ok: false, error: String((error as Error).message ?? error), code: 503 } };
    }
  }

  app.post('/api/v2/jsonRPC', async (request, reply) => {
    const body = request.body as Params | null;
    if (!body || typeof body !== 'object') return reply.code(422).send({ ok: false, error: 'Validation error: a JSON-RPC object is required', code: 422 });
    const params = body.params ?? {};
    if (typeof params !== 'object' || Array.isArray(params)) return reply.code(422).send({ ok: false, error: 'Validation error: params must be an object', code: 422, jsonrpc: '2.0', id: body.id });
    const answer = await runV2(body.method, params as Params, request, reply);
    if (answer === NO_ANSWER) return reply;
    return reply.code(answer.status).send({ ...answer.body, jsonrpc: '2.0', id: body.id ?? null });
  });

  const v2Route = async (request: FastifyRequest, reply: FastifyReply, params: Params) => {
    const answer = await runV2((request.params as Params).method, params, request, reply);
    if (answer === NO_ANSWER) return reply;
    return reply.code(answer.status).send(answer.body);
  };
  app.get('/api/v2/:method', (request, reply) => v2Route(request, reply, { ...(request.query as Params) }));
  app.post('/api/v2/:method', (request, reply) => v2Route(request, reply, { ...((request.body as Params | null) ?? {}) }));

  // --- API v3 -----------------------------------------------------------------------------------
  const v3Block = (seqno: number) => {
    const { rootHash, fileHash } = blockHashes(-1, seqno);
    const prev = seqno > 1 ? [{ workchain: -1, shard: BASECHAIN_SHARD_HEX, seqno: seqno - 1 }] : [];
    return {
      workchain: -1,
      shard: BASECHAIN_SHARD_HEX,
      seqno,
      root_hash: rootHash.toString('base64'),
      file_hash: fileHash.toString('base64'),
      global_id: DEVNET_GLOBAL_ID,
      version: 0,
      after_merge: false,
      before_split: false,
      after_split: false,
      want_merge: false,
      want_split: false,
      key_block: seqno === 1,
      vert_seqno_incr: false,
      flags: 1,
      gen_utime: String(blockTime(Math.max(seqno, 1), blockSeconds)),
      start_lt: '0',
      end_lt: '0',
      validator_list_hash_short: 0,
      gen_catchain_seqno: 0,
      min_ref_mc_seqno: Math.max(seqno - 1, 0),
      prev_key_block_seqno: seqno > 1 ? 1 : 0,
      vert_seqno: 0,
      master_ref_seqno: 0,
      rand_seed: ZERO_HASH_B64,
      created_by: ZERO_HASH_B64,
      tx_count: 0,
      masterchain_block_ref: { workchain: -1, shard: BASECHAIN_SHARD_HEX, seqno },
      prev_blocks: prev,
    };
  };

  app.get('/api/v3/masterchainInfo', async () => {
    const { final } = blocks();
    return { last: v3Block(final), first: v3Block(1) };
  });

  app.get('/api/v3/transactions', async (request, reply) => {
    try {
      return await v3Transactions(request.query as Params);
    } catch (error) {
      if (error instanceof ToncenterError) return reply.code(error.code).send({ error: error.message });
      throw error;
    }
  });

  async function v3Transactions(q: Params) {
    const accountsParam = q.account;
    const accountTexts = Array.isArray(accountsParam) ? accountsParam : accountsParam === undefined ? [] : [accountsParam];
    if (accountTexts.length === 0) throw new ToncenterError(422, 'account is required (the devnet index lists transactions per account)');
    const accounts = accountTexts.map((a) => {
      try {
        return parseAnyAddress(a);
      } catch {
        throw new ToncenterError(422, `failed to parse account: ${String(a)}`);
      }
    });
    const startLt = bigintParam(q, 'start_lt', 422);
    const endLt = bigintParam(q, 'end_lt', 422);
    const startUtime = bigintParam(q, 'start_utime', 422);
    const endUtime = bigintParam(q, 'end_utime', 422);
    const limit = Math.max(1, intParam(q, 'limit', V3_DEFAULT_LIMIT, 422));
    if (limit > V3_MAX_LIMIT) throw new ToncenterError(422, `limit is not allowed: ${limit} > ${V3_MAX_LIMIT}`);
    const offset = Math.max(0, intParam(q, 'offset', 0, 422));
    const sort = q.sort ?? 'desc';
    if (sort !== 'asc' && sort !== 'desc') throw new ToncenterError(422, `wrong value for sort parameter: ${String(sort)}`);

    const { now, final } = blocks();
    const rows: { tx: Transaction; account: Address; seqno: number }[] = [];
    for (const account of accounts) {
      const txs = await chain.getTransactions(account, startLt !== undefined && startLt > 0n ? { afterLt: startLt - 1n } : {});
      for (const tx of txs) {
        if (endLt !== undefined && tx.lt > endLt) break;
        if (startUtime !== undefined && BigInt(tx.now) < startUtime) continue;
        if (endUtime !== undefined && BigInt(tx.now) > endUtime) continue;
        const seqno = blockOfTime(tx.now, blockSeconds);
        if (faults.isLate(tx.hash().toString('base64')) && now < blockTime(seqno, blockSeconds) + blockSeconds + faults.lateSeconds) continue;
        rows.push({ tx, account, seqno });
      }
    }
    const order = sort === 'asc' ? 1 : -1;
    rows.sort((a, b) => (a.tx.lt === b.tx.lt ? rawUpper(a.account).localeCompare(rawUpper(b.account)) : a.tx.lt < b.tx.lt ? -order : order));
    const page = rows.slice(offset, offset + limit).map(({ tx, account, seqno }) => {
      const finality: Finality = seqno <= final ? 'finalized' : 'confirmed';
      return v3Transaction(tx, account, seqno, finality);
    }) as ({ hash: string } & Record<string, unknown>)[];
    const transactions = faults.distortPage(page, limit);
    const address_book: Record<string, { user_friendly: string; domain: null }> = {};
    for (const a of accounts) address_book[rawUpper(a)] = { user_friendly: friendly(a), domain: null };
    return { transactions, address_book };
  }

  // --- devnet administration (never faulted) ------------------------------------------------------
  app.get('/devnet/status', async () => {
    const { now, latest, final } = blocks();
    return { chainTime: now, latestBlock: latest, finalBlock: final, blockSeconds, finalityLagSeconds: lag, faults: faults.setting };
  });
  app.get('/devnet/faults', async () => faults.setting);
  app.put('/devnet/faults', async (request, reply) => {
    const problems = faultProblems(request.body);
    if (problems.length) return reply.code(400).send({ error: 'bad_request', message: problems.join('; ') });
    faults = new Faults(request.body as DevnetFaults);
    return faults.setting;
  });
  app.post('/devnet/mint', async (request, reply) => {
    const body = (request.body ?? {}) as Params;
    let address: Address;
    let nanoton: bigint;
    try {
      address = parseAnyAddress(body.address);
      if (typeof body.nanoton !== 'string' || !/^[1-9]\d*$/.test(body.nanoton)) throw new ToncenterError(400, 'nanoton must be a positive decimal string');
      nanoton = BigInt(body.nanoton);
    } catch (error) {
      return reply.code(400).send({ error: 'bad_request', message: (error as Error).message });
    }
    await chain.mint(address, nanoton);
    return { address: rawUpper(address), nanoton: nanoton.toString() };
  });

  const setFaults = (f: DevnetFaults): void => void (faults = new Faults(f));
  return { app, setFaults, stop };
}

/** ton-http-api `address_state`: uninit and never-used accounts are both "uninitialized". */
function v2State(account: AccountInfo): 'active' | 'uninitialized' | 'frozen' {
  return account.state === 'active' ? 'active' : account.state === 'frozen' ? 'frozen' : 'uninitialized';
}

function readAll(reader: TupleReader): TupleItem[] {
  const items: TupleItem[] = [];
  while (reader.remaining > 0) items.push(reader.pop());
  return items;
}

/** Index of the transaction with lt `lt` in an lt-ordered list, or -1. */
function lastIndexWithLt(txs: readonly Transaction[], lt: bigint): number {
  let lo = 0;
  let hi = txs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = txs[mid]!.lt;
    if (v === lt) return mid;
    if (v < lt) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** An integer parameter (JSON number or decimal string), `fallback` when absent. */
function intParam(p: Params, name: string, fallback: number, code = 422): number {
  const v = p[name];
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new ToncenterError(code, `Can't parse integer in parameter ${name}`);
  return n;
}

/** A 64-bit integer parameter (lt, utime), undefined when absent. */
function bigintParam(p: Params, name: string, code = 422): bigint | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new ToncenterError(code, `Can't parse integer in parameter ${name}`);
}
