import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createApp } from '../app';
import { testDomain, testGitops } from '../test-domain';
import { TEST_KEY, testDeps } from '../test-helpers';
import {
  DeploymentDetailResponse,
  DeploymentList,
  DeployResult,
  DeployWaited,
  Drift,
  ErrorBody,
  Health,
  LogSnapshot,
  PolicyResponse,
  ServiceList,
  StackDeleted,
  StackEventList,
  StackEventResponse,
  StackList,
  StackResponse,
  StackUpdated,
  Stats,
  SupervisorLog,
  SupervisorStack,
  SupervisorStackList,
  SupervisorStats,
  VersionList,
  VersionResponse,
  WebhookIgnored,
} from './index';

const compose = (tag: string) => `services:\n  web:\n    image: 127.0.0.1:5000/web:${tag}\n`;

/**
 * What the server sends parses with the contract's (strict) response schemas: a field the
 * server adds, drops or renames without the contract fails here, and the clients, which
 * read the contract's types, see the same shapes.
 */
describe('responses follow the contract schemas', () => {
  const domain = testDomain();
  const app = createApp(testDeps({ domain: { ...domain, gitops: testGitops(domain) } }));
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { 'X-API-KEY': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined, text };
  };
  const expectShape = async (
    schema: z.ZodType,
    method: string,
    path: string,
    body?: unknown,
    status = 200,
  ) => {
    const res = await call(method, path, body);
    expect(res.status, res.text).toBe(status);
    const parsed = schema.safeParse(res.json);
    expect(parsed.success, `${method} ${path}: ${parsed.error?.message}\n${res.text}`).toBe(true);
    return res.json as z.output<typeof schema>;
  };

  it('for stacks, deployments, versions, history, drift and policy', async () => {
    await expectShape(
      StackResponse,
      'POST',
      '/api/v1/stacks',
      {
        name: 'web',
        compose: compose('v1'),
        webhook_secret: 'hook-secret',
        registries: [{ registry: 'r.local', username: 'u', password: 'p' }],
      },
      201,
    );
    await expectShape(
      StackResponse,
      'POST',
      '/api/v1/stacks',
      {
        name: 'git',
        repo_url: 'https://git.example/o/app.git',
      },
      201,
    );
    await expectShape(StackList, 'GET', '/api/v1/stacks');
    await expectShape(StackResponse, 'GET', '/api/v1/stacks/web');
    await expectShape(StackUpdated, 'PATCH', '/api/v1/stacks/web', { auto_rollback: false });

    const queued = (await expectShape(
      DeployResult,
      'POST',
      '/api/v1/stacks/web/deploy',
      undefined,
      202,
    )) as z.output<typeof DeployResult>;
    await domain.deployer.waitFor(queued.deployment.id);
    await expectShape(DeployWaited, 'POST', '/api/v1/stacks/web/deploy?wait=true', {
      force: true,
    });
    await expectShape(StackUpdated, 'PATCH', '/api/v1/stacks/web', {
      auto_deploy: true,
      compose: compose('v2'),
    });
    await expectShape(DeploymentList, 'GET', '/api/v1/stacks/web/deployments');
    await expectShape(
      DeploymentDetailResponse,
      'GET',
      `/api/v1/deployments/${queued.deployment.id}`,
    );
    await expectShape(LogSnapshot, 'GET', `/api/v1/deployments/${queued.deployment.id}/logs`);
    await expectShape(LogSnapshot, 'GET', '/api/v1/stacks/web/logs');

    const versions = (await expectShape(
      VersionList,
      'GET',
      '/api/v1/stacks/web/versions',
    )) as z.output<typeof VersionList>;
    const [version] = versions.versions;
    await expectShape(VersionResponse, 'GET', `/api/v1/stacks/web/versions/${version?.id}`);

    await expectShape(ServiceList, 'GET', '/api/v1/stacks/web/services');
    await expectShape(Stats, 'GET', '/api/v1/stacks/web/stats');
    await expectShape(
      StackEventResponse,
      'POST',
      '/api/v1/stacks/web/control',
      {
        command: 'restart',
        services: ['web'],
      },
      202,
    );
    await expectShape(StackEventList, 'GET', '/api/v1/stacks/web/events');
    await expectShape(Drift, 'GET', '/api/v1/stacks/web/drift');
    await expectShape(PolicyResponse, 'GET', '/api/v1/policy');
    await expectShape(DeployResult, 'POST', '/webhook', { stack: 'web' }, 202);
    await expectShape(ErrorBody, 'GET', '/api/v1/stacks/nope', undefined, 404);
    await expectShape(ErrorBody, 'POST', '/api/v1/stacks', { name: 'Bad Name' }, 400);
    await expectShape(StackDeleted, 'DELETE', '/api/v1/stacks/git', undefined, 202);
  });

  it("for a git host's webhook and Supervisor's routes", async () => {
    const ignored = await app.request('/api/v1/stacks/web/webhook', {
      method: 'POST',
      headers: { 'X-API-KEY': TEST_KEY, 'X-GitHub-Event': 'issues' },
      body: '{}',
    });
    expect(ignored.status).toBe(202);
    expect(WebhookIgnored.safeParse(await ignored.json()).success).toBe(true);

    await expectShape(
      SupervisorStack,
      'POST',
      '/stacks',
      {
        name: 'sv',
        git_repository: 'https://git.example/o/sv.git',
        strategy: 'polling',
        polling_interval: '300',
      },
      201,
    );
    await expectShape(SupervisorStackList, 'GET', '/stacks');
    await expectShape(SupervisorStack, 'PATCH', '/stacks/sv', { strategy: 'webhook' });
    await expectShape(SupervisorStats, 'GET', '/stacks/web/stats');
    await expectShape(SupervisorLog, 'GET', '/stacks/web/log?entries=5');
  });

  it('for /health', async () => {
    const res = await app.request('/health');
    expect(Health.safeParse(await res.json()).success).toBe(true);
  });
});
