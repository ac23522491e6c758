/** A real nats-server (JetStream) for one test, on a free port with a temporary store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { processRunning, startNatsServer, type NatsServerHandle } from '../../infra/nats/server.ts';
import { connectJetStream, type JetStreamConnection } from '../../streams/connect.ts';
import { NatsEventStore } from '../../streams/natsEventStore.ts';
import { DLQ_STREAM, ensureTopology } from '../../streams/topology.ts';

export interface TestNats extends JetStreamConnection {
  server: NatsServerHandle;
  store: NatsEventStore;
  /** SIGKILLs the server (the connection stays open and starts reconnecting). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store directory (after {@link kill}). */
  restart(): Promise<void>;
  /** Closes the connection, stops the server and removes its store. */
  stop(): Promise<void>;
}

/** Starts nats-server, connects, creates the pool's streams and buckets. */
export async function startTestNats(): Promise<TestNats> {
  const dir = mkdtempSync(join(tmpdir(), 'pool-nats-'));
  let server = await startNatsServer({ storeDir: dir });
  const conn = await connectJetStream({ url: server.url, name: 'test' });
  await ensureTopology(conn.nc, conn.jsm);
  const handle: TestNats = {
    ...conn,
    server,
    store: new NatsEventStore(conn.js, conn.jsm),
    async kill() {
      const pid = server.pid;
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 200 && processRunning(pid); i++) await new Promise((r) => setTimeout(r, 25));
      if (processRunning(pid)) throw new Error(`nats-server ${pid} survived SIGKILL`);
    },
    async restart() {
      server = await startNatsServer({ storeDir: dir, port: server.port });
      handle.server = server;
    },
    async stop() {
      await conn.nc.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}


export interface StoredDeadLetter {
  subject: string;
  source: string;
  reason: string;
  originSubject: string | null;
  originSequence: number | null;
  payload: string;
}

/** Every dead letter in POOL_DLQ, in order. */
export async function deadLetters(jsm: JetStreamManager): Promise<StoredDeadLetter[]> {
  const last = (await jsm.streams.info(DLQ_STREAM)).state.last_seq;
  const out: StoredDeadLetter[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(DLQ_STREAM, { seq });
    if (!m) continue;
    const h = (k: string) => m.header.get(k) || null;
    out.push({
      subject: m.subject,
      source: h('Pool-DLQ-Source') ?? '',
      reason: h('Pool-DLQ-Reason') ?? '',
      originSubject: h('Pool-DLQ-Origin-Subject'),
      originSequence: h('Pool-DLQ-Origin-Sequence') ? Number(h('Pool-DLQ-Origin-Sequence')) : null,
      payload: new TextDecoder().decode(m.data),
    });
  }
  return out;
}

/**
 * 'refused' when the server refused `op` as a permission violation, 'ok' when it succeeded;
 * any other error is rethrown.
 */
export async function outcome(op: () => Promise<unknown>): Promise<'ok' | 'refused'> {
  try {
    await op();
    return 'ok';
  } catch (err) {
    if ((err as Error).name === 'PermissionViolationError' || /permissions violation/i.test(String(err))) return 'refused';
    throw err;
  }
}
