/**
 * A real headless Chromium for the dashboard tests: Debian's /usr/bin/chromium (`apt-get install
 * chromium`) driven by playwright-core, with the flags this machine's closed network needs, and the
 * folder the screenshots are kept in (test-artifacts/, git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { root } from './pool.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the screenshots of `suite` go: test-artifacts/<suite>/ (created). */
export function artifactsDir(suite: string): string {
  const dir = join(root, 'test-artifacts', suite);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Launches Chromium headless.
 * @throws Error naming the install step when the binary is missing
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
