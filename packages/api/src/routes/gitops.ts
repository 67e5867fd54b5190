import { AppError } from '@simpledeploy/core';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../deps';
import type { DomainDeps, GitopsDeps } from '../domain';
import { hasValidApiKey } from '../middleware/auth';

/**
 * The git-host webhooks (`POST /api/v1/stacks/{stack}/webhook` and the repository-wide
 * `POST /api/v1/webhooks/repository`) authenticate themselves: the global API-key check skips them.
 */
export const isStackWebhook = (c: Context) =>
  c.req.method === 'POST' &&
  /^\/api\/v1\/(stacks\/[^/]+\/webhook|webhooks\/repository)\/?$/.test(c.req.path);

const notEnabled = () =>
  new AppError('UNAVAILABLE', 'drift and git webhooks are not enabled on this server');

/** Drift reports and the per-stack git-host webhook. */
export function gitopsRoutes(domain: DomainDeps, apiKey: string) {
  const gitops = (): GitopsDeps => {
    if (!domain.gitops) throw notEnabled();
    return domain.gitops;
  };
  return new Hono<AppEnv>()
    .get('/api/v1/stacks/:stack/drift', async (c) =>
      c.json(await gitops().drift.report(c.req.param('stack'))),
    )
    .post('/api/v1/stacks/:stack/webhook', async (c) => {
      // The raw bytes, as the git host signed them; the global body limit applies while reading.
      const body = new Uint8Array(await c.req.arrayBuffer());
      const apiKeyValid = hasValidApiKey(c, apiKey);
      if (!domain.gitops && !apiKeyValid) {
        c.header('WWW-Authenticate', 'Bearer');
        throw new AppError('UNAUTHORIZED', 'a valid webhook signature or the API key is required');
      }
      const res = await gitops().webhooks.handle({
        stack: c.req.param('stack'),
        header: (name) => c.req.header(name),
        body,
        apiKeyValid,
      });
      return c.json(res.body, res.status);
    })
    .post('/api/v1/webhooks/repository', async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      const apiKeyValid = hasValidApiKey(c, apiKey);
      if (!domain.gitops && !apiKeyValid) {
        c.header('WWW-Authenticate', 'Bearer');
        throw new AppError('UNAUTHORIZED', 'a valid webhook signature or the API key is required');
      }
      const res = await gitops().webhooks.handleRepository({
        header: (name) => c.req.header(name),
        body,
        apiKeyValid,
      });
      return c.json(res.body, res.status);
    });
}
