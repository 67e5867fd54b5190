// The notifier settings page end to end: real Chromium against a real server in this
// process, sending to a real receiver on 127.0.0.1.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type HttpReceiver,
  slackPayloadProblems,
  startHttpReceiver,
} from '@simpledeploy/testing/receivers';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessServer, startInProcessServer } from '../../server/src/test-server';
import { type LaunchedBrowser, launchChromium } from './browser';
import { signIn } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_DIR = resolve(here, '../dist');
const SHOTS_DIR = resolve(here, '../../../docs/screenshots');
const UI_MS = 15_000;

let server: InProcessServer | undefined;
let browser: LaunchedBrowser | undefined;
let receiver: HttpReceiver | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `The web UI is not built: ${WEB_DIR}/index.html is missing. Run \`pnpm --filter @simpledeploy/web build\` first.`,
    );
  }
  receiver = await startHttpReceiver();
  server = await startInProcessServer({ SIMPLEDEPLOY_WEB_DIR: WEB_DIR });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
});

describe('the notifier settings page in Chromium', () => {
  it('is reachable from the nav and adds a Slack notifier, showing its URL masked', async () => {
    if (!server || !receiver) throw new Error('not started');
    await signIn(page, server.base, server.apiKey);
    await page.getByTestId('nav-notifiers').click();
    await page
      .getByRole('heading', { name: 'Notifications', level: 1 })
      .waitFor({ timeout: UI_MS });
    await page.getByTestId('empty').waitFor({ timeout: UI_MS });

    await page.getByTestId('add-notifier').click();
    // A webhook without a secret: the server's sentence shows at the field.
    await page.getByTestId('notifier-name').fill('team-chat');
    await page.getByTestId('notifier-url').fill(`${receiver.url}/hook`);
    await page.getByTestId('save-notifier').click();
    await page.getByTestId('n-secret-error').waitFor({ timeout: UI_MS });
    expect(await page.getByTestId('n-secret-error').textContent()).toMatch(
      /at least 16 characters/,
    );

    await page.getByTestId('notifier-kind').selectOption('slack');
    await page.getByTestId('notifier-url').fill(`${receiver.url}/services/T1/B2/slack-token-xyz`);
    await page.getByTestId('event-deployment.succeeded').check();
    await page.getByTestId('save-notifier').click();
    const row = page.locator('[data-testid="notifier-row"][data-notifier="team-chat"]');
    await row.waitFor({ timeout: UI_MS });
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(`${receiver.url}/services/T1/B2/***`);
    expect(text).not.toContain('slack-token-xyz');
    expect(text).toContain('deployment.succeeded, deployment.failed, deployment.rolled_back');
  });

  it('sends a test that a real receiver gets, and lists the delivery with its status', async () => {
    if (!receiver) throw new Error('not started');
    const row = page.locator('[data-testid="notifier-row"][data-notifier="team-chat"]');
    await row.getByTestId('test-notifier').click();
    await page.getByText('Test sent to team-chat.').waitFor({ timeout: UI_MS });
    const [req] = await receiver.waitFor(1, UI_MS);
    if (!req) throw new Error('the receiver got nothing');
    expect(req.path).toBe('/services/T1/B2/slack-token-xyz');
    expect(slackPayloadProblems(req)).toEqual([]);
    expect(JSON.parse(req.body).text).toMatch(/test notification/);

    const delivery = page.locator('[data-testid="delivery-row"][data-event="notifier.test"]');
    await delivery.waitFor({ timeout: UI_MS });
    expect(await delivery.getByTestId('delivery-status').getAttribute('data-status')).toBe(
      'delivered',
    );
    expect(await delivery.getByTestId('delivery-status').textContent()).toContain('(200)');

    // The README's picture of the page.
    mkdirSync(SHOTS_DIR, { recursive: true });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: join(SHOTS_DIR, 'notifiers.png'), animations: 'disabled' });
  });

  it('shows a failed test with the receiver answer', async () => {
    if (!receiver) throw new Error('not started');
    receiver.answer = 404;
    const row = page.locator('[data-testid="notifier-row"][data-notifier="team-chat"]');
    await row.getByTestId('test-notifier').click();
    await page
      .getByText(/Test to team-chat did not go through: the receiver answered 404/)
      .waitFor({
        timeout: UI_MS,
      });
    await page
      .locator('[data-testid="delivery-status"][data-status="failed"]')
      .waitFor({ timeout: UI_MS });
    expect(pageErrors).toEqual([]);
  });
});
