/** Connecting to NATS with JetStream, refusing servers older than 2.12. */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { assertServerVersion } from '../infra/nats/server.ts';

export interface JetStreamConnection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export interface ConnectOptions {
  /** nats://host:port (comma-separated for a cluster). */
  url: string;
  /** Client name shown in server monitoring. */
  name?: string;
  /** User and password (infra/nats/accounts.conf); NATS_USER / NATS_PASSWORD in the pool's config. */
  user?: string;
  pass?: string;
  /** Prefix of this connection's reply subjects (default `_INBOX`); the embedded server gives each role its own (infra/nats/roles.ts). */
  inboxPrefix?: string;
}

/**
 * Connects and checks the server version and that JetStream is enabled.
 * @throws NatsServerTooOldError for servers < 2.12; the connection error when unreachable.
 */
export async function connectJetStream(options: ConnectOptions): Promise<JetStreamConnection> {
  const nc = await connect({
    servers: options.url.split(','),
    name: options.name ?? 'cocoon-pool',
    ...(options.user ? { user: options.user, pass: options.pass } : {}),
    ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // nats.js captures an async stack per request otherwise: ~40% of the CPU of an append (bench/ledger.bench.ts)
    noAsyncTraces: true,
  });
  try {
    assertServerVersion(nc.info?.version ?? '0.0.0', options.url);
    const jsm = await jetstreamManager(nc);
    return { nc, js: jetstream(nc), jsm };
  } catch (err) {
    await nc.close();
    throw err;
  }
}
