/**
 * A raw `node:net` HTTP/1.0 responder shaped like the HTTP server of Cocoon runners (TON's
 * `ton::http`, http/http.cpp; BaseRunner::http_gen_static_answer): one request per connection,
 * reply, close. Used by the emulated worker so a poller sees the same bytes as from a real one.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface HttpRequestHead {
  method: string;
  /** URL path without the query (`/jsonstats`). */
  path: string;
  /** Query arguments split like BaseRunner::http_parse_url: on `&` and the first `=`, not percent-decoded. */
  args: Map<string, string>;
}

export interface HttpReply {
  status: number;
  /** Reason phrase as the runner writes it (`ok`, `not found`, `bad request`). */
  reason: string;
  headers: [string, string][];
  body: string;
}

/**
 * A runner's successful answer (BaseRunner::http_gen_static_answer): `HTTP/1.0 200 ok`, the three
 * CORS headers, Content-Type, Content-Length; ton::http adds `Connection: Close` when writing.
 */
export function staticAnswer(body: string, contentType: string): HttpReply {
  return {
    status: 200,
    reason: 'ok',
    headers: [
      ['Access-Control-Allow-Origin', '*'],
      ['Access-Control-Allow-Methods', 'GET, POST, OPTIONS'],
      ['Access-Control-Allow-Headers', 'Content-Type, Authorization'],
      ['Content-Type', contentType],
      ['Content-Length', String(Buffer.byteLength(body))],
    ],
    body,
  };
}

/** ton::http::answer_error: the reason phrase carries the message, the body is empty. */
export function answerError(status: number, reason: string): HttpReply {
  return { status, reason, headers: [['Content-Length', '0']], body: '' };
}

/** Bytes of a reply as ton::http::HttpResponse::store_http writes them. */
function replyBytes(reply: HttpReply): string {
  let head = `HTTP/1.0 ${reply.status} ${reply.reason}\r\n`;
  for (const [name, value] of reply.headers) head += `${name}: ${value}\r\n`;
  return `${head}Connection: Close\r\n\r\n${reply.body}`;
}

const MAX_HEAD_BYTES = 16 * 1024;
const IDLE_TIMEOUT_MS = 30_000;

/**
 * What a route answers: a reply sent after `delayMs` (the emulator's "slow reply" fault; 0 = at
 * once), or `'drop'`: the connection is reset without a reply (an offline worker behind a server
 * shared with others: the poller sees a connection error, as when a worker's own port is closed).
 */
export type RouteAnswer = { reply: HttpReply; delayMs: number } | 'drop';

/**
 * Listens on one host/port; `route` answers each request. A malformed or oversized request head
 * closes the connection.
 */
export class Http10Server {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly delays = new Set<NodeJS.Timeout>();

  constructor(private readonly route: (req: HttpRequestHead) => RouteAnswer) {}

  /** Starts listening; resolves with the bound port (useful with port 0). Rejects on EADDRINUSE etc. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops listening, drops open connections and pending slow replies; new connections are refused. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const t of this.delays) clearTimeout(t);
    this.delays.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.search(/\r?\n\r?\n/);
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const request = parseHead(head.slice(0, end));
      if (!request) {
        socket.destroy();
        return;
      }
      const answer = this.route(request);
      if (answer === 'drop') socket.resetAndDestroy();
      else this.respond(socket, answer.reply, answer.delayMs);
    };
    socket.on('data', onData);
  }

  private respond(socket: Socket, reply: HttpReply, delay: number): void {
    const send = () => {
      if (!socket.destroyed) socket.end(replyBytes(reply));
    };
    if (delay <= 0) return send();
    const timer = setTimeout(() => {
      this.delays.delete(timer);
      send();
    }, delay);
    this.delays.add(timer);
  }
}

function parseHead(head: string): HttpRequestHead | null {
  const requestLine = head.split(/\r?\n/, 1)[0] ?? '';
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine);
  if (!m) return null;
  const url = m[2]!;
  const q = url.indexOf('?');
  const args = new Map<string, string>();
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      // std::map::emplace keeps the first value of a repeated argument
      if (!args.has(name)) args.set(name, eq < 0 ? '' : part.slice(eq + 1));
    }
  }
  return { method: m[1]!, path: q < 0 ? url : url.slice(0, q), args };
}
