import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

function setup() {
  const domain = testDomain();
  const app = createApp(testDeps({ domain }));
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { 'X-API-KEY': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return { app, call, domain };
}

describe('stacks API', () => {
  it('creates a stack and never returns its secrets', async () => {
    const { call } = setup();
    const res = await call('POST', '/api/v1/stacks', {
      name: 'web',
      compose,
      webhook_secret: 'hook-secret-1',
      docker_registry: '127.0.0.1:5000',
      docker_username: 'u',
      docker_password: 'registry-pw-1',
      registries: [{ registry: 'r.local', username: 'x', password: 'other-pw-1' }],
    });
    expect(res.status).toBe(201);
    const text = await res.text();
    for (const s of ['hook-secret-1', 'registry-pw-1', 'other-pw-1']) expect(text).not.toContain(s);
    const { stack } = JSON.parse(text);
    expect(stack).toMatchObject({
      name: 'web',
      source: 'inline',
      status: 'idle',
      has_webhook_secret: true,
      has_docker_password: true,
      has_repo_token: false,
      registries: [{ registry: 'r.local', username: 'x', has_password: true }],
    });
    const list = await json(await call('GET', '/api/v1/stacks'));
    expect(list.stacks.map((s: { name: string }) => s.name)).toEqual(['web']);
    expect((await call('GET', `/api/v1/stacks/${stack.id}`)).status).toBe(200);
  });

  it.each([
    [{ name: 'A', compose }, /name must be/],
    [{ name: '../x', compose }, /name must be/],
    [{ name: 'ok' }, /needs compose .* or repo_url/],
    [{ name: 'ok', compose, repo_url: 'https://h/r.git' }, /either compose .* or repo_url/],
    [{ name: 'ok', compose: 'services: [' }, /not valid YAML/],
    [{ name: 'ok', compose, colour: 'blue' }, /unknown field "colour"/],
    [{ name: 'ok', compose, auto_deploy: 'yes' }, /auto_deploy must be a boolean/],
    [{ name: 'ok', repo_url: 'file:///etc' }, /repo_url/],
    [
      { name: 'ok', repo_url: 'https://h/r.git', compose_path: '../x' },
      /compose_path must stay inside the repository/,
    ],
    [
      { name: 'ok', compose, docker_username: 'u' },
      /docker_username and docker_password go together/,
    ],
  ])('refuses %j with a 400 that says what to fix', async (body, message) => {
    const { call } = setup();
    const res = await call('POST', '/api/v1/stacks', body);
    expect(res.status).toBe(400);
    const answer = await json(res);
    expect(answer.error.code).toBe('VALIDATION');
    expect(answer.error.message).toMatch(message);
    expect((await json(await call('GET', '/api/v1/stacks'))).stacks).toEqual([]);
  });

  it('answers invalid JSON with a 400 error body', async () => {
    const { call } = setup();
    const res = await call('POST', '/api/v1/stacks', '{"name":');
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/not valid JSON/);
  });

  it('refuses a second stack with the same name with 409', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'dup', compose });
    const res = await call('POST', '/api/v1/stacks', { name: 'dup', compose });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('CONFLICT');
  });

  it('changes only the fields sent and queues a deploy when auto_deploy is on', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', {
      name: 'p',
      compose,
      auto_deploy: true,
      webhook_secret: 'keep-me-1',
    });
    const res = await call('PATCH', '/api/v1/stacks/p', { compose: compose.replace('v1', 'v2') });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.stack.compose).toContain('v2');
    expect(body.stack.has_webhook_secret).toBe(true);
    expect(body.deployment).toMatchObject({ trigger: 'api', status: 'queued' });
    const quiet = await json(
      await call('PUT', '/api/v1/stacks/p', { reconcile_interval_seconds: 60 }),
    );
    expect(quiet.deployment).toBeUndefined();
  });

  it('masks a secret in the stack view as soon as it is set, and stops once it is replaced', async () => {
    const { call } = setup();
    const yaml = `${compose}# token: first-secret-1\n`;
    await call('POST', '/api/v1/stacks', {
      name: 's',
      compose: yaml,
      webhook_secret: 'first-secret-1',
    });
    expect((await json(await call('GET', '/api/v1/stacks/s'))).stack.compose).not.toContain(
      'first-secret-1',
    );
    await call('PATCH', '/api/v1/stacks/s', { webhook_secret: 'second-secret-2' });
    const after = (await json(await call('GET', '/api/v1/stacks'))).stacks[0];
    expect(after.compose).toContain('first-secret-1');
    await call('PATCH', '/api/v1/stacks/s', { webhook_secret: null });
    expect((await json(await call('GET', '/api/v1/stacks/s'))).stack.has_webhook_secret).toBe(
      false,
    );
  });

  it('answers an unknown stack with 404 and the error body', async () => {
    const { call } = setup();
    const res = await call('GET', '/api/v1/stacks/nope');
    expect(res.status).toBe(404);
    expect((await json(res)).error).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('validates control commands and records them', async () => {
    const { call, domain } = setup();
    await call('POST', '/api/v1/stacks', { name: 'c', compose });
    expect((await call('POST', '/api/v1/stacks/c/control', { command: 'explode' })).status).toBe(
      400,
    );
    expect((await call('POST', '/api/v1/stacks/c/control', { command: 'restart' })).status).toBe(
      409,
    );
    await domain.deployer.waitFor(domain.deployer.deploy('c', { trigger: 'manual' }).deployment.id);
    const res = await call('POST', '/api/v1/stacks/c/control', {
      command: 'scale',
      service: 'web',
      replicas: 2,
    });
    expect(res.status).toBe(202);
    expect((await json(res)).event).toMatchObject({
      kind: 'control',
      detail: { command: 'scale', replicas: 2 },
    });
  });

  it('deletes a stack with 202', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'gone', compose });
    const res = await call('DELETE', '/api/v1/stacks/gone?remove_volumes=true');
    expect(res.status).toBe(202);
    expect((await call('GET', '/api/v1/stacks/gone')).status).toBe(404);
  });
});
