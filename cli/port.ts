/**
 * The read API's port, checked before anything else starts: a port another process holds is
 * reported at once in one line (`PORT 8080 is in use (EADDRINUSE) on 127.0.0.1 …`), not after the
 * broker, the database and the chain have started and failed in turn.
 */
import { createServer } from 'node:net';

/** The read API's port cannot be bound: names the setting, the value and the OS error code. */
export class PortUnavailableError extends Error {
  override name = 'PortUnavailableError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
  ) {
    const what = code === 'EADDRINUSE' ? 'is in use' : 'cannot be bound';
    super(`PORT ${port} ${what} (${code}) on ${host}: stop the process holding it or choose another port (--port N or PORT)`);
  }
}

/** The error of a failed listen on the API port, as a PortUnavailableError when the OS refused the address. */
export function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? new PortUnavailableError(host, port, code) : (err as Error);
}

/**
 * Binds `host:port` and releases it at once (port 0 = any free port: nothing to check).
 * @throws PortUnavailableError when the OS refuses it (in use, privileged, no such address).
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** A TCP port on `host` that was free a moment ago (listen on port 0, read it, close): for a child process to listen on. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, host, () => resolve());
  });
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
