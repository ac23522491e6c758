/**
 * One HTTP/1.0 server for any number of emulated workers (issue 12): worker `<id>` is reached at
 * `http://<host>:<port>/<id>/…` (its `/jsonstats` at `/<id>/jsonstats`), with the bytes of its own
 * port (emulator/http10.ts; a poller joins `jsonstats` to the worker's configured URL). One timer
 * steps every mounted worker's simulation, and one {@link LogWriter} writes all their logs in
 * batches, so a process holds 100,000 workers with one listening socket and two timers.
 * A request for an id that is not mounted, or for `/<id>` itself, is `400 not found` (what a
 * runner answers for a path it does not serve).
 */
import { Http10Server, answerError, type HttpRequestHead, type RouteAnswer } from './http10.ts';
import { LogWriter, type LogWriterOptions } from './workerLog.ts';

/** What the server needs of a worker (emulator/worker.ts EmulatedWorker). */
export interface MountedWorker {
  answer(req: HttpRequestHead): RouteAnswer;
  step(): void;
}

export interface WorkerServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 = any free port. */
  port: number;
  /** Milliseconds between two simulation steps of every worker. Default 500. */
  tickMs?: number;
  /** Options of the shared log writer. */
  logs?: LogWriterOptions;
}

/** A worker id as it appears in a URL path segment: `w17`, `gpu-a_3`. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** See the module comment. `start()` binds, `mount()` adds workers (EmulatedWorker.start does it), `stop()` ends all. */
export class WorkerServer {
  readonly logs: LogWriter;
  private readonly host: string;
  private boundPort: number;
  private readonly http: Http10Server;
  private readonly workers = new Map<string, MountedWorker>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: WorkerServerOptions) {
    const tickMs = options.tickMs ?? 500;
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new RangeError(`port must be 0..65535, got ${options.port}`);
    if (!(tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${tickMs}`);
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port;
    this.logs = new LogWriter(options.logs);
    this.http = new Http10Server((req) => this.route(req));
  }

  /** Binds the port and starts the timer. Rejects if the port is taken. */
  async start(): Promise<void> {
    if (this.timer) throw new Error('worker server already started');
    this.boundPort = await this.http.listen(this.host, this.boundPort);
    this.timer = setInterval(() => {
      for (const w of this.workers.values()) w.step();
    }, this.options.tickMs ?? 500);
  }

  /** Stops the timer, closes the port and writes every log line still queued. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.http.close();
    await this.logs.close();
  }

  /** The bound port (the real one after start() with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** `http://<host>:<port>`. */
  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  /** The base URL of worker `id`: `http://<host>:<port>/<id>`. */
  urlOf(id: string): string {
    return `${this.url}/${id}`;
  }

  /** Number of mounted workers. */
  get size(): number {
    return this.workers.size;
  }

  /**
   * Serves `worker` under `/<id>/`.
   * @throws TypeError when `id` is not 1-64 of [A-Za-z0-9_-]; Error when `id` is mounted already.
   */
  mount(id: string, worker: MountedWorker): void {
    if (!ID.test(id)) throw new TypeError(`worker id ${JSON.stringify(id)} is not URL-safe (1-64 of A-Z a-z 0-9 _ -)`);
    if (this.workers.has(id)) throw new Error(`worker id ${id} is mounted already`);
    this.workers.set(id, worker);
  }

  /** Stops serving `id` (when `worker` is the one mounted there). */
  unmount(id: string, worker: MountedWorker): void {
    if (this.workers.get(id) === worker) this.workers.delete(id);
  }

  private route(req: HttpRequestHead): RouteAnswer {
    const slash = req.path.indexOf('/', 1);
    const worker = slash > 0 ? this.workers.get(req.path.slice(1, slash)) : undefined;
    if (!worker) return { reply: answerError(400, 'not found'), delayMs: 0 };
    return worker.answer({ ...req, path: req.path.slice(slash) });
  }
}
