/**
 * Entry point of the emulator process (forked by emulator/child.ts with an IPC channel): waits for
 * `start`, runs the emulated pool (emulator/pool.ts: the shared worker server, the workers, the
 * proxy), answers `ready` with the server's URL, and sends the proxy's payouts through the pool
 * process (`send` → `sent`). On `stop`, or when the channel closes (the pool process died, even by
 * SIGKILL), it stops the workers, writes their queued log lines and exits.
 * Logs: pino JSON lines on stdout (inherited from the pool), `component: emulator`.
 */
import { Address } from '@ton/core';
import pino from 'pino';
import type { OutgoingMessage, SendResult, WalletName } from '../chain/client.ts';
import { readToEmulator, type EmulatorStartOptions, type FromEmulator, type ToEmulator } from './ipc.ts';
import { startEmulatedPool } from './pool.ts';
import { messageToWire, transactionFromWire } from './wire.ts';

if (!process.send) {
  process.stderr.write('emulator/process.ts runs as a child of the pool process (emulator/child.ts), with an IPC channel\n');
  process.exit(2);
}

const send = (m: FromEmulator) => process.send!(m);
const pending = new Map<number, { resolve: (r: SendResult) => void; reject: (e: Error) => void }>();
let nextId = 1;
let pool: Awaited<ReturnType<typeof startEmulatedPool>> | null = null;
let stopping: Promise<void> | null = null;

/** The pool process's wallet send, over the channel. */
const chain = {
  send(wallet: WalletName, messages: OutgoingMessage[]): Promise<SendResult> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (!process.connected) return reject(new Error('the pool process is gone'));
      pending.set(id, { resolve, reject });
      send({ type: 'send', id, wallet, messages: messages.map(messageToWire) });
    });
  },
};

async function start(options: EmulatorStartOptions): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { service: 'cocoon-pool', component: 'emulator', pid: process.pid } }, pino.destination({ fd: 1, sync: true }));
  try {
    pool = await startEmulatedPool({
      dataDir: options.dataDir,
      workers: options.workers,
      participants: options.participants.map((p) => Address.parse(p)),
      basePort: options.basePort,
      seed: options.seed,
      requestsPerSecond: options.requestsPerSecond,
      faults: options.faults,
      workerFeePerToken: BigInt(options.workerFeePerToken),
      autoPayThresholdNanoton: BigInt(options.autoPayThresholdNanoton),
      proxyPayIntervalMs: options.proxyPayIntervalMs,
      pool: Address.parse(options.pool),
      chain,
      proxyWallet: options.proxyWallet,
      proxy: Address.parse(options.proxy),
      workerContractTokens: new Map(Object.entries(options.workerContractTokens).map(([owner, tokens]) => [owner, BigInt(tokens)])),
      logger,
    });
    send({ type: 'ready', url: pool.url });
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    await stop(1);
  }
}

function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    for (const p of pending.values()) p.reject(new Error('the emulator is stopping'));
    pending.clear();
    try {
      await pool?.stop();
    } finally {
      if (process.connected) process.disconnect();
      process.exit(code);
    }
  })();
  return stopping;
}

process.on('message', (raw: unknown) => {
  let m: ToEmulator;
  try {
    m = readToEmulator(raw);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return;
  }
  switch (m.type) {
    case 'start':
      if (!pool) void start(m.options);
      return;
    case 'sent': {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (!p) return;
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve({ transactions: m.transactions.map(transactionFromWire) });
      return;
    }
    case 'stop':
      void stop(0);
      return;
  }
});
process.on('disconnect', () => void stop(0));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop(0)); // Ctrl-C reaches the whole group: the pool sends `stop` too
