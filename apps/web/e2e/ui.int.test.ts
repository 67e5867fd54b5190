// The web UI end to end: real Chromium (Debian's, through playwright-core) against a
// real server in this process, deploying to the real engine from the private registry.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedactor, silentLogger, systemClock } from '@simpledeploy/core';
import { createExecaRunner } from '@simpledeploy/deployer';
import {
  cleanupProject,
  getFreePort,
  uniqueProjectName,
  WEB_CONTAINER_PORT,
} from '@simpledeploy/testing';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig, type ServerConfig } from '../../server/src/config';
import { buildContainer, type Container } from '../../server/src/container';
import { type LaunchedBrowser, launchChromium } from './browser';
import { signIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = resolve(here, '../dist');
const SHOTS_DIR = resolve(here, '../../../docs/screenshots');
const API_KEY = randomBytes(12).toString('hex');
const STACK = 'shop';
/** Bounded waits: a deploy here takes seconds; these only stop a hung run. */
const DEPLOY_MS = 60_000;
const UI_MS = 15_000;

const registry = inject('registry');
const images = inject('images');

let container: Container | undefined;
let browser: LaunchedBrowser | undefined;
let base: string;
let prefix: string;
let dataDir: string;
let webPort: number;
/** Tab A does everything; tab B sits on the stack list and only watches. */
let a: Page;
let b: Page;
const pageErrors: string[] = [];

/** The health check sleeps 3 s, so `up --wait` takes a few seconds: time to see lines stream. */
const composeV1 = (port: number) => `services:
  web:
    image: ${images.webV1}
    ports:
      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"
    healthcheck:
      test: ["CMD-SHELL", "sleep 3; wget -q -O /dev/null http://127.0.0.1:${WEB_CONTAINER_PORT}/"]
      interval: 1s
      timeout: 10s
      retries: 3
`;
const composeWith = (image: string, port: number) => `services:
  web:
    image: ${image}
    ports:
      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"
`;
/** Never healthy, and inside its start period never unhealthy either: `up --wait` hangs. */
const composeHanging = () => `services:
  web:
    image: ${images.sleeper}
    healthcheck:
      test: ["CMD", "/bin/false"]
      interval: 1s
      start_period: 10m
`;

async function httpBody(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return (await res.text()).trim();
}

const byStatus = (page: Page | Locator, testId: string, status: string): Locator =>
  page.locator(`[data-testid="${testId}"][data-status="${status}"]`);

const row = (page: Page): Locator =>
  page.locator(`[data-testid="stack-row"][data-stack="${STACK}"]`);

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.bringToFront();
  // Let badges and relative times settle; the caret would blink into the picture.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  // Cropped below the page's content, so a short list isn't mostly empty space.
  const bottom = await page.evaluate(() => {
    const main = document.querySelector('main');
    return main ? Math.ceil((main.lastElementChild ?? main).getBoundingClientRect().bottom) : 0;
  });
  const size = page.viewportSize() ?? { width: 1280, height: 860 };
  const height = Math.min(size.height, Math.max(320, bottom + 32));
  await page.screenshot({
    path: join(SHOTS_DIR, `${name}.png`),
    animations: 'disabled',
    clip: { x: 0, y: 0, width: size.width, height },
  });
}

/** Replaces the stack's compose file through the settings tab. */
async function saveCompose(compose: string): Promise<void> {
  await a.goto(`${base}/#/stacks/${STACK}/settings`);
  const editor = a.getByTestId('compose-editor');
  await editor.fill(compose);
  await a.getByTestId('yaml-ok').waitFor({ timeout: UI_MS });
  await a.getByTestId('submit-stack').click();
  await a.getByText('Settings saved.').waitFor({ timeout: UI_MS });
}

/** Clicks Deploy on the stack page and returns the deployment id the UI navigated to. */
async function deployFromStackPage(): Promise<string> {
  await a.goto(`${base}/#/stacks/${STACK}`);
  await a.getByTestId('action-deploy').click();
  await a.waitForURL(/#\/deployments\//, { timeout: UI_MS });
  return decodeURIComponent(a.url().split('#/deployments/')[1] ?? '');
}

/**
 * Records, inside tab B, every status its row of the stack list shows, and marks the
 * window so a reload (which would clear the mark) is detectable.
 */
async function recordRowStatuses(page: Page): Promise<void> {
  await page.evaluate((name) => {
    const w = window as unknown as { __noReload: boolean; __seen: string[] };
    w.__noReload = true;
    w.__seen = [];
    const note = () => {
      const r = document.querySelector(`[data-testid="stack-row"][data-stack="${name}"]`);
      if (!r) return;
      const status = r.querySelector('[data-testid="stack-status"]')?.getAttribute('data-status');
      const last = r
        .querySelector('[data-testid="last-deployment-status"]')
        ?.getAttribute('data-status');
      const entry = `${status ?? '-'}/${last ?? '-'}`;
      if (w.__seen[w.__seen.length - 1] !== entry) w.__seen.push(entry);
    };
    new MutationObserver(note).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
    note();
  }, STACK);
}

/** Waits until tab B's recorded row history has entries ending with each suffix, in order. */
async function waitForRowHistory(page: Page, suffixes: string[]): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const seen = (window as unknown as { __seen?: string[] }).__seen ?? [];
      let i = 0;
      for (const entry of seen) if (i < want.length && entry.endsWith(want[i]!)) i++;
      return i === want.length;
    },
    suffixes,
    { timeout: DEPLOY_MS },
  );
}

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web UI is not built: ${WEB_DIR}/index.html is missing. Run \`pnpm build\` (or \`pnpm --filter @simpledeploy/web build\`) first.`,
    );
  }
  dataDir = mkdtempSync(join(tmpdir(), 'sd-e2e-'));
  prefix = uniqueProjectName('sdtest');
  const port = await getFreePort();
  const config = loadConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SIMPLEDEPLOY_API_KEY: API_KEY,
    SIMPLEDEPLOY_SECRET_KEY: 'e2e-secret-key-0123456789',
    SIMPLEDEPLOY_DATA_DIR: dataDir,
    SIMPLEDEPLOY_PROJECT_PREFIX: prefix,
    SIMPLEDEPLOY_WEB_DIR: WEB_DIR,
    HOST: '127.0.0.1',
    PORT: String(port),
  }) as ServerConfig;
  container = buildContainer(config, {
    logger: silentLogger,
    redact: createRedactor([API_KEY]),
    clock: systemClock,
    runner: createExecaRunner({ killGraceMs: 2000 }),
    version: 'e2e',
  });
  await container.start();
  base = `http://127.0.0.1:${port}`;
  webPort = await getFreePort();

  browser = await launchChromium();
  a = await browser.context.newPage();
  b = await browser.context.newPage();
  for (const p of [a, b]) p.on('pageerror', (e) => pageErrors.push(e.message));
  // Tab A is the one clicked through; a background tab's animation frames are throttled.
  await a.bringToFront();
});

afterAll(async () => {
  await browser?.close();
  await container?.stop();
  if (prefix) await cleanupProject(`${prefix}-${STACK}`);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the web UI against a real server, engine and registry', () => {
  const versions: string[] = [];

  it('says so when the API key is wrong, and signs in with the right one', async () => {
    await a.goto(`${base}/#/`);
    await a.getByTestId('api-key').fill('not-the-key');
    await a.getByTestId('sign-in').click();
    const error = a.getByTestId('signin-error');
    await error.waitFor({ timeout: UI_MS });
    expect(await error.textContent()).toMatch(/not valid/);

    await signIn(a, base, API_KEY);
    await signIn(b, base, API_KEY);
    await b.locator('[data-testid="live-status"][data-mode="live"]').waitFor({ timeout: UI_MS });
    await recordRowStatuses(b);
  });

  it('creates an inline stack whose image needs the private registry credentials', async () => {
    await a.getByTestId('new-stack').click();
    await a.getByTestId('stack-name').fill(STACK);
    await a.getByTestId('compose-editor').fill(composeV1(webPort));
    await a.getByTestId('yaml-ok').waitFor({ timeout: UI_MS });
    await a.getByText('Deployment options').click();
    await a.locator('#f-deploy_timeout_seconds').fill('300');
    await a.getByText('Webhook and registry credentials').click();
    await a.locator('#f-docker_registry').fill(registry.host);
    await a.locator('#f-docker_username').fill(registry.username ?? '');
    await a.getByTestId('secret-docker_password').fill(registry.password ?? '');
    await a.getByTestId('deploy-now').uncheck();
    await a.getByTestId('submit-stack').click();
    await a.waitForURL(new RegExp(`#/stacks/${STACK}$`), { timeout: UI_MS });
    await a.getByTestId('action-deploy').waitFor({ timeout: UI_MS });

    // Tab B's list gains the row from the push channel.
    await row(b).waitFor({ timeout: UI_MS });
    const stack = await (
      await fetch(`${base}/api/v1/stacks/${STACK}`, { headers: { 'X-API-KEY': API_KEY } })
    ).json();
    expect(stack.stack.has_docker_password).toBe(true);
    expect(stack.stack.docker_username).toBe(registry.username);
    expect(stack.stack.deploy_timeout_seconds).toBe(300);
  });

  it('deploys it: log lines show while the deployment runs, then it succeeds', async () => {
    const id = await deployFromStackPage();
    // One observation inside the page: a line is on screen while the status is not final.
    await a.waitForFunction(
      () => {
        const line = document.querySelector('[data-testid="log-line"]');
        const status = document
          .querySelector('[data-testid="deployment-status"]')
          ?.getAttribute('data-status');
        return !!line && (status === 'running' || status === 'queued');
      },
      undefined,
      { timeout: DEPLOY_MS, polling: 50 },
    );
    expect(await a.getByTestId('log-end').count()).toBe(0);

    await byStatus(a, 'deployment-status', 'succeeded').waitFor({ timeout: DEPLOY_MS });
    await byStatus(a, 'log-end', 'succeeded').waitFor({ timeout: UI_MS });
    // Every line of the stored log once: the fetched log and the socket's replay overlap.
    const stored = await (
      await fetch(`${base}/api/v1/deployments/${id}`, { headers: { 'X-API-KEY': API_KEY } })
    ).json();
    expect(stored.deployment.log.length).toBeGreaterThan(1);
    expect(await a.getByTestId('log-line').count()).toBe(stored.deployment.log.length);
    // compose's progress is on stderr; a successful deploy must not read as a wall of errors.
    expect(
      await a.locator('[data-testid="log-line"][data-stream="stderr"]').count(),
    ).toBeGreaterThan(0);
    expect(await a.locator('[data-testid="log-line"][data-kind="error"]').count()).toBe(0);
    expect(await httpBody(webPort)).toBe('v1');
    await screenshot(a, 'logs');
  });

  it('deploys a second version, then one whose health check fails and sees it rolled back with the error', async () => {
    await saveCompose(composeWith(images.webV2, webPort));
    await deployFromStackPage();
    await byStatus(a, 'deployment-status', 'succeeded').waitFor({ timeout: DEPLOY_MS });
    expect(await httpBody(webPort)).toBe('v2');

    await saveCompose(composeWith(images.unhealthy, webPort));
    await deployFromStackPage();
    await byStatus(a, 'deployment-status', 'rolled_back').waitFor({ timeout: DEPLOY_MS });
    const error = a.getByTestId('deployment-error');
    await error.waitFor({ timeout: UI_MS });
    expect(await error.textContent()).toMatch(/unhealthy/i);
    expect(await httpBody(webPort)).toBe('v2');
  });

  it('rolls back to the first version from the versions list', async () => {
    await a.goto(`${base}/#/stacks/${STACK}/versions`);
    const rows = a.getByTestId('version-row');
    await rows.first().waitFor({ timeout: UI_MS });
    for (const id of await rows.evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-version') ?? ''),
    )) {
      versions.push(id);
    }
    expect(versions.length).toBeGreaterThanOrEqual(2);
    // Newest first: the oldest row is the first version (webV1).
    const oldest = rows.last();
    expect(await oldest.getAttribute('data-current')).toBe('false');
    await oldest.getByTestId('rollback-version').click();
    await a.getByTestId('confirm-ok').click();
    await a.waitForURL(/#\/deployments\//, { timeout: UI_MS });
    await byStatus(a, 'deployment-status', 'succeeded').waitFor({ timeout: DEPLOY_MS });
    expect(await httpBody(webPort)).toBe('v1');

    await a.goto(`${base}/#/stacks/${STACK}/versions`);
    await a
      .locator(
        `[data-testid="version-row"][data-version="${versions.at(-1)}"][data-current="true"]`,
      )
      .waitFor({ timeout: UI_MS });

    await a.goto(`${base}/#/stacks/${STACK}`);
    await a
      .locator('[data-testid="service-row"][data-service="web"] [data-status="healthy"]')
      .waitFor({ timeout: UI_MS });
    await screenshot(a, 'stack');
    await screenshot(b, 'stacks');
    await a.bringToFront();
  });

  it('cancels a deploy that would hang from the log viewer, and the last good version comes back', async () => {
    await saveCompose(composeHanging());
    const id = await deployFromStackPage();
    await byStatus(a, 'deployment-status', 'running').waitFor({ timeout: DEPLOY_MS });
    // Cancel while `up --wait` hangs on the health check, not during the pull before it.
    await a
      .getByTestId('log-line')
      .filter({ hasText: /Waiting/ })
      .first()
      .waitFor({ timeout: DEPLOY_MS });
    await a.getByTestId('cancel-deployment').click();
    await a.getByTestId('confirm-ok').click();
    await byStatus(a, 'deployment-status', 'canceled').waitFor({ timeout: DEPLOY_MS });
    await byStatus(a, 'log-end', 'canceled').waitFor({ timeout: UI_MS });
    const res = await fetch(`${base}/api/v1/deployments/${id}`, {
      headers: { 'X-API-KEY': API_KEY },
    });
    const canceled = (await res.json()).deployment;
    expect(canceled.status).toBe('canceled');
    // Compose was stopped mid-update, so the last good version is re-applied as a
    // deployment of its own: the log viewer says which, and v1 answers again.
    await a
      .getByTestId('deployment-error')
      .filter({ hasText: /re-applies version/ })
      .waitFor({ timeout: UI_MS });
    await waitForRowHistory(b, ['/canceled', 'idle/succeeded']);
    expect(await httpBody(webPort)).toBe('v1');
  });

  it("changed the stack list's status in a second tab without a reload", async () => {
    const seen = await b.evaluate(() => {
      const w = window as unknown as { __noReload?: boolean; __seen?: string[] };
      return { noReload: w.__noReload, seen: w.__seen ?? [] };
    });
    expect(seen.noReload, 'tab B was never reloaded').toBe(true);
    const statuses = new Set(seen.seen.map((s) => s.split('/')[0]));
    const results = new Set(seen.seen.map((s) => s.split('/')[1]));
    expect(seen.seen[0], 'the row appeared when the stack was created').toBe('idle/-');
    expect(statuses).toContain('deploying');
    for (const r of ['succeeded', 'rolled_back', 'canceled']) expect(results).toContain(r);
    expect(pageErrors).toEqual([]);
  });
});
