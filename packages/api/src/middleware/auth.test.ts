import { silentLogger } from '@simpledeploy/core';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import type { AppEnv } from '../deps';
import { createErrorHandler } from '../errors';
import { json, TEST_KEY, testDeps } from '../test-helpers';
import { apiKeyAuth } from './auth';

function appWithRoutes() {
  const app = createApp(testDeps());
  app.get('/api/v1/ping', (c) => c.json({ pong: true }));
  app.post('/webhook', (c) => c.json({ queued: true }, 202));
  return app;
}

const expectUnauthorized = async (res: Response) => {
  expect(res.status).toBe(401);
  const body = await json(res);
  expect(body).toEqual({
    error: { code: 'UNAUTHORIZED', message: expect.stringContaining('API key'), details: {} },
  });
};

describe('API key auth', () => {
  it('rejects a request without a key with 401 and the error body', async () => {
    await expectUnauthorized(await appWithRoutes().request('/api/v1/ping'));
  });

  it('rejects a wrong key in either header form', async () => {
    const app = appWithRoutes();
    await expectUnauthorized(
      await app.request('/api/v1/ping', { headers: { 'X-API-KEY': 'wrong-key' } }),
    );
    await expectUnauthorized(
      await app.request('/api/v1/ping', { headers: { Authorization: 'Bearer wrong-key' } }),
    );
    await expectUnauthorized(
      await app.request('/api/v1/ping', { headers: { Authorization: `Basic ${TEST_KEY}` } }),
    );
  });

  it('accepts the key as X-API-KEY', async () => {
    const res = await appWithRoutes().request('/api/v1/ping', {
      headers: { 'X-API-KEY': TEST_KEY },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ pong: true });
  });

  it('accepts the key as Authorization: Bearer, whatever the scheme case', async () => {
    const app = appWithRoutes();
    for (const scheme of ['Bearer', 'bearer']) {
      const res = await app.request('/api/v1/ping', {
        headers: { Authorization: `${scheme} ${TEST_KEY}` },
      });
      expect(res.status).toBe(200);
    }
  });

  it('accepts the request when both headers are sent', async () => {
    const res = await appWithRoutes().request('/api/v1/ping', {
      headers: { 'X-API-KEY': TEST_KEY, Authorization: `Bearer ${TEST_KEY}` },
    });
    expect(res.status).toBe(200);
  });

  it('protects POST /webhook', async () => {
    const app = appWithRoutes();
    await expectUnauthorized(await app.request('/webhook', { method: 'POST' }));
    const ok = await app.request('/webhook', {
      method: 'POST',
      headers: { 'X-API-KEY': TEST_KEY },
    });
    // Past auth: with no stacks yet the webhook says which stack is missing.
    expect(ok.status).toBe(404);
    expect((await json(ok)).error.message).toContain("stack 'default'");
  });

  it('answers 401 rather than 404 for unknown API routes without a key', async () => {
    await expectUnauthorized(await appWithRoutes().request('/api/v1/stacks/nope'));
  });

  it('accepts ?token= only on WebSocket upgrades', async () => {
    const app = appWithRoutes();
    await expectUnauthorized(await app.request(`/api/v1/ping?token=${TEST_KEY}`));
    const upgrade = await app.request(`/api/v1/ping?token=${TEST_KEY}`, {
      headers: { Upgrade: 'websocket', Connection: 'Upgrade' },
    });
    expect(upgrade.status).toBe(200);
    await expectUnauthorized(
      await app.request('/api/v1/ping?token=wrong', { headers: { Upgrade: 'websocket' } }),
    );
  });

  it('leaves /health and /metrics open', async () => {
    const app = appWithRoutes();
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(200);
  });

  it('lets exempt requests through so their route can authenticate by itself', async () => {
    const app = new Hono<AppEnv>()
      .onError(createErrorHandler(silentLogger))
      .use(
        '/api/v1/*',
        apiKeyAuth({ apiKey: TEST_KEY, exempt: (c) => c.req.path.endsWith('/webhook') }),
      )
      .post('/api/v1/stacks/web/webhook', (c) => c.text('signed'))
      .get('/api/v1/stacks/web', (c) => c.text('secret'));
    expect((await app.request('/api/v1/stacks/web/webhook', { method: 'POST' })).status).toBe(200);
    expect((await app.request('/api/v1/stacks/web')).status).toBe(401);
  });

  it('refuses to be built with an empty key', () => {
    expect(() => createApp(testDeps({ apiKey: '' }))).toThrow(/non-empty/);
  });
});
