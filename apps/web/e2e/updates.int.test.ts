// The image update badge end to end: real Chromium against a real server in this
// process, a stack deployed from the private registry, and its tag moved there.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupProject, createMovingTag, type MovingTag } from '@simpledeploy/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type InProcessServer,
  registryFields,
  startInProcessServer,
} from '../../server/src/test-server';
import { type LaunchedBrowser, launchChromium } from './browser';
import { signIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = resolve(here, '../dist');
const UI_MS = 15_000;
const registry = inject('registry');
const images = inject('images');

let server: InProcessServer | undefined;
let browser: LaunchedBrowser | undefined;
let tag: MovingTag | undefined;
let page: Page;

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web UI is not built: ${WEB_DIR}/index.html is missing. Run \`pnpm --filter @simpledeploy/web build\` first.`,
    );
  }
  server = await startInProcessServer({ SIMPLEDEPLOY_WEB_DIR: WEB_DIR });
  tag = await createMovingTag(registry);
  browser = await launchChromium();
  page = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server) await cleanupProject(`${server.prefix}-shop`);
  await server?.stop();
  await tag?.remove();
}, 120_000);

describe('image updates in Chromium', () => {
  it('shows the update badge on the list and the services with a newer image on the stack', async () => {
    if (!server || !tag) throw new Error('not started');
    const first = await tag.push(images.webV1);
    const created = await server.api('POST', '/api/v1/stacks', {
      name: 'shop',
      compose: `services:\n  web:\n    image: ${tag.ref}\n`,
      ...registryFields(registry),
    });
    expect(created.status).toBe(201);
    const dep = await server.api('POST', '/api/v1/stacks/shop/deploy?wait=true', {});
    expect(dep.json.deployment.status).toBe('succeeded');

    await signIn(page, server.base, server.apiKey);
    const row = page.locator('[data-testid="stack-row"][data-stack="shop"]');
    await row.waitFor({ timeout: UI_MS });
    expect(await row.getByTestId('update-badge').count()).toBe(0);

    const second = await tag.push(images.webV2);
    // The stack page's "Check now" asks the registry; the list follows through the push channel.
    await row.getByTestId('stack-link').click();
    await page.getByTestId('check-updates').click();
    const svc = page.locator('[data-testid="update-row"][data-service="web"]');
    await svc.waitFor({ timeout: UI_MS });
    const text = (await svc.textContent()) ?? '';
    expect(text).toContain(first.replace('sha256:', '').slice(0, 12));
    expect(text).toContain(second.replace('sha256:', '').slice(0, 12));
    expect(text).toContain('available');
    await page.getByTestId('updates-panel').getByTestId('update-badge').waitFor({ timeout: UI_MS });

    await page.goto(`${server.base}/#/`);
    const badge = page
      .locator('[data-testid="stack-row"][data-stack="shop"]')
      .getByTestId('update-badge');
    await badge.waitFor({ timeout: UI_MS });
    expect(await badge.textContent()).toContain('update available');
  }, 180_000);
});
