// Drives the UI against the real API on a test domain (e2e/test-api.ts: real services,
// a scripted fake Docker CLI) through the behaviours the issue names. Build first.
import assert from 'node:assert/strict';
import { launchChromium } from './browser';
import { signIn } from './helpers';
import { startTestApi } from './test-api';

const api = await startTestApi({ stepMs: 120 });
const b = await launchChromium();
const errors: string[] = [];
try {
  const a = await b.context.newPage();
  const c = await b.context.newPage();
  for (const p of [a, c]) p.on('pageerror', (e) => errors.push(e.message));
  await signIn(a, api.url);
  await signIn(c, api.url);
  await a.getByTestId('live-status').and(a.locator('[data-mode="live"]')).waitFor();

  // Create an inline stack that logs a lot, watch lines before the end.
  await a.goto(`${api.url}/#/new`);
  await a.getByTestId('stack-name').fill('slowapp');
  await a.getByTestId('compose-editor').fill('services:\n  web:\n    image: nginx # slow\n');
  await a.getByTestId('yaml-ok').waitFor();
  await a.getByTestId('submit-stack').click();
  await a.getByTestId('log-line').nth(3).waitFor();
  assert.equal(await a.getByTestId('log-end').count(), 0, 'lines appear before the end');

  // Second tab: the stack list shows it deploying without a reload.
  const row = c.locator('[data-testid="stack-row"][data-stack="slowapp"]');
  await row.getByTestId('stack-status').and(c.locator('[data-status="deploying"]')).waitFor();

  // Scroll up: following pauses and the jump button appears.
  const log = a.getByTestId('log-view');
  await a.getByTestId('log-line').nth(40).waitFor();
  await log.evaluate((el) => {
    el.scrollTop = 0;
  });
  await a.getByTestId('jump-latest').waitFor();
  assert.equal(await log.getAttribute('data-following'), 'false');
  await a.waitForTimeout(500);
  assert.match((await a.getByTestId('jump-latest').textContent()) ?? '', /new/);
  await a.getByTestId('jump-latest').click();
  assert.equal(await log.getAttribute('data-following'), 'true');

  // Cancel it through the real dialog.
  await a.getByTestId('cancel-deployment').click();
  await a.getByTestId('confirm-ok').click();
  await a.locator('[data-testid="log-end"][data-status="canceled"]').waitFor();
  await row
    .getByTestId('last-deployment-status')
    .and(c.locator('[data-status="canceled"]'))
    .waitFor();

  // A good version, so that a failing one has something to roll back to.
  await a.goto(`${api.url}/#/stacks/slowapp/settings`);
  await a.getByTestId('compose-editor').fill('services:\n  web:\n    image: nginx\n');
  await a.getByTestId('submit-stack').click();
  await a.getByTestId('toast').first().waitFor();
  await a.goto(`${api.url}/#/stacks/slowapp`);
  await a.getByTestId('action-deploy').click();
  await a.locator('[data-testid="log-end"][data-status="succeeded"]').waitFor();

  // A failing version rolls back with its error shown.
  await a.goto(`${api.url}/#/stacks/slowapp/settings`);
  await a.getByTestId('compose-editor').fill('services:\n  web:\n    image: nginx # fail\n');
  await a.getByTestId('submit-stack').click();
  await a.getByTestId('toast').first().waitFor();
  await a.goto(`${api.url}/#/stacks/slowapp`);
  await a.getByTestId('action-deploy').click();
  await a.locator('[data-testid="log-end"][data-status="rolled_back"]').waitFor();
  await a.getByTestId('deployment-error').waitFor();

  // Roll back to an earlier version from the versions list.
  await a.goto(`${api.url}/#/stacks/slowapp/versions`);
  await a.getByTestId('version-row').first().waitFor();
  await a.getByTestId('rollback-version').first().click();
  await a.getByTestId('confirm-ok').click();
  await a.getByTestId('log-view').waitFor();
  assert.match(a.url(), /#\/deployments\//);

  // API errors show the server's message next to the form.
  await a.goto(`${api.url}/#/new`);
  await a.getByTestId('stack-name').fill('blog');
  await a.getByTestId('submit-stack').click();
  await a.getByTestId('form-error').waitFor();
  assert.match((await a.getByTestId('form-error').textContent()) ?? '', /already exists/);

  // Delete from the second tab; the first tab's list drops it live.
  await c.goto(`${api.url}/#/stacks/slowapp`);
  await c.getByTestId('action-delete').click();
  await c.getByTestId('confirm-checkbox').check();
  await c.getByTestId('confirm-ok').click();
  await a.goto(`${api.url}/#/`);
  await a.getByTestId('stacks-table').waitFor();
  await a.locator('[data-stack="slowapp"]').waitFor({ state: 'detached' });

  // Sign out and in with a bad key.
  await a.getByTestId('sign-out').click();
  await a.getByTestId('api-key').fill('nope');
  await a.getByTestId('sign-in').click();
  await a.getByTestId('signin-error').waitFor();
  assert.deepEqual(errors, []);
  await pollingFallback();
  console.log('smoke: all passed');
} finally {
  await b.close();
  await api.close();
}

/** Without the push channel the list still follows deploys, by polling. */
async function pollingFallback(): Promise<void> {
  const quiet = await startTestApi({ stepMs: 120, eventsWs: false });
  try {
    const p = await b.context.newPage();
    await signIn(p, quiet.url);
    await p.locator('[data-testid="live-status"][data-mode="polling"]').waitFor();
    await fetch(`${quiet.url}/api/v1/stacks/blog/deploy`, {
      method: 'POST',
      headers: { 'x-api-key': 'test-key' },
    });
    const last = p.locator('[data-stack="blog"] [data-testid="last-deployment"]');
    const before = await last.getAttribute('href');
    await p.waitForFunction(
      (prev) =>
        document
          .querySelector('[data-stack="blog"] [data-testid="last-deployment"]')
          ?.getAttribute('href') !== prev,
      before,
      { timeout: 15_000 },
    );
  } finally {
    await quiet.close();
  }
}
