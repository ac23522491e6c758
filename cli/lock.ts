/**
 * One pool per data directory, arbitrated by the OS: the holder listens on an abstract-namespace
 * unix socket (Linux) named after the sha256 of the data directory's real path. Binding is atomic,
 * so of two processes starting at once exactly one gets it, and the kernel releases it when the
 * holder's last file descriptor closes: a process killed with SIGKILL (even while it is still a
 * zombie) holds no lock, and no file is left behind to go stale.
 *
 * A taker that loses asks the holder over the same socket for its pid (the holder answers
 * `<pid>\n` to every connection) to name it in the error.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';

/** Thrown when another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  /** pid of the holder, when it answered */
  readonly holderPid: number | null;
  constructor(dataDir: string, holderPid: number | null) {
    super(`${dataDir} is in use by ${holderPid === null ? 'another process (its pid did not answer)' : `process ${holderPid}`}; stop it or use another --data-dir`);
    this.holderPid = holderPid;
  }
}

/** How long a losing taker waits for the holder to say its pid, milliseconds. */
const ASK_PID_TIMEOUT_MS = 2_000;

/** The abstract socket name for a data directory (a leading NUL: no file on disk). */
function lockName(realDir: string): string {
  return `\0cocoon-pool-lock:${createHash('sha256').update(realDir).digest('hex')}`;
}

function listen(server: Server, name: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(name);
  });
}

/** The holder's pid, or null when it does not answer within {@link ASK_PID_TIMEOUT_MS}. */
function askHolderPid(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection(name);
    const done = (pid: number | null) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(pid);
    };
    const timer = setTimeout(() => done(null), ASK_PID_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) {
        const pid = Number(text.slice(0, text.indexOf('\n')));
        done(Number.isSafeInteger(pid) && pid > 0 ? pid : null);
      }
    });
    socket.on('error', () => done(null));
    socket.on('end', () => done(null));
  });
}

/**
 * Takes the lock of `dataDir` (created if missing) for this process; returns its release function.
 * The lock does not keep the event loop alive.
 * @throws DataDirLockedError naming the holder's pid (when it answers).
 * @throws the socket's error when binding fails for another reason than the lock being held.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true });
  const name = lockName(realpathSync(dataDir));
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${process.pid}\n`);
  });
  if (!(await listen(server, name))) throw new DataDirLockedError(dataDir, await askHolderPid(name));
  server.unref();
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
