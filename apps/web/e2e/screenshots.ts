// Screenshots of the main pages against the real API on a test domain (e2e/test-api.ts).
// Run: pnpm --filter @simpledeploy/web build && tsx apps/web/e2e/screenshots.ts [outDir]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './browser';
import { signIn } from './helpers';
import { startTestApi } from './test-api';

const out = process.argv[2] ?? '/tmp/simpledeploy-shots';
mkdirSync(out, { recursive: true });

const api = await startTestApi({ stepMs: 150 });
const b = await launchChromium();
try {
  const page = await b.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${api.url}/`);
  await page.getByLabel('API key').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signin-error').waitFor();
  await page.screenshot({ path: join(out, '0-signin-error.png') });

  await signIn(page, api.url);
  await page.waitForTimeout(2500);
  await page.screenshot({ path: join(out, '1-stacks.png'), fullPage: true });

  await page.getByTestId('stack-link').filter({ hasText: 'shop' }).click();
  await page.getByTestId('services-table').waitFor();
  await page.screenshot({ path: join(out, '2-stack.png'), fullPage: true });

  await page.goto(`${api.url}/#/new`);
  await page.getByTestId('stack-name').fill('demo');
  await page.getByTestId('compose-editor').fill('services:\n  web:\n    image: [nginx\n');
  await page.getByTestId('yaml-problems').waitFor();
  await page.screenshot({ path: join(out, '3-new-stack-yaml-error.png'), fullPage: true });

  await page.getByTestId('compose-editor').fill('services:\n  web:\n    image: nginx:1.27\n');
  await page.getByTestId('yaml-ok').waitFor();
  await page.getByTestId('submit-stack').click();
  await page.getByTestId('log-line').first().waitFor();
  await page.screenshot({ path: join(out, '4-log-live.png') });
  await page.getByTestId('log-end').waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(out, '5-log-done.png') });

  // A second version, then the diff between the two.
  await page.goto(`${api.url}/#/stacks/demo/settings`);
  await page
    .getByTestId('compose-editor')
    .fill('services:\n  web:\n    image: nginx:1.28\n    ports: ["8080:80"]\n');
  await page.getByTestId('submit-stack').click();
  await page.getByTestId('toast').first().waitFor();
  await page.goto(`${api.url}/#/stacks/demo`);
  await page.getByTestId('action-deploy').click();
  await page.getByTestId('log-end').waitFor({ timeout: 15_000 });
  await page.goto(`${api.url}/#/stacks/demo/versions`);
  await page.getByTestId('file-diff').first().waitFor();
  await page.screenshot({ path: join(out, '6-versions-diff.png'), fullPage: true });

  await page.getByTestId('action-delete').click();
  await page.getByTestId('confirm-dialog').waitFor();
  await page.screenshot({ path: join(out, '7-confirm-delete.png') });
  await page.getByTestId('confirm-cancel').click();

  await page.goto(`${api.url}/#/stacks/demo/deployments`);
  await page.getByTestId('deployments-table').waitFor();
  await page.screenshot({ path: join(out, '8-deployments.png'), fullPage: true });

  await page.goto(`${api.url}/#/stacks/shop/settings`);
  await page.getByTestId('stack-form').waitFor();
  await page.screenshot({ path: join(out, '11-settings.png'), fullPage: true });

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${api.url}/#/`);
  await page.getByTestId('stacks-table').waitFor();
  await page.screenshot({ path: join(out, '12-dark-stacks.png') });
  await page.emulateMedia({ colorScheme: 'light' });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${api.url}/#/`);
  await page.getByTestId('stacks-table').waitFor();
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(out, '9-phone-stacks.png'), fullPage: true });
  await page.goto(`${api.url}/#/stacks/blog`);
  await page.getByTestId('stack-actions').waitFor();
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(out, '10-phone-stack.png'), fullPage: true });
  console.log(`screenshots in ${out}`);
} finally {
  await b.close();
  await api.close();
}
