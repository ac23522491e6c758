/** A real nats-server (JetStream) for one test, on a free port with a temporary store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type NatsServerHandle } from '../../infra/nats/server.ts';
import { connectJetStream, type JetStreamConnection } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { ensureTopology } from '../../streams/topology.ts';

export interface TestNats extends JetStreamConnection {
  server: NatsServerHandle;
  store: NatsEventStore;
  /** Closes the connection, stops the server and removes its store. */
  stop(): Promise<void>;
}

/** Starts nats-server, connects, creates the pool's streams and buckets. */
export async function startTestNats(): Promise<TestNats> {
  const dir = mkdtempSync(join(tmpdir(), 'pool-nats-'));
  const server = await startNatsServer({ storeDir: dir });
  const conn = await connectJetStream({ url: server.url, name: 'test' });
  await ensureTopology(conn.nc, conn.jsm);
  return {
    ...conn,
    server,
    store: new NatsEventStore(conn.js, conn.jsm),
    async stop() {
      await conn.nc.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
