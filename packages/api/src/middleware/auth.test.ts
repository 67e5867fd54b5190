import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { json, TEST_KEY, testDeps } from '../test-helpers';

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

  it('ignores ?token= on ordinary requests, so keys stay out of URLs and proxy logs', async () => {
    const app = appWithRoutes();
    const plain = await app.request(`/api/v1/ping?token=${TEST_KEY}`);
    await expectUnauthorized(plain.clone());
    expect((await json(plain)).error.message).toContain('?token= is accepted only on WebSocket');
    await expectUnauthorized(await app.request(`/api/v1/stacks?token=${TEST_KEY}`));
    // An upgrade header does not make an ordinary route a WebSocket route.
    const upgrade = { Upgrade: 'websocket', Connection: 'Upgrade' };
    for (const path of ['/api/v1/ping', '/api/v1/stacks', '/api/v1/stacks/web/logs']) {
      await expectUnauthorized(
        await app.request(`${path}?token=${TEST_KEY}`, { headers: upgrade }),
      );
    }
    // A WebSocket route without the upgrade is an ordinary request.
    await expectUnauthorized(await app.request(`/api/v1/deployments/x/logs/ws?token=${TEST_KEY}`));
  });

  it('accepts ?token= on WebSocket upgrades of the /ws routes', async () => {
    const app = appWithRoutes();
    const upgrade = { Upgrade: 'websocket', Connection: 'Upgrade' };
    // Past auth: the deployment and the stack do not exist.
    for (const path of ['/api/v1/deployments/nope/logs/ws', '/api/v1/stacks/nope/logs/ws']) {
      const res = await app.request(`${path}?token=${TEST_KEY}`, { headers: upgrade });
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('NOT_FOUND');
    }
    await expectUnauthorized(
      await app.request('/api/v1/deployments/nope/logs/ws?token=wrong', { headers: upgrade }),
    );
  });

  it("takes ?token= only on the access table's WebSocket routes, and only on an upgrade", async () => {
    const app = appWithRoutes();
    const upgrade = { headers: { Upgrade: 'websocket' } };
    // The event stream's SSE twin is not a WebSocket route: the token does not count there.
    expect((await app.request(`/api/v1/events?token=${TEST_KEY}`, upgrade)).status).toBe(401);
    expect((await app.request(`/api/v1/stacks/web/logs?token=${TEST_KEY}`, upgrade)).status).toBe(
      401,
    );
    const ws = await app.request(`/api/v1/stacks/nope/logs/ws?token=${TEST_KEY}`, upgrade);
    expect(ws.status).toBe(404);
  });

  it('leaves /health and /metrics open', async () => {
    const app = appWithRoutes();
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(200);
  });

  it('lets git-host webhooks through so their route checks the signature itself', async () => {
    const app = appWithRoutes();
    const res = await app.request('/api/v1/stacks/web/webhook', { method: 'POST' });
    expect(res.status).toBe(401);
    expect((await json(res)).error.message).toContain('webhook signature');
    expect((await app.request('/api/v1/stacks/web')).status).toBe(401);
  });

  it('refuses to be built with an empty key', () => {
    expect(() => createApp(testDeps({ apiKey: '' }))).toThrow(/non-empty/);
  });
});
