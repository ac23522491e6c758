/**
 * An emulated Cocoon worker for `npm start` and tests: serves the worker's HTTP endpoints on
 * 127.0.0.1 — on a port of its own, or below `/<id>/` of a server shared with other workers
 * (emulator/workerServer.ts) — with the real bytes (HTTP/1.0, `/jsonstats` in the exact SimpleJsonSerializer format),
 * simulates inference requests (seeded, deterministic per seed) that grow the `stats.*` counters and
 * write the real per-request log lines, and injects faults (restart, stall, offline, slow reply).
 *
 * What a real worker does that this one reproduces (cocoon @ b75d4447):
 * - per request (WorkerRunningRequest.cpp): queries += 1, bytes_received += request payload,
 *   bytes_sent += answer payload, time += run time, *_adjusted_tokens_used += adjusted usage
 *   (also for failed requests), success += 1, or failed += 2 for a failure (send_error and
 *   finish_request(false) both count it, so success + failed/2 = queries);
 * - a restart resets every counter to 0 and forgets proxies until the next request;
 * - `/perf` bypasses the access hash; `/stats`, `/jsonstats` and `/request/payout` need
 *   `?access_hash=` when one is configured (else `400 bad request`); any other path is
 *   `400 not found` (WorkerRunner.cpp:381);
 * - `/request/payout?proxy=<proxy_sc_address>` (WorkerRunner.cpp:196-200, `http_payout` 732-755):
 *   a proxy the worker does not know (`proxies[].proxy_sc_address`, forgotten after a restart) →
 *   "proxy not found"; else the worker asks for its payout ({@link EmulatedWorker.onPayoutRequested}
 *   listeners: the emulated proxy pays the owner's whole owed balance) → "request sent"; both 200
 *   text/html in `wrap_short_answer_to_http` (WorkerRunner.h:184-192).
 * Not emulated: the other `/request/*` control endpoints (answered `400 not found`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Address } from '@ton/core';
import type { TaskCompletedLine } from '../producers/cocoon/logLine.ts';
import {
  STATS_KEYS,
  type RootContractConfig,
  type StatsKey,
  type StatsRates,
  type StatsTotals,
  type WorkerLocalConfig,
  type WorkerStats,
  type WorkerStatus,
  type Rates6,
} from '../producers/cocoon/jsonstats.ts';
import { AmortCounter } from './amortCounter.ts';
import {
  DEFAULT_COEFFICIENT,
  DEFAULT_GIT_COMMIT,
  DEFAULT_GIT_COMMIT_DATE,
  DEFAULT_MODEL,
  DEFAULT_OWNER_ADDRESS,
  DEFAULT_ROOT_ADDRESS,
  DEFAULT_WALLET_BALANCE_NANOTON,
  defaultRootConfig,
  modelHash,
} from './defaults.ts';
import { Http10Server, answerError, staticAnswer, type HttpReply, type HttpRequestHead, type RouteAnswer } from './http10.ts';
import { serializeJsonStats } from './jsonstatsSerializer.ts';
import { createPrng, type Prng } from './prng.ts';
import { adjustUsage } from './tokens.ts';
import { LogWriter, RotatingLogFile, requestLogLines } from './workerLog.ts';
import type { WorkerServer } from './workerServer.ts';

export type WorkerFault =
  /** Process restart: counters back to 0, proxies forgotten, a stall ends; optionally a new git_commit (an upgrade). */
  | { kind: 'restart'; gitCommit?: string }
  /** Keeps serving HTTP but completes no request and writes no log line for `seconds`. */
  | { kind: 'stall'; seconds: number }
  /** Port closed (connection refused) and no work for `seconds`; optionally comes back restarted. */
  | { kind: 'offline'; seconds: number; restartOnReturn?: boolean }
  /** Every HTTP reply is delayed by `replyDelayMs` for `seconds`. */
  | { kind: 'slow'; seconds: number; replyDelayMs: number };

export interface FaultPlan {
  /** Faults at fixed times, seconds after start(). */
  schedule?: { atSeconds: number; fault: WorkerFault }[];
  /** On average `perHour` faults per hour, each picked uniformly from `faults` (seeded). */
  random?: { perHour: number; faults: WorkerFault[] };
}

export interface EmulatedWorkerOptions {
  /** Own TCP port (0 = any free port); ignored with `mount`. */
  port?: number;
  /** Default 127.0.0.1; ignored with `mount`. */
  host?: string;
  /**
   * Serve behind a server shared with other workers (emulator/workerServer.ts) at
   * `<server url>/<id>/…` instead of an own port; the server's one timer drives the simulation and
   * its LogWriter writes the log. `offline` then resets this worker's connections (the port stays
   * open for the others).
   */
  mount?: { server: WorkerServer; id: string };
  /** Seeds the request stream, identities and random faults (deterministic per seed). */
  seed: number;
  /**
   * Mixed into every request id (sha256 of it and the seeded id): a worker process started again
   * with the same seed repeats its usage figures but, like a real worker, never a request id.
   * Default: random per worker object; set it for request ids that repeat across runs.
   */
  requestIdSalt?: string;
  /** Path of the worker's log file (appended; rotated to `<logFile>.1`). */
  logFile: string;
  /** Rotate when the file would exceed this many bytes. Default 1 MiB. */
  logRotateBytes?: number;
  /** Mean completed requests per second. Default 1. */
  requestsPerSecond?: number;
  /** Simulation step in ms (own timer; a mounted worker follows its server's). Default 100. */
  tickMs?: number;
  /** Probability that a request ends with success=NO. Default 0.02. */
  failureRate?: number;
  /** When set, `/stats` and `/jsonstats` need `?access_hash=<value>` (config http_access_hash). */
  accessHash?: string;
  /** Any TON address form; default the sample's. A pool sets its own address. */
  ownerAddress?: string;
  /** The proxy contract the worker reports (`proxies[].proxy_sc_address`), any TON address form; default a seeded one. */
  proxyScAddress?: string;
  /** That proxy's public key (`proxies[].proxy_public_key`), 64 hex digits; default a seeded one. */
  proxyPublicKey?: string;
  /** The worker contract of (owner, proxy) (`proxies[].sc_address`), any TON address form; default a seeded one. */
  workerContractAddress?: string;
  rootAddress?: string;
  model?: string;
  /** 1000 = 1.0x. Default 1000. */
  coefficient?: number;
  gitCommit?: string;
  gitCommitDate?: string;
  walletBalanceNanoton?: bigint;
  /** Default: the sample's root config with model_hashes = [sha256(model)]. */
  rootConfig?: RootContractConfig;
  faults?: FaultPlan;
}

/** A request the worker completed (what its log line says), with the emulator's completion time. */
export type CompletedRequest = Omit<TaskCompletedLine, 'loggedAtMs'> & { completedAtMs: number };

/** Fields a test or scenario may pin to make the worker (un)healthy. */
export type StatusOverrides = Partial<
  Pick<WorkerStatus, 'actualImageHash' | 'actualModel' | 'tonLastSyncedAt' | 'walletBalanceNanoton'>
>;

const MAX_REQUESTS_PER_TICK = 10_000;
const TON_SYNC_INTERVAL_SECONDS = 45; // BaseRunner refreshes the root contract every 30-60 s

/**
 * One emulated worker. `new EmulatedWorker(options)` only prepares it (throws if an address option
 * is not a TON address, or when neither `port` nor `mount` is given); `start()` binds
 * 127.0.0.1:<port> (or mounts it on its shared server) and starts simulating; `stop()` releases
 * the port (or the mount), every timer, and writes the rest of the log. No global state: run as
 * many as needed side by side.
 */
export class EmulatedWorker {
  private readonly host: string;
  private boundPort: number;
  /** own server and log writer; null when mounted on a shared server */
  private readonly own: { http: Http10Server; logs: LogWriter } | null;
  private readonly log: RotatingLogFile;
  private readonly work: Prng;
  private readonly faultPrng: Prng;
  private readonly config: WorkerLocalConfig;
  private readonly rootConfig: RootContractConfig;
  private readonly walletAddress: string;
  private readonly proxy: { proxyScAddress: string; proxyPublicKey: string; scAddress: string };
  private readonly listeners = new Set<(r: CompletedRequest) => void>();
  private readonly payoutListeners = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private tickTimer: NodeJS.Timeout | null = null;

  private requestsPerSecond: number;
  private gitCommit: string;
  private counters: Record<StatsKey, AmortCounter>;
  private proxyRegistered = false;
  private tonLastSyncedAt: number;
  private overrides: StatusOverrides = {};
  private cumulativeTokens = 0;
  private cashedOutTokens = 0n;
  private startedAtMs = 0;
  private lastTickMs = 0;
  private pendingWork = 0;
  private nextScheduled = 0;
  private stalledUntilMs = 0;
  private slowUntilMs = 0;
  private slowDelayMs = 0;
  private offline = false;
  private running = false;
  private readonly requestIdSalt: string;

  constructor(private readonly options: EmulatedWorkerOptions) {
    if (options.mount === undefined && options.port === undefined) throw new TypeError('an emulated worker needs a port or a mount');
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port ?? 0;
    this.requestsPerSecond = options.requestsPerSecond ?? 1;
    this.gitCommit = options.gitCommit ?? DEFAULT_GIT_COMMIT;
    this.work = createPrng(options.seed, 'requests');
    this.requestIdSalt = options.requestIdSalt ?? randomBytes(16).toString('hex');
    this.faultPrng = createPrng(options.seed, 'faults');
    const identity = createPrng(options.seed, 'identity');
    const model = options.model ?? DEFAULT_MODEL;
    this.config = {
      rootAddress: Address.parse(options.rootAddress ?? DEFAULT_ROOT_ADDRESS).toRawString(),
      ownerAddress: Address.parse(options.ownerAddress ?? DEFAULT_OWNER_ADDRESS).toRawString(),
      model,
      coefficient: options.coefficient ?? DEFAULT_COEFFICIENT,
      checkProxyHash: true,
    };
    this.rootConfig = options.rootConfig ?? defaultRootConfig(model);
    this.walletAddress = `0:${identity.hex(32).toLowerCase()}`;
    this.proxy = {
      proxyScAddress: ((seeded) => (options.proxyScAddress ? Address.parse(options.proxyScAddress).toRawString() : seeded))(`0:${identity.hex(32).toLowerCase()}`),
      proxyPublicKey: ((seeded) => options.proxyPublicKey?.toLowerCase() ?? seeded)(identity.hex(32).toLowerCase()),
      scAddress: ((seeded) => (options.workerContractAddress ? Address.parse(options.workerContractAddress).toRawString() : seeded))(`0:${identity.hex(32).toLowerCase()}`),
    };
    this.own = options.mount ? null : { http: new Http10Server((req) => this.answer(req)), logs: new LogWriter() };
    this.log = new RotatingLogFile(options.logFile, options.logRotateBytes ?? 1024 * 1024, this.own?.logs ?? options.mount!.server.logs);
    const now = Date.now();
    this.counters = newCounters(now);
    this.tonLastSyncedAt = Math.floor(now / 1000);
  }

  /** Binds the port (resolved when listening) and starts the simulation. Rejects if the port is taken. */
  /**
   * Binds the port (resolved when listening) or mounts the worker on its shared server, and starts
   * the simulation. Rejects if the port is taken, or the mount id is taken or not URL-safe.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error('emulated worker already started');
    if (this.own) this.boundPort = await this.own.http.listen(this.host, this.boundPort);
    else this.options.mount!.server.mount(this.options.mount!.id, this);
    this.running = true;
    this.startedAtMs = this.lastTickMs = Date.now();
    if (this.own) this.tickTimer = setInterval(() => this.step(), this.options.tickMs ?? 100);
  }

  /**
   * Stops the simulation, closes the port (or unmounts), clears every timer and writes the log's
   * queued lines (a shared server's writer: the server's stop() writes them). The object can be dropped afterwards.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.own) {
      await this.own.http.close();
      await this.own.logs.close();
    } else {
      this.options.mount!.server.unmount(this.options.mount!.id, this);
    }
  }

  /** Resolves when every log line of the requests completed so far is in the file (or its `.1`). */
  flushLog(): Promise<void> {
    return (this.own?.logs ?? this.options.mount!.server.logs).flush();
  }

  /** The TCP port it is reached on (its own after start() with port 0, or its shared server's). */
  get port(): number {
    return this.own ? this.boundPort : this.options.mount!.server.port;
  }

  /** `http://127.0.0.1:<port>`, or `<shared server url>/<id>` when mounted: its paths are below it. */
  get url(): string {
    return this.own ? `http://${this.host}:${this.boundPort}` : this.options.mount!.server.urlOf(this.options.mount!.id);
  }

  /** The worker's local configuration as `/jsonstats` reports it (raw addresses). */
  get localConfig(): WorkerLocalConfig {
    return { ...this.config };
  }

  /** Changes the mean request rate (0 stops new work; counters and log then stay still). */
  setRequestsPerSecond(rate: number): void {
    this.requestsPerSecond = rate;
  }

  /** Pins status fields (e.g. `{ actualModel: false }`); a pinned `tonLastSyncedAt` stops the periodic sync. */
  setStatus(overrides: StatusOverrides): void {
    this.overrides = { ...this.overrides, ...overrides };
  }

  /** Registers a callback called once per completed request, after counters and log are updated. Returns an unsubscribe function. */
  onRequestCompleted(listener: (r: CompletedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Registers a callback called when `/request/payout` names the worker's proxy (the worker's claim
   * of what it earned; the emulated proxy pays it). Returns an unsubscribe function.
   */
  onPayoutRequested(listener: () => void): () => void {
    this.payoutListeners.add(listener);
    return () => this.payoutListeners.delete(listener);
  }

  /**
   * Sets what the worker reports as `proxies[].cached_out_tokens` (and `expected_…`,
   * `earned_tokens_committed_to_blockchain`): its worker contract's `tokens`, cumulative adjusted
   * tokens paid, as Cocoon's worker reads it from the chain (WorkerProxyInfo.cpp). The emulated
   * proxy calls it after each payout.
   */
  setCashedOutTokens(tokens: bigint): void {
    this.cashedOutTokens = tokens;
  }

  /** Adjusted tokens of every request completed since this object was created (NOT reset by emulated restarts). */
  cumulativeAdjustedTokens(): number {
    return this.cumulativeTokens;
  }

  /** Completes `n` requests now (what the timer does each tick). Returns [] while stalled or offline. */
  completeRequests(n: number): CompletedRequest[] {
    const now = Date.now();
    if (this.offline || now < this.stalledUntilMs || n <= 0) return [];
    const done: CompletedRequest[] = [];
    let lines = '';
    for (let i = 0; i < n; i++) {
      const r = this.simulateRequest(now);
      done.push(r);
      lines += requestLogLines({
        ...r,
        requestIdHex: r.requestId.toUpperCase(),
        receivedAtMs: now - Math.round(r.seconds * 1000),
      });
    }
    this.log.append(lines);
    this.proxyRegistered = true;
    for (const r of done) for (const listener of this.listeners) listener(r);
    return done;
  }

  /** Applies a fault now. Resolves once it is in effect (for `offline`: the port is closed). */
  async inject(fault: WorkerFault): Promise<void> {
    const now = Date.now();
    switch (fault.kind) {
      case 'restart':
        this.restart(now, fault.gitCommit);
        return;
      case 'stall':
        this.stalledUntilMs = now + fault.seconds * 1000;
        return;
      case 'slow':
        this.slowUntilMs = now + fault.seconds * 1000;
        this.slowDelayMs = fault.replyDelayMs;
        return;
      case 'offline':
        if (this.offline) return;
        this.offline = true;
        await this.own?.http.close();
        this.later(fault.seconds * 1000, () => this.comeBack(fault.restartOnReturn ?? false));
        return;
    }
  }

  /** The current `/jsonstats` content as a parsed object. */
  snapshot(): WorkerStats {
    const now = Date.now();
    const totals = {} as StatsTotals;
    const rates = {} as StatsRates;
    for (const key of Object.values(STATS_KEYS)) {
      const [total, ...decayed] = this.counters[key].read(now / 1000);
      totals[key] = total!;
      rates[key] = decayed as Rates6;
    }
    const balance = this.overrides.walletBalanceNanoton ?? this.options.walletBalanceNanoton ?? DEFAULT_WALLET_BALANCE_NANOTON;
    return {
      status: {
        walletBalanceNanoton: balance,
        actualImageHash: this.overrides.actualImageHash ?? true,
        actualModel: this.overrides.actualModel ?? this.rootConfig.modelHashes.includes(modelHash(this.config.model)),
        tonLastSyncedAt: this.overrides.tonLastSyncedAt !== undefined ? this.overrides.tonLastSyncedAt : this.tonLastSyncedAt,
        enabled: true,
        gitCommit: this.gitCommit,
        gitCommitDate: this.options.gitCommitDate ?? DEFAULT_GIT_COMMIT_DATE,
      },
      totals,
      rates,
      wallet: { address: this.walletAddress, balanceNanoton: balance, seqno: 17, pendingTransactions: 0, activeTransactions: 0 },
      localConfig: { ...this.config },
      rootConfig: this.rootConfig,
      proxies: this.proxyRegistered
        ? [
            {
              scInited: true,
              ...this.proxy,
              earnedTokensCommittedToBlockchain: this.cashedOutTokens,
              earnedTokensCommittedToProxyDb: BigInt(this.cumulativeTokens),
              earnedTokensMaxKnown: BigInt(this.cumulativeTokens),
              cashedOutTokens: this.cashedOutTokens,
              expectedCashedOutTokens: this.cashedOutTokens,
              runningRequest: false,
              paramsVersion: this.rootConfig.paramsVersion,
            },
          ]
        : [],
    };
  }

  /**
   * Advances the simulation to now: faults due, the periodic TON sync, and the requests due at the
   * worker's rate since the last step (what its timer, or its shared server's, calls).
   */
  step(): void {
    if (!this.running) return;
    const now = Date.now();
    const dtSeconds = Math.max(0, now - this.lastTickMs) / 1000;
    this.lastTickMs = now;
    this.runFaultPlan(now, dtSeconds);
    if (this.overrides.tonLastSyncedAt === undefined && now / 1000 - this.tonLastSyncedAt >= TON_SYNC_INTERVAL_SECONDS) {
      this.tonLastSyncedAt = Math.floor(now / 1000);
    }
    if (this.offline || now < this.stalledUntilMs) {
      this.pendingWork = 0;
      return;
    }
    this.pendingWork = Math.min(this.pendingWork + dtSeconds * this.requestsPerSecond, MAX_REQUESTS_PER_TICK);
    const n = Math.floor(this.pendingWork);
    this.pendingWork -= n;
    this.completeRequests(n);
  }

  private runFaultPlan(now: number, dtSeconds: number): void {
    const plan = this.options.faults;
    if (!plan) return;
    const schedule = plan.schedule ?? [];
    while (this.nextScheduled < schedule.length && schedule[this.nextScheduled]!.atSeconds * 1000 <= now - this.startedAtMs) {
      void this.inject(schedule[this.nextScheduled++]!.fault);
    }
    const random = plan.random;
    if (random && random.faults.length > 0 && this.faultPrng.next() < (random.perHour * dtSeconds) / 3600) {
      void this.inject(random.faults[this.faultPrng.int(0, random.faults.length - 1)]!);
    }
  }

  private restart(now: number, gitCommit: string | undefined): void {
    this.counters = newCounters(now);
    this.proxyRegistered = false;
    this.stalledUntilMs = 0;
    this.tonLastSyncedAt = Math.floor(now / 1000);
    if (gitCommit !== undefined) this.gitCommit = gitCommit;
  }

  private comeBack(restart: boolean): void {
    if (!this.running) return;
    const http = this.own?.http;
    (http ? http.listen(this.host, this.boundPort) : Promise.resolve(this.boundPort)).then(
      () => {
        if (!this.running) return void http?.close(); // stopped while re-binding
        this.offline = false;
        this.lastTickMs = Date.now();
        if (restart) this.restart(Date.now(), undefined);
      },
      () => this.later(1000, () => this.comeBack(restart)), // port briefly taken: retry
    );
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** One request: raw usage from the seeded stream, adjusted like the worker, counted and returned. */
  private simulateRequest(now: number): CompletedRequest {
    const p = this.work;
    const rawPrompt = p.int(32, 4096);
    const rawCached = p.next() < 0.4 ? p.int(0, rawPrompt) : 0;
    const rawCompletion = p.int(8, 1024);
    const rawReasoning = p.next() < 0.25 ? p.int(0, rawCompletion) : 0;
    const failed = p.next() < (this.options.failureRate ?? 0.02);
    const usageBeforeFailure = p.next() < 0.5; // a failure may come after the prompt usage was seen
    const jitter = p.next();
    const requestId = createHash('sha256').update(this.requestIdSalt).update(p.hex(32)).digest('hex');

    const raw = failed
      ? { promptTokens: usageBeforeFailure ? rawPrompt : 0, cachedTokens: usageBeforeFailure ? rawCached : 0, completionTokens: 0, reasoningTokens: 0 }
      : { promptTokens: rawPrompt, cachedTokens: rawCached, completionTokens: rawCompletion, reasoningTokens: rawReasoning };
    const rc = this.rootConfig;
    const adjusted = adjustUsage(raw, this.config.coefficient, {
      prompt: rc.promptTokensPriceMultiplier,
      cached: rc.cachedTokensPriceMultiplier,
      completion: rc.completionTokensPriceMultiplier,
      reasoning: rc.reasoningTokensPriceMultiplier,
    });
    const seconds = round6(failed ? 0.02 + jitter * 2 : 0.05 + rawCompletion * 0.012 + jitter * 0.4);
    const payloadParts = failed ? (usageBeforeFailure ? 1 : 0) : 2 + Math.floor(rawCompletion / 6);
    const payloadBytes = payloadParts === 0 ? 0 : 420 + payloadParts * 170 + Math.floor(jitter * 100);
    const requestBytes = 220 + rawPrompt * 4;

    const t = now / 1000;
    const c = this.counters;
    c.queries.add(1, t);
    c.bytesReceived.add(requestBytes, t);
    c.bytesSent.add(payloadBytes, t);
    c.timeSeconds.add(seconds, t);
    c.totalAdjustedTokens.add(adjusted.totalTokens, t);
    c.promptAdjustedTokens.add(adjusted.promptTokens, t);
    c.cachedAdjustedTokens.add(adjusted.cachedTokens, t);
    c.completionAdjustedTokens.add(adjusted.completionTokens, t);
    c.reasoningAdjustedTokens.add(adjusted.reasoningTokens, t);
    if (failed) c.failed.add(2, t);
    else c.success.add(1, t);
    this.cumulativeTokens += adjusted.totalTokens;

    return { requestId, success: !failed, seconds, payloadParts, payloadBytes, ...adjusted, completedAtMs: now };
  }

  /**
   * One HTTP request (its path relative to the worker): the reply and its delay (a `slow` fault), or
   * 'drop' while offline (only reached when mounted: an own port is closed then).
   */
  answer(req: HttpRequestHead): RouteAnswer {
    if (this.offline) return 'drop';
    return { reply: this.route(req), delayMs: Date.now() < this.slowUntilMs ? this.slowDelayMs : 0 };
  }

  private route(req: HttpRequestHead): HttpReply {
    if (req.path === '/perf') return staticAnswer(this.perfText(), 'text/plain; charset=utf-8');
    if (req.path !== '/jsonstats' && req.path !== '/stats' && req.path !== '/request/payout') return answerError(400, 'not found');
    if (this.options.accessHash && req.args.get('access_hash') !== this.options.accessHash) {
      return answerError(400, 'bad request');
    }
    if (req.path === '/request/payout') return staticAnswer(shortAnswer(this.requestPayout(req.args.get('proxy') ?? '')), 'text/html; charset=utf-8');
    if (req.path === '/jsonstats') return staticAnswer(serializeJsonStats(this.snapshot()), 'application/json');
    return staticAnswer(this.statsHtml(), 'text/html; charset=utf-8');
  }

  /** `/request/payout?proxy=`: the answer text of WorkerRunner::http_payout. */
  private requestPayout(proxy: string): string {
    let raw: string | null = null;
    try {
      raw = Address.parse(proxy).toRawString();
    } catch {
      // not an address: not a proxy the worker knows
    }
    if (!this.proxyRegistered || raw !== this.proxy.proxyScAddress) return 'proxy not found';
    for (const l of this.payoutListeners) l();
    return 'request sent';
  }

  /** A reduced `/stats` page (WorkerRunner::http_generate_main): STATUS and STATS tables only. */
  private statsHtml(): string {
    const s = this.snapshot();
    const row = (name: string, value: string) => `<tr><td>${name}</td><td>${value}</td></tr>\n`;
    let html = '<!DOCTYPE html>\n<html><body>\n</table>\n<h1>STATUS</h1>\n<table>\n';
    const tonAge = Date.now() / 1000 - (s.status.tonLastSyncedAt ?? 0);
    html += row('ton', tonAge < 600 ? 'synced' : tonAge < 3600 ? 'late' : 'out of sync');
    html += row('enabled', 'yes');
    html += row('model connection', 'connected');
    html += '</table>\n<h1>STATS</h1>\n<table>\n';
    html += '<tr><td>name</td><td>total</td><td>1s</td><td>10s</td><td>1m</td><td>10m</td><td>1h</td><td>1d</td></tr>\n';
    for (const [wireKey, key] of Object.entries(STATS_KEYS) as [string, StatsKey][]) {
      const cells = [s.totals[key], ...s.rates[key]].map((v) => `<td>${v}</td>`).join('');
      html += `<tr><td>${wireKey.replaceAll('_', ' ')}</td>${cells}</tr>\n`;
    }
    return `${html}</table>\n</body></html>\n`;
  }

  /** Opaque profiler text in the shape of td ActorStats::prepare_stats (not a metric source). */
  private perfText(): string {
    const line = (title: string) => `${'='.repeat(33)} ${title} ${'='.repeat(80 - 35 - title.length)}\n`;
    return `${line('PERF COUNTERS')}ticks_per_second_estimate\t1000000000.0\n${line('ACTORS STATS')}Cummulative stats:\n`;
  }
}

function newCounters(nowMs: number): Record<StatsKey, AmortCounter> {
  return Object.fromEntries(Object.values(STATS_KEYS).map((k) => [k, new AmortCounter(nowMs / 1000)])) as Record<
    StatsKey,
    AmortCounter
  >;
}

/** WorkerRunner::wrap_short_answer_to_http (WorkerRunner.h:184-192), byte for byte. */
function shortAnswer(text: string): string {
  return `<!DOCTYPE html>\n<html><body>\n${text}<br/>\n<a href="/stats">return to stats</a>\n</html></body>\n`;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
