/** The tests' one bounded wait for a condition on a real server, file or process. */

/**
 * Asks `check` every `intervalMs` until it returns a truthy value, and returns that value. A
 * `check` that throws counts as "not yet" (a server being restarted is what many tests wait
 * out); the timeout error names `what` and the last error seen.
 * @throws Error after `timeoutMs` (default 120 s) without a truthy answer.
 */
export async function until<T>(
  what: string,
  check: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 120_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const got = await check();
      if (got) return got;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
