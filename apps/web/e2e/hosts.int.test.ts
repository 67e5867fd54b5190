// The Hosts page end to end (issue 15): real Chromium against a real server in this
// process, adding a real remote Docker host (a test host with its own dockerd and sshd,
// pinned host key) through the form and seeing its health check answer.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestHosts, type TestHost, type TestHosts } from '@simpledeploy/testing';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcessServer } from '../../server/src/test-server';
import { type LaunchedBrowser, launchChromium } from './browser';
import { signIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = resolve(here, '../dist');
const UI_MS = 15_000;
/** A host's first check runs at once, but over SSH on a loaded machine it can take a while. */
const CHECK_MS = 90_000;

let server: InProcessServer | undefined;
let browser: LaunchedBrowser | undefined;
let set: TestHosts | undefined;
let remote: TestHost;
let page: Page;
const pageErrors: string[] = [];

const hostRow = (name: string): Locator =>
  page.locator(`[data-testid="host-row"][data-host="${name}"]`);

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web UI is not built: ${WEB_DIR}/index.html is missing. Run \`pnpm --filter @simpledeploy/web build\` first.`,
    );
  }
  [set, server] = await Promise.all([
    startTestHosts({ count: 1, prefix: 'sdtest-webhosts' }),
    // Checks every 2 s, so the page's own refresh has something new to show soon.
    startInProcessServer({
      SIMPLEDEPLOY_WEB_DIR: WEB_DIR,
      SIMPLEDEPLOY_HOST_CHECK_INTERVAL_SECONDS: '2',
    }),
  ]);
  remote = set.hosts[0] as TestHost;
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.api('DELETE', '/api/v1/stacks/on-remote').catch(() => undefined);
  await server?.stop();
  await set?.stop();
}, 180_000);

describe('the Hosts page in Chromium', () => {
  it('is reachable from the nav and shows the local host with its health after the first check', async () => {
    if (!server) throw new Error('not started');
    await signIn(page, server.base, server.apiKey);
    await page.getByTestId('nav-hosts').click();
    await page.getByRole('heading', { name: 'Hosts', level: 1 }).waitFor({ timeout: UI_MS });
    const local = hostRow('local');
    await local.waitFor({ timeout: UI_MS });
    expect(await local.textContent()).toContain('this server’s engine');
    // No reload by the test: the page refreshes itself until every host has been checked.
    await local.getByTestId('host-reachable').waitFor({ timeout: CHECK_MS });
    const engine = await local.locator('td[data-label="Engine"]').textContent();
    expect(engine).toMatch(/^\d+\.\d+/);
  });

  it('adds an SSH host through the form and shows it reachable with its engine version', async () => {
    await page.getByTestId('add-host').click();
    const form = page.getByTestId('host-form');
    await form.waitFor({ timeout: UI_MS });
    await page.locator('#host-name').fill('remote');
    await page.locator('#host-address').fill(remote.dockerHostSsh);
    await page.locator('#host-key').fill(remote.sshPrivateKey);
    await page.locator('#host-known').fill(remote.knownHosts);
    await page.getByTestId('save-host').click();
    await page.getByText('Added remote; checking it now.').waitFor({ timeout: UI_MS });

    const row = hostRow('remote');
    await row.waitFor({ timeout: UI_MS });
    expect(await row.locator('td[data-label="Address"]').textContent()).toBe(remote.dockerHostSsh);
    await row.getByTestId('host-reachable').waitFor({ timeout: CHECK_MS });
    // The engine the test host runs (its own dockerd), as the host answers over SSH.
    const version = (await remote.docker(['version', '--format', '{{.Server.Version}}'])).stdout;
    expect(await row.locator('td[data-label="Engine"]').textContent()).toContain(version.trim());
    expect(await row.locator('td[data-label="Swarm"]').textContent()).toContain('inactive');
    // The key went in and never comes back out.
    expect(await page.content()).not.toContain('PRIVATE KEY');
  });

  it("shows a stack's host on its page, linking to the Hosts page", async () => {
    if (!server) throw new Error('not started');
    const created = await server.api('POST', '/api/v1/stacks', {
      name: 'on-remote',
      host: 'remote',
      compose: 'services:\n  web:\n    image: 127.0.0.1:1/none:v1\n',
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Stacks', exact: true })
      .click();
    await page.getByTestId('stack-link').filter({ hasText: 'on-remote' }).click();
    const host = page.getByTestId('stack-host');
    await host.waitFor({ timeout: UI_MS });
    expect(await host.textContent()).toBe('remote');
    await host.click();
    await page.getByRole('heading', { name: 'Hosts', level: 1 }).waitFor({ timeout: UI_MS });
    // The host now counts the stack, and its Delete is refused until the stack moves.
    const row = hostRow('remote');
    expect(await row.locator('td[data-label="Stacks"]').textContent()).toBe('1');
    expect(await row.getByTestId('delete-host').isDisabled()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
