// The stack page's Logs tab and the services table's stats, end to end: real Chromium
// against a real server in this process, deploying to the real engine.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupProject } from '@simpledeploy/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  composeProcesses,
  type InProcessServer,
  registryFields,
  startInProcessServer,
  until,
} from '../../server/src/test-server';
import { type LaunchedBrowser, launchChromium } from './browser';
import { signIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = resolve(here, '../dist');
const UI_MS = 20_000;
const registry = inject('registry');
const images = inject('images');

let server: InProcessServer | undefined;
let browser: LaunchedBrowser | undefined;
let page: Page;
const pageErrors: string[] = [];

const compose = `services:
  talker:
    image: ${images.sleeper}
    command: ["/bin/sh", "-c", "i=0; while true; do echo tick $$i; i=$$((i+1)); sleep 0.3; done"]
  quiet:
    image: ${images.sleeper}
    command: ["/bin/sh", "-c", "echo quiet here; exec /bin/sleeper"]
`;

const tickNumbers = async () =>
  (await page.getByTestId('container-log-line').allTextContents())
    .map((t) => /tick (\d+)/.exec(t)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web UI is not built: ${WEB_DIR}/index.html is missing. Run \`pnpm --filter @simpledeploy/web build\` first.`,
    );
  }
  server = await startInProcessServer({ SIMPLEDEPLOY_WEB_DIR: WEB_DIR });
  const created = await server.api('POST', '/api/v1/stacks', {
    name: 'chatter',
    compose,
    ...registryFields(registry),
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const dep = await server.api('POST', '/api/v1/stacks/chatter/deploy?wait=true');
  expect(dep.json.deployment.status, JSON.stringify(dep.json.deployment.error)).toBe('succeeded');
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  if (server) await cleanupProject(`${server.prefix}-chatter`);
  await server?.stop();
});

describe("a stack's container logs and stats in Chromium", () => {
  it('shows CPU, memory, network and restarts on the services table', async () => {
    if (!server) throw new Error('not started');
    await signIn(page, server.base, server.apiKey);
    await page.goto(`${server.base}/#/stacks/chatter`);
    const talker = page.locator('[data-testid="service-row"][data-service="talker"]');
    await talker.waitFor({ timeout: UI_MS });
    await until(
      async () => (await talker.getByTestId('svc-memory').textContent())?.includes('/'),
      UI_MS,
      'the memory cell',
    );
    expect(await talker.getByTestId('svc-memory').textContent()).toMatch(
      /^[\d.]+ (B|KiB|MiB) \/ [\d.]+ (MiB|GiB|TiB)$/,
    );
    expect(await talker.getByTestId('svc-cpu').textContent()).toMatch(/^\d+\.\d %$/);
    expect(await talker.getByTestId('svc-network').textContent()).toMatch(/ \/ /);
    expect(await talker.getByTestId('svc-restarts').textContent()).toBe('0');
  });

  it('follows a service live in the Logs tab, per service, and stops following on leaving', async () => {
    if (!server) throw new Error('not started');
    await page.getByTestId('tab-logs').click();
    await page.getByTestId('container-log').waitFor({ timeout: UI_MS });
    expect(await page.getByTestId('container-log').getAttribute('data-service')).toBe('quiet');
    await page.getByTestId('container-log-line').first().waitFor({ timeout: UI_MS });
    expect(await page.getByTestId('container-log').textContent()).toContain('quiet here');

    await page.getByTestId('log-service-talker').click();
    await until(async () => (await tickNumbers()).length > 0, UI_MS, 'the first tick lines');
    expect(await page.getByTestId('container-log-state').getAttribute('data-state')).toBe('live');
    const first = Math.max(...(await tickNumbers()));
    // New lines arrive without a reload: the tab follows.
    await until(
      async () => Math.max(...(await tickNumbers())) >= first + 3,
      UI_MS,
      'newer tick lines',
    );
    // Leaving the tab closes the socket: the server's follower goes away.
    await page.getByTestId('tab-overview').click();
    await until(
      () => composeProcesses(server?.prefix ?? '').filter((l) => / logs /.test(l)).length === 0,
      15_000,
      'the log follower to stop',
    );
    expect(pageErrors).toEqual([]);
  });
});
