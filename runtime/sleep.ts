/**
 * The one way the pool waits: a timer that an abort signal (shutdown) or a {@link Waker} (new
 * work) cuts short. It never rejects, and it removes its abort listener when it ends, so a loop
 * that sleeps a million times holds no listener and no closure from earlier rounds.
 */

/**
 * Resolves after `ms` milliseconds, or at once when `signal` is (or becomes) aborted.
 * Never rejects; the caller checks `signal.aborted` after it returns.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Lets a producer of work cut a consumer's sleep short. A `wake()` that arrives while the
 * consumer is busy (not sleeping) is remembered, so the next `sleep` returns at once instead of
 * waiting a whole interval for work that is already there.
 */
export class Waker {
  private pending = false;
  private current: (() => void) | null = null;

  /** Ends the current sleep, or the next one if none is running. */
  wake(): void {
    if (this.current) this.current();
    else this.pending = true;
  }

  /** Like {@link sleep}, also ended by {@link wake}. Never rejects. */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    const ctl = new AbortController();
    this.current = () => ctl.abort();
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) ctl.abort();
    try {
      await sleep(ms, ctl.signal);
    } finally {
      this.current = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
