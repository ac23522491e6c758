/**
 * The pool side of the emulator process (issue 12): forks emulator/process.ts with an IPC channel,
 * starts the emulated pool there, and sends its proxy's payouts on the pool's local chain (the
 * only wallet the child may send from is the proxy's). The emulated workers, their HTTP server,
 * their logs and the proxy's bookkeeping then cost the pool process nothing.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ChainClient } from '../chain/client.ts';
import { readFromEmulator, type EmulatorStartOptions, type ToEmulator } from './ipc.ts';
import { messageFromWire, transactionToWire } from './wire.ts';

export interface EmulatorProcess {
  /** base URL of the shared worker server (worker `w<i>` at `<url>/w<i>`) */
  url: string;
  pid: number;
  /** resolves with the exit code when the process has ended (for whatever reason) */
  exited: Promise<number | null>;
  /** asks the process to stop (it writes its logs' queued lines), kills it after `graceMs`; resolves when it has exited */
  stop(graceMs?: number): Promise<void>;
}

/** Milliseconds the emulator process gets to start its workers: 100,000 take about a minute on 2 cores. */
const START_TIMEOUT_MS = 600_000;

/**
 * Forks the emulator process and starts the emulated pool in it with `options`.
 * @param chain sends the proxy's payouts (the pool's local chain); only `options.proxyWallet` may send
 * @returns once the workers serve
 * @throws Error when the process fails to start them (its message), exits, or times out
 */
export async function spawnEmulator(options: EmulatorStartOptions, chain: Pick<ChainClient, 'send'>, logger: Logger): Promise<EmulatorProcess> {
  const entry = fileURLToPath(new URL('./process.ts', import.meta.url));
  const child: ChildProcess = fork(entry, [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const post = (m: ToEmulator) => {
    if (child.connected) child.send(m);
  };
  let stopping = false;

  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the emulator process did not start its ${options.workers} workers within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator process exited (code ${code}) before its workers served`));
    });
    child.on('message', (raw: unknown) => {
      let m;
      try {
        m = readFromEmulator(raw);
      } catch (err) {
        logger.error({ err }, 'emulator process sent a message that is not one; ignored');
        return;
      }
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.url);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`the emulator process could not start: ${m.error}`));
      } else if (m.wallet !== options.proxyWallet) {
        post({ type: 'sent', id: m.id, error: `the emulator may send only from ${options.proxyWallet}, not ${m.wallet}` });
      } else {
        const id = m.id;
        Promise.resolve()
          .then(() => chain.send(m.wallet, m.messages.map(messageFromWire)))
          .then(
            (r) => post({ type: 'sent', id, transactions: r.transactions.map(transactionToWire) }),
            (err: unknown) => post({ type: 'sent', id, error: err instanceof Error ? err.message : String(err) }),
          );
      }
    });
  });
  const stop = async (graceMs = 15_000) => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    post({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  post({ type: 'start', options });
  let url: string;
  try {
    url = await ready;
  } catch (err) {
    await stop(2000);
    throw err;
  }
  void exited.then((code) => {
    if (!stopping) logger.error({ code }, 'the emulator process exited: the emulated workers are offline until it is started again');
  });
  return { url, pid: child.pid!, exited, stop };
}
