import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain, testGitops } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

function setup(withUpdates: boolean) {
  const domain = testDomain();
  const gitops = testGitops(domain);
  const report = { checked_at: '2026-01-01T00:00:00.000Z', services: [] };
  const app = createApp(
    testDeps({
      domain: {
        ...domain,
        gitops: withUpdates ? { ...gitops, updates: { report: async () => report } } : gitops,
      },
    }),
  );
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { 'X-API-KEY': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { call, report };
}

describe('image updates and commit status fields', () => {
  it('GET /updates answers the check, and 503 on a server built without checks', async () => {
    const on = setup(true);
    await on.call('POST', '/api/v1/stacks', { name: 'web', compose });
    const res = await on.call('GET', '/api/v1/stacks/web/updates');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(on.report);
    const off = setup(false);
    await off.call('POST', '/api/v1/stacks', { name: 'web', compose });
    const no = await off.call('GET', '/api/v1/stacks/web/updates');
    expect(no.status).toBe(503);
  });

  it('takes auto_update, update_check_interval_seconds and commit_status with defaults, and refuses bad values', async () => {
    const { call } = setup(true);
    const created = await json(await call('POST', '/api/v1/stacks', { name: 'web', compose }));
    expect(created.stack).toMatchObject({
      auto_update: false,
      update_check_interval_seconds: 0,
      image_updates: { checked_at: null, available: 0 },
      commit_status: 'auto',
      commit_status_api_url: null,
    });
    const ok = await call('PATCH', '/api/v1/stacks/web', {
      auto_update: true,
      update_check_interval_seconds: 300,
      commit_status: 'gitea',
      commit_status_api_url: 'https://git.example.com/api/v1/',
    });
    expect(ok.status).toBe(200);
    expect((await json(ok)).stack).toMatchObject({
      auto_update: true,
      update_check_interval_seconds: 300,
      commit_status: 'gitea',
      commit_status_api_url: 'https://git.example.com/api/v1',
    });
    for (const [body, field] of [
      [{ update_check_interval_seconds: 5 }, 'update_check_interval_seconds'],
      [{ commit_status: 'bitbucket' }, 'commit_status'],
      [{ commit_status_api_url: 'git.example.com' }, 'commit_status_api_url'],
    ] as const) {
      const bad = await call('PATCH', '/api/v1/stacks/web', body);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await json(bad))).toContain(field);
    }
  });
});
