// Launches Debian's Chromium through playwright-core (never a downloaded browser),
// with the flags this machine's closed network needs and a fresh profile each time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  browser: Browser | null;
  close: () => Promise<void>;
}

/** A persistent context in a throw-away --user-data-dir, removed on close. */
export async function launchChromium(
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'simpledeploy-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Playwright passes --user-data-dir=<userDataDir> itself (and refuses it in args).
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 860 },
  });
  return {
    context,
    browser: context.browser(),
    close: async () => {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
