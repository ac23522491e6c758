/**
 * The broker of a pool: NATS_URL when configured, else our own nats-server child with its store in
 * `<dataDir>/nats` (a leftover server of a killed run is stopped first, via its pid file).
 */
import { join } from 'node:path';
import { UnreachableError, type PoolConfig } from '../config/config.ts';
import { startNatsServer, type NatsServerHandle } from '../infra/nats/server.ts';
import { connectJetStream, type JetStreamConnection } from '../streams/connect.ts';
import { ensureTopology } from '../streams/topology.ts';

export interface Broker {
  url: string;
  /** our own server, or null for NATS_URL */
  server: NatsServerHandle | null;
  conn: JetStreamConnection;
  /** closes the connection and stops our server */
  close(): Promise<void>;
}

/**
 * Starts or connects, then ensures the streams and buckets exist.
 * @throws NatsServerNotFoundError, NatsServerTooOldError, UnreachableError naming NATS_URL, or the connection error.
 */
export async function openBroker(config: PoolConfig, dataDir: string): Promise<Broker> {
  let server: NatsServerHandle | null = null;
  if (!config.natsUrl) {
    server = await startNatsServer({ storeDir: join(dataDir, 'nats'), pidFile: join(dataDir, 'nats', 'nats-server.pid'), logFile: join(dataDir, 'nats', 'nats-server.log') });
  }
  const url = config.natsUrl ?? server!.url;
  try {
    const conn = await connectJetStream({ url, name: 'cocoon-pool', ...(config.natsUser ? { user: config.natsUser, pass: config.natsPassword ?? '' } : {}) }).catch((err: unknown) => {
      throw config.natsUrl && !(err instanceof Error && err.name === 'NatsServerTooOldError') ? new UnreachableError('NATS_URL', config.natsUrl, err) : err;
    });
    await ensureTopology(conn.nc, conn.jsm);
    return {
      url,
      server,
      conn,
      async close() {
        await conn.nc.close();
        await server?.stop();
      },
    };
  } catch (err) {
    await server?.stop();
    throw err;
  }
}
