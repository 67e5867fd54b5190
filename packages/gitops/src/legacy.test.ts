import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, createSecretBox, type GitClient, silentLogger } from '@simpledeploy/core';
import { createTestDb, findStackByName } from '@simpledeploy/db';
import { createServices, createSourceResolver, decryptSecrets } from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { ensureLegacyStack } from './legacy';
import { createWebhookService } from './webhooks';

function setup() {
  const { db } = createTestDb();
  const clock = createFakeClock();
  const secrets = createSecretBox('legacy-test');
  const services = createServices({
    db,
    runner: createFakeRunner(),
    clock,
    logger: silentLogger,
    secrets,
    redact: createRedactor([]),
    sources: createSourceResolver(),
    config: {
      dataDir: mkdtempSync(join(tmpdir(), 'sd-legacy-')),
      projectPrefix: 'simpledeploy',
      maxConcurrent: 1,
      childEnv: { PATH: '/usr/bin:/bin' },
    },
  });
  return { db, clock, secrets, ...services };
}

describe('ensureLegacyStack', () => {
  const repo = {
    url: 'https://git.example/acme/app.git',
    username: 'deploy',
    token: 'legacy-token-123',
    branch: 'prod',
    composePath: 'deploy/compose.yaml',
  };

  it('creates the stack "default" from REPO_URL and friends, with the token encrypted', async () => {
    const t = setup();
    const stack = await ensureLegacyStack({ stacks: t.stacks, logger: silentLogger }, repo);
    expect(stack).toMatchObject({
      name: 'default',
      source: 'git',
      repo_url: repo.url,
      repo_username: 'deploy',
      repo_branch: 'prod',
      compose_path: 'deploy/compose.yaml',
      has_repo_token: true,
      auto_deploy: true,
      reconcile_interval_seconds: 60,
    });
    const row = findStackByName(t.db, 'default');
    expect(row?.repoTokenEnc).not.toContain(repo.token);
    expect(row && decryptSecrets(row, t.secrets).repoToken).toBe(repo.token);
  });

  it('does nothing without REPO_URL or when "default" exists', async () => {
    const t = setup();
    expect(
      await ensureLegacyStack({ stacks: t.stacks, logger: silentLogger }, undefined),
    ).toBeUndefined();
    await t.stacks.create({ name: 'default', compose: 'services:\n  a:\n    image: x\n' });
    expect(
      await ensureLegacyStack({ stacks: t.stacks, logger: silentLogger }, repo),
    ).toBeUndefined();
    expect(t.stacks.get('default').source).toBe('inline');
  });

  it('validates like the API: a compose path outside the repository is refused', async () => {
    const t = setup();
    await expect(
      ensureLegacyStack(
        { stacks: t.stacks, logger: silentLogger },
        { url: repo.url, composePath: '../x.yaml' },
      ),
    ).rejects.toThrow(/inside the repository/);
  });
});

describe('webhook service: the branch of a stack without repo_branch', () => {
  const SECRET = 'hook-secret-xyz';
  const call = (
    t: ReturnType<typeof setup>,
    git: GitClient | undefined,
    payload: Record<string, unknown>,
  ) => {
    const body = JSON.stringify(payload);
    const sig = createHmac('sha256', SECRET).update(body).digest('hex');
    const h: Record<string, string> = {
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${sig}`,
    };
    return createWebhookService({
      db: t.db,
      deployer: t.deployer,
      secrets: t.secrets,
      clock: t.clock,
      logger: silentLogger,
      git,
    }).handle({
      stack: 'app',
      header: (n) => h[n.toLowerCase()],
      body: new TextEncoder().encode(body),
      apiKeyValid: false,
    });
  };

  const withStack = async () => {
    const t = setup();
    await t.stacks.create({
      name: 'app',
      repo_url: 'https://git.example/app.git',
      webhook_secret: SECRET,
    });
    return t;
  };

  it("uses the payload's default branch", async () => {
    const t = await withStack();
    const other = await call(t, undefined, {
      ref: 'refs/heads/dev',
      repository: { default_branch: 'trunk' },
    });
    expect(other).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/follows trunk/),
    });
    const same = await call(t, undefined, {
      ref: 'refs/heads/trunk',
      repository: { default_branch: 'trunk' },
    });
    expect(same.kind).toBe('queued');
  });

  it('asks the remote for its default branch when the payload does not say', async () => {
    const t = await withStack();
    const git: GitClient = {
      resolveRemote: async () => ({ ref: 'refs/heads/main', commit: 'a'.repeat(40) }),
      checkout: async () => {
        throw new Error('unused');
      },
    };
    expect(await call(t, git, { ref: 'refs/heads/dev' })).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/follows main/),
    });
    expect((await call(t, git, { ref: 'refs/heads/main' })).kind).toBe('queued');
  });

  it('ignores a push that deleted the branch', async () => {
    const t = await withStack();
    const deleted = await call(t, undefined, {
      ref: 'refs/heads/main',
      after: '0'.repeat(40),
      deleted: true,
    });
    expect(deleted).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/deleted/) });
    expect(t.deployer.listDeployments('app')).toEqual([]);
  });
});
