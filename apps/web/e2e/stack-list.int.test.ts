// The stack list with 1000 stacks in real Chromium (issue 14): one summary request for the
// whole list, no request per row, every row rendered, and a revisit revalidated with the
// list's ETag (304). The stacks are written straight into the server's database: creating
// them through the API would run `compose config` a thousand times.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcessServer } from '../../server/src/test-server';
import { type LaunchedBrowser, launchChromium } from './browser';
import { signIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = resolve(here, '../dist');
const STACKS = 1000;
const UI_MS = 30_000;

let server: InProcessServer | undefined;
let browser: LaunchedBrowser | undefined;
let page: Page;

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web UI is not built: ${WEB_DIR}/index.html is missing. Run \`pnpm --filter @simpledeploy/web build\` first.`,
    );
  }
  server = await startInProcessServer({ SIMPLEDEPLOY_WEB_DIR: WEB_DIR });
  const sqlite = server.container.db.sqlite;
  const insert = sqlite.prepare(
    'insert into stacks (id, name, uuid, compose, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
  );
  const now = new Date().toISOString();
  sqlite.transaction(() => {
    for (let i = 0; i < STACKS; i++) {
      const name = `many-${String(i).padStart(4, '0')}`;
      insert.run(`stk_many${i}`, name, randomUUID(), 'services: {}\n', now, now);
    }
  })();
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
}, 60_000);

describe('the stack list with 1000 stacks in Chromium', () => {
  it('renders every stack from one summary request, and revalidates it with its ETag', async () => {
    if (!server) throw new Error('not started');
    const apiCalls: string[] = [];
    const listStatuses: number[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/'))
        apiCalls.push(`${r.method()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`);
    });
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (
        u.pathname === '/api/v1/stacks' &&
        u.searchParams.get('view') === 'summary' &&
        !u.searchParams.has('limit')
      )
        listStatuses.push(r.status());
    });

    await signIn(page, server.base, server.apiKey);
    const rows = page.locator('[data-testid="stack-row"]');
    await page
      .locator(
        `[data-testid="stack-row"][data-stack="many-${String(STACKS - 1).padStart(4, '0')}"]`,
      )
      .waitFor({ timeout: UI_MS });
    expect(await rows.count()).toBe(STACKS);
    expect(await rows.nth(0).getAttribute('data-stack')).toBe('many-0000');

    // One list request; nothing asked per row (no drift check, no stack fetch).
    const perStack = apiCalls.filter((c) => /\/api\/v1\/stacks\/[^/?]+/.test(c));
    expect(perStack).toEqual([]);
    expect(apiCalls.filter((c) => c === 'GET /api/v1/stacks?view=summary')).toHaveLength(1);
    expect(listStatuses).toEqual([200]);

    // Away and back: the list is asked again with If-None-Match and answered 304.
    await page.goto(`${server.base}/#/audit`);
    await page.goto(`${server.base}/#/`);
    await rows.nth(STACKS - 1).waitFor({ timeout: UI_MS });
    expect(await rows.count()).toBe(STACKS);
    expect(listStatuses).toEqual([200, 304]);
  }, 180_000);
});
