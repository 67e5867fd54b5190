// Steps shared by e2e runs.
import type { Page } from 'playwright-core';

/** Signs in on the sign-in page and waits for the stacks list. */
export async function signIn(page: Page, base: string, key = 'test-key'): Promise<void> {
  await page.goto(`${base}/#/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Stacks', level: 1 }).waitFor();
}
