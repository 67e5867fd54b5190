import { cleanupProject, getFreePort, WEB_CONTAINER_PORT } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  composeProcesses,
  HANGING_HEALTHCHECK,
  type InProcessServer,
  startInProcessServer,
  until,
  untilUpStarted,
} from './test-server';

const registry = inject('registry');
const images = inject('images');

let server: InProcessServer;
const stacksMade: string[] = [];

const creds = (password = registry.password) => ({
  docker_registry: registry.host,
  docker_username: registry.username,
  docker_password: password,
});

const webCompose = (image: string, port: number, extra = '') =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n${extra}`;

async function httpBody(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) });
  return (await res.text()).trim();
}

async function createStack(name: string, body: Record<string, unknown>) {
  stacksMade.push(name);
  const res = await server.api('POST', '/api/v1/stacks', { name, ...body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
}

beforeAll(async () => {
  server = await startInProcessServer();
});

afterAll(async () => {
  await server?.stop();
  for (const name of stacksMade) await cleanupProject(`${server.prefix}-${name}`);
});

describe('the registry refusing credentials', () => {
  it('fails the deploy with an auth error that holds no password, and the last good version keeps serving', async () => {
    const port = await getFreePort();
    await createStack('auth', { compose: webCompose(images.webV1, port), ...creds() });
    const good = await server.api('POST', '/api/v1/stacks/auth/deploy?wait=true');
    expect(good.json.deployment.status, good.json.deployment.error).toBe('succeeded');
    expect(await httpBody(port)).toBe('v1');

    const wrong = `wrong-password-${Math.random().toString(36).slice(2)}`;
    const patched = await server.api('PATCH', '/api/v1/stacks/auth', {
      compose: webCompose(images.webV2, port),
      docker_password: wrong,
    });
    expect(patched.status).toBe(200);
    const res = await server.api('POST', '/api/v1/stacks/auth/deploy?wait=true');
    expect(res.status).toBe(422);
    const dep = res.json.deployment;
    expect(dep.status).toBe('failed');
    expect(dep.error).toMatch(/pulling images failed/);
    expect(dep.error).toMatch(/unauthorized|authentication required|no basic auth|denied/i);

    const detail = await server.api('GET', `/api/v1/deployments/${dep.id}`);
    const everything = JSON.stringify(detail.json);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(registry.password);

    // The engine was never touched: v1 still answers and is still the current version.
    expect(await httpBody(port)).toBe('v1');
    const stack = (await server.api('GET', '/api/v1/stacks/auth')).json.stack;
    expect(stack.current_version_id).toBe(good.json.deployment.version_id);
  });
});

describe('a compose that hangs', () => {
  it('ends at deploy_timeout_seconds with "timed out after 10 s", leaves no compose process and rolls back', async () => {
    const port = await getFreePort();
    await createStack('hang', {
      compose: webCompose(images.webV1, port),
      deploy_timeout_seconds: 10,
      ...creds(),
    });
    const good = await server.api('POST', '/api/v1/stacks/hang/deploy?wait=true');
    expect(good.json.deployment.status, good.json.deployment.error).toBe('succeeded');

    await server.api('PATCH', '/api/v1/stacks/hang', {
      compose: webCompose(images.webV2, port, HANGING_HEALTHCHECK),
    });
    const { json } = await server.api('POST', '/api/v1/stacks/hang/deploy');
    const id = json.deployment.id;
    await untilUpStarted(server.api, id);
    expect(composeProcesses(server.prefix).length).toBeGreaterThan(0);

    const done = await server.container.services.deployer.waitFor(id);
    // Failed at the timeout, then the last good version re-applied.
    expect(done.status).toBe('rolled_back');
    expect(done.error).toMatch(/^timed out after 10 s; rolled back to version /);
    await until(
      () => composeProcesses(server.prefix).length === 0,
      5_000,
      'no compose process left',
    );
    expect(await httpBody(port)).toBe('v1');
  });
});
