import { createHmac } from 'node:crypto';
import { createSecretBox, silentLogger } from '@simpledeploy/core';
import { createWebhookService } from '@simpledeploy/gitops';
import { createFakeClock } from '@simpledeploy/testing/fakes';
import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';
import { clientAddress, createFailureLimiter } from './rate-limit';

const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });

function setup(policy = { burst: 3, perMinute: 6 }) {
  const clock = createFakeClock();
  const domain = testDomain();
  const app = createApp(
    testDeps({
      domain: {
        ...domain,
        gitops: {
          drift: { report: async () => ({}) as never },
          webhooks: createWebhookService({
            db: domain.db,
            deployer: domain.deployer,
            // The same key testDomain encrypts with.
            secrets: createSecretBox('api-test'),
            clock: domain.clock,
            logger: silentLogger,
          }),
        },
      },
      clock,
      rateLimit: { auth: policy, webhook: policy },
    }),
  );
  return { app, clock, domain };
}

const get = (app: ReturnType<typeof setup>['app'], key: string, addr = '203.0.113.7') =>
  app.request('/api/v1/stacks', { headers: { 'X-API-KEY': key } }, from(addr));

describe('createFailureLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const clock = createFakeClock();
    const l = createFailureLimiter({ burst: 2, perMinute: 6 }, { clock });
    expect(l.fail('a')).toBe(0);
    expect(l.fail('a')).toBe(0);
    expect(l.fail('a')).toBe(10);
    clock.set(clock.now().getTime() + 4_000);
    expect(l.fail('a')).toBe(6);
    clock.set(clock.now().getTime() + 6_000);
    expect(l.fail('a')).toBe(0);
    expect(l.fail('b')).toBe(0);
  });

  it('keeps at most maxKeys clients, forgetting refilled and then the oldest ones', () => {
    const clock = createFakeClock();
    const l = createFailureLimiter({ burst: 1, perMinute: 60 }, { clock, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(l.size).toBeLessThanOrEqual(100);
    // The most recent client is still remembered.
    expect(l.fail('10.0.3.231')).toBeGreaterThan(0);
  });
});

describe('clientAddress', () => {
  const ctx = (remoteAddress?: string) =>
    ({ env: remoteAddress ? from(remoteAddress) : undefined }) as unknown as Context;
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('keys %s as %s', (raw, key) => {
    expect(clientAddress(ctx(raw))).toBe(key);
  });
  it('falls back to one shared key without a socket, never to a header', () => {
    expect(clientAddress(ctx())).toBe('unknown');
  });
});

describe('rate limiting of authentication failures', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a client keeps sending wrong keys', async () => {
    const { app, clock } = setup();
    for (let i = 0; i < 3; i++) expect((await get(app, 'wrong-key')).status).toBe(401);
    const res = await get(app, 'wrong-key');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await json(res)).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/wrong API key .* retry in 10 s/),
        details: { retry_after_seconds: 10 },
      },
    });
    // Another address is not affected.
    expect((await get(app, 'wrong-key', '198.51.100.1')).status).toBe(401);
    // After Retry-After one more attempt is allowed.
    clock.set(clock.now().getTime() + 10_000);
    expect((await get(app, 'wrong-key')).status).toBe(401);
    expect((await get(app, 'wrong-key')).status).toBe(429);
  });

  it('never refuses a correctly authenticated request, even from a limited address', async () => {
    const { app } = setup();
    for (let i = 0; i < 20; i++) await get(app, 'wrong-key');
    for (let i = 0; i < 200; i++) expect((await get(app, TEST_KEY)).status).toBe(200);
    expect((await get(app, 'wrong-key')).status).toBe(429);
  });

  it('limits WebSocket upgrades with a wrong ?token= like any other request', async () => {
    const { app } = setup();
    const ws = () =>
      app.request(
        '/api/v1/events/ws?token=nope',
        { headers: { upgrade: 'websocket' } },
        from('203.0.113.9'),
      );
    for (let i = 0; i < 3; i++) expect((await ws()).status).toBe(401);
    expect((await ws()).status).toBe(429);
  });

  it('limits floods of badly signed webhooks but never a correctly signed one', async () => {
    const { app, domain } = setup();
    await domain.stacks.create({
      name: 'hooked',
      compose: 'services:\n  web:\n    image: nginx\n',
      webhook_secret: 'hook-secret-123',
    });
    const hook = (secret: string, delivery: string) => {
      const body = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
      const sig = createHmac('sha256', secret).update(body).digest('hex');
      return app.request(
        '/api/v1/stacks/hooked/webhook',
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': delivery,
            'x-hub-signature-256': `sha256=${sig}`,
          },
          body,
        },
        from('192.0.2.50'),
      );
    };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await hook('wrong-secret', `bad-${i}`)).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual(Array(7).fill(429));
    // A burst of good deliveries from the same (limited) address: all accepted, they coalesce.
    const good = [];
    for (let i = 0; i < 50; i++) good.push((await hook('hook-secret-123', `good-${i}`)).status);
    expect(good.every((s) => s === 202)).toBe(true);
    const deployments = domain.deployer.listDeployments('hooked');
    expect(deployments.length).toBeLessThanOrEqual(2);
    // The API-key limiter is a separate allowance.
    expect((await get(app, 'wrong-key', '192.0.2.50')).status).toBe(401);
  });

  it('can be turned off', async () => {
    const app = createApp(testDeps({ rateLimit: false }));
    for (let i = 0; i < 30; i++) expect((await get(app, 'wrong')).status).toBe(401);
  });
});
