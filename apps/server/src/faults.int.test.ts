import {
  cleanupProject,
  getFreePort,
  startGitServer,
  type TestGitServer,
  WEB_CONTAINER_PORT,
} from '@simpledeploy/testing';
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

describe('the git server down during a poll', () => {
  let git: TestGitServer | undefined;
  afterAll(async () => {
    await git?.close();
  });

  it('records the poll error with a growing failure count and backoff, then resumes and deploys what was pushed meanwhile', async () => {
    git = await startGitServer({ username: 'faults', password: `git-${Date.now().toString(36)}` });
    const gitServer = git;
    const compose = (tag: string) =>
      `services:\n  worker:\n    image: ${images.sleeper}\n    environment:\n      TAG: ${tag}\n`;
    const repo = await gitServer.createRepo('poll', { 'compose.yaml': compose('a') });
    const first = await repo.headCommit();
    await createStack('poll', {
      repo_url: repo.url,
      repo_username: gitServer.username,
      repo_token: gitServer.password,
      reconcile_interval_seconds: 5,
      auto_deploy: true,
      ...creds(),
    });
    type Stack = {
      deployed_commit: string | null;
      remote_commit: string | null;
      poll: { last_poll_at: string | null; last_error: string | null; failures: number };
    };
    const stack = async (): Promise<Stack> =>
      (await server.api('GET', '/api/v1/stacks/poll')).json.stack;
    await until(
      async () => (await stack()).deployed_commit === first,
      60_000,
      'the first commit to be polled and deployed',
    );

    await gitServer.stop();
    const second = await repo.commit({ 'compose.yaml': compose('b') }, 'pushed while down');
    // The server's own record of each attempt: the gaps between them grow (backoff).
    const attempts = new Map<number, number>();
    const failing = await until(
      async () => {
        const s = await stack();
        if (s.poll.failures > 0 && s.poll.last_poll_at)
          attempts.set(s.poll.failures, Date.parse(s.poll.last_poll_at));
        return s.poll.failures >= 2 ? s : undefined;
      },
      60_000,
      'two failed polls',
    );
    expect(failing.poll.last_error).toEqual(expect.any(String));
    expect(failing.poll.last_error).not.toContain(gitServer.password);
    expect(failing.remote_commit).toBe(first);

    await gitServer.start();
    const resumed = await until(
      async () => {
        const s = await stack();
        return s.poll.failures === 0 && s.deployed_commit === second ? s : undefined;
      },
      90_000,
      'polling to resume and deploy the new commit',
    );
    // interval × 2^failures, ±10 % jitter: about 10 s after one failure, 20 s after two.
    const interval = 5_000;
    const [t1 = Number.NaN, t2 = Number.NaN] = [attempts.get(1), attempts.get(2)];
    expect(t2 - t1).toBeGreaterThan(1.5 * interval);
    expect(Date.parse(resumed.poll.last_poll_at ?? '') - t2).toBeGreaterThan(3 * interval);
    expect(resumed.poll.last_error).toBeNull();
    expect(resumed.remote_commit).toBe(second);
    const latest = (await server.api('GET', '/api/v1/stacks/poll/deployments')).json.deployments[0];
    expect(latest).toMatchObject({ trigger: 'poll', git_commit: second, status: 'succeeded' });
  });
});
