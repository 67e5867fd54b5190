import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppError,
  createRedactor,
  createSecretBox,
  type LogFields,
  type Logger,
  systemClock,
} from '@simpledeploy/core';
import { createTestDb } from '@simpledeploy/db';
import {
  createExecaRunner,
  createGitSourceResolver,
  createServices,
  createSourceResolver,
  type DeploymentView,
} from '@simpledeploy/deployer';
import { createGitClient } from '@simpledeploy/git';
import {
  cleanupProject,
  dockerOk,
  getFreePort,
  startGitServer,
  type TestGitServer,
  type TestRepo,
  uniqueProjectName,
  waitFor,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDriftService } from './drift';
import { createReconciler } from './reconciler';
import { createWebhookService, type WebhookRequest } from './webhooks';

const API_KEY = 'gitops-int-api-key-0123456789';
const SECRET = 'gitops-int-webhook-secret';
const registry = inject('registry');
const images = inject('images');

/** Keeps what is logged, to prove no secret reaches it. */
function recordingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const at = (level: string) => (msg: string, fields?: LogFields) =>
    lines.push(JSON.stringify({ level, msg, ...fields }));
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => recordingLogger(lines),
  };
}

const composeFile = (image: string, port: number) =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:${port}:80"\n`;

const headers =
  (h: Record<string, string>): WebhookRequest['header'] =>
  (name) =>
    Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

/** A GitHub push payload as GitHub sends it (the fields simpledeploy reads and some it does not). */
const githubPush = (
  repo: TestRepo,
  branch: string,
  before: string,
  after: string,
  files: string[],
) =>
  JSON.stringify({
    ref: `refs/heads/${branch}`,
    before,
    after,
    created: false,
    deleted: false,
    forced: false,
    compare: `https://github.example/o/${repo.name}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    repository: {
      id: 1,
      name: repo.name,
      full_name: `o/${repo.name}`,
      clone_url: repo.url,
      default_branch: repo.defaultBranch,
    },
    pusher: { name: 'dev', email: 'dev@example.invalid' },
    sender: { login: 'dev', id: 2 },
    commits: [
      {
        id: after,
        message: 'update',
        timestamp: '2026-01-01T00:00:00Z',
        author: { name: 'dev', email: 'dev@example.invalid' },
        added: [],
        removed: [],
        modified: files,
      },
    ],
    head_commit: { id: after, message: 'update', added: [], removed: [], modified: files },
  });

const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');
const bytes = (s: string) => new TextEncoder().encode(s);
/** The headers GitHub sends with a push, signed with the stacks' webhook secret. */
const githubHeaders = (body: string, delivery: string) =>
  headers({
    'X-GitHub-Event': 'push',
    'X-GitHub-Delivery': delivery,
    'X-Hub-Signature-256': `sha256=${sign(body)}`,
  });

async function httpText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) });
  return (await res.text()).trim();
}

describe('gitops against a real git server, engine and registry', () => {
  let server: TestGitServer;
  let dataDir: string;
  let port: number;
  let repo: TestRepo;
  let v2Commit = '';
  const prefix = uniqueProjectName();
  const logLines: string[] = [];
  const logger = recordingLogger(logLines);
  const secrets = createSecretBox('gitops-int');
  const { db } = createTestDb();
  const runner = createExecaRunner({ killGraceMs: 2_000 });
  const git = createGitClient({ logger, requestTimeoutMs: 5_000 });
  let services: ReturnType<typeof createServices>;
  let drift: ReturnType<typeof createDriftService>;
  let webhooks: ReturnType<typeof createWebhookService>;
  let reconciler: ReturnType<typeof createReconciler>;

  const project = (name: string) => `${prefix}-${name}`;
  const stackBody = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    repo_url: repo.url,
    repo_username: server.username,
    repo_token: server.password,
    docker_registry: registry.host,
    docker_username: registry.username,
    docker_password: registry.password,
    webhook_secret: SECRET,
    ...extra,
  });
  const finished = async (d: DeploymentView) => services.deployer.waitFor(d.id);
  const deployments = (name: string) => services.deployer.listDeployments(name);
  const containerId = async (name: string) =>
    (
      await dockerOk([
        'ps',
        '-aq',
        '--filter',
        `label=com.docker.compose.project=${project(name)}`,
        '--filter',
        'label=com.docker.compose.service=web',
      ])
    ).stdout.trim();
  /** Waits for a new deployment (not one of those seen before) to match and end. */
  const waitForDeployment = async (name: string, pred: (d: DeploymentView) => boolean) => {
    const seen = new Set(deployments(name).map((d) => d.id));
    let found: DeploymentView | undefined;
    await waitFor(
      `a deployment of ${name}`,
      async () => {
        found = deployments(name).find((d) => !seen.has(d.id) && pred(d));
        return !!found && !['queued', 'running'].includes(found.status);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return found as DeploymentView;
  };

  beforeAll(async () => {
    // Our own git server, so one test can stop it (the global one lives in another process).
    server = await startGitServer({
      username: 'gitops',
      password: `pw-${randomBytes(8).toString('hex')}`,
    });
    dataDir = await mkdtemp(join(tmpdir(), 'sd-gitops-int-'));
    port = await getFreePort();
    repo = await server.createRepo(`app-${randomBytes(3).toString('hex')}`, {
      'compose.yaml': composeFile(images.webV1, port),
      'README.md': 'app\n',
    });
    services = createServices({
      db,
      runner,
      clock: systemClock,
      logger,
      secrets,
      redact: createRedactor([API_KEY]),
      sources: createSourceResolver(createGitSourceResolver(git)),
      config: {
        dataDir,
        projectPrefix: prefix,
        maxConcurrent: 2,
        childEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dataDir },
        reapplyRetryDelayMs: 1_000,
      },
    });
    const deps = { db, deployer: services.deployer, secrets, clock: systemClock, logger, git };
    drift = createDriftService({
      ...deps,
      runner,
      config: {},
    });
    webhooks = createWebhookService(deps);
    reconciler = createReconciler({ ...deps, drift, resyncMs: 1_000 });
  });

  afterAll(async () => {
    await reconciler?.stop();
    await services?.deployer.shutdown(10_000);
    for (const name of ['app', 'badcreds', 'front', 'back']) {
      await cleanupProject(project(name)).catch(() => {});
    }
    await dockerOk(['rm', '-f', `${project('app')}-stray`]).catch(() => {});
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('deploys a git stack with a private image and records the commit', async () => {
    await services.stacks.create(stackBody('app'));
    const d = await finished(services.deployer.deploy('app', { trigger: 'manual' }).deployment);
    expect(d.error).toBeNull();
    expect(d.status).toBe('succeeded');
    expect(d.git_commit).toBe(await repo.headCommit());
    expect(services.deployer.listVersions('app')[0]?.git_commit).toBe(d.git_commit);
    expect(await httpText(port)).toBe('v1');
    const report = await drift.report('app');
    expect(report).toMatchObject({
      in_sync: true,
      services: [],
      git: { deployed_commit: d.git_commit, remote_commit: d.git_commit, behind: false },
    });
  });

  it('polling without auto_deploy only reports that the stack is behind', async () => {
    await services.stacks.update('app', { reconcile_interval_seconds: 5 });
    const v2 = await repo.commit({ 'compose.yaml': composeFile(images.webV2, port) }, 'web v2');
    v2Commit = v2;
    reconciler.start();
    await waitFor(
      'the poll to see the new commit',
      async () => services.stacks.get('app').remote_commit === v2,
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const view = services.stacks.get('app');
    expect(view).toMatchObject({ behind: true, poll: { last_error: null, failures: 0 } });
    expect(view.poll.last_poll_at).not.toBeNull();
    expect(deployments('app')).toHaveLength(1);
    expect(await httpText(port)).toBe('v1');
  });

  it('polling with auto_deploy deploys the new commit (trigger poll)', async () => {
    const head = await repo.headCommit();
    const polled = waitForDeployment('app', (x) => x.trigger === 'poll');
    await services.stacks.update('app', { auto_deploy: true });
    const d = await polled;
    expect(d).toMatchObject({ status: 'succeeded', git_commit: head });
    expect(await httpText(port)).toBe('v2');
    expect(services.stacks.get('app')).toMatchObject({ behind: false, deployed_commit: head });
  });

  it('repairs a stopped container: drift says stopped, the reconciler deploys (trigger drift)', async () => {
    // Paused while the drift is looked at, so the repair cannot race the assertion.
    await reconciler.stop();
    await dockerOk(['stop', await containerId('app')]);
    const report = await drift.report('app');
    expect(report.in_sync).toBe(false);
    expect(report.services).toMatchObject([
      { service: 'web', type: 'stopped', expected: 'running' },
    ]);
    const repaired = waitForDeployment('app', (x) => x.trigger === 'drift');
    reconciler.start();
    expect((await repaired).status).toBe('succeeded');
    await waitFor('drift to be cured', async () => (await drift.report('app')).in_sync, {
      timeoutMs: 20_000,
      intervalMs: 500,
    });
    expect(await httpText(port)).toBe('v2');
    await reconciler.stop();
  });

  it('reports a removed container as missing and a stray one with the project label as extra', async () => {
    await dockerOk(['rm', '-f', await containerId('app')]);
    expect((await drift.report('app')).services).toMatchObject([
      { service: 'web', type: 'missing', expected: images.webV2, actual: null },
    ]);
    await dockerOk([
      'run',
      '-d',
      '--pull',
      'never',
      '--network',
      'none',
      '--name',
      `${project('app')}-stray`,
      '--label',
      `com.docker.compose.project=${project('app')}`,
      '--label',
      'com.docker.compose.service=stray',
      images.sleeper,
    ]);
    const report = await drift.report('app');
    expect(report.services.map((s) => [s.type, s.service])).toEqual([
      ['missing', 'web'],
      ['extra', 'stray'],
    ]);
    // One reconcile repairs what a deploy can: the missing container comes back.
    const repaired = waitForDeployment('app', (x) => x.trigger === 'drift');
    await reconciler.reconcileNow('app');
    const d = await repaired;
    expect(d.status).toBe('succeeded');
    expect(await httpText(port)).toBe('v2');
    await dockerOk(['rm', '-f', `${project('app')}-stray`]).catch(() => {});
  });

  it('deploys on a GitHub-signed push webhook with a realistic payload', async () => {
    const before = await repo.headCommit();
    // README changes too: a tree equal to an earlier commit's would reuse that version.
    const after = await repo.commit(
      { 'compose.yaml': composeFile(images.webV1, port), 'README.md': 'app, v1 again\n' },
      'back to v1',
    );
    const body = githubPush(repo, 'main', before, after, ['compose.yaml']);
    const res = await webhooks.handle({
      stack: 'app',
      body: bytes(body),
      apiKeyValid: false,
      header: githubHeaders(body, 'gh-delivery-1'),
    });
    if (res.kind !== 'queued') throw new Error(`expected a deploy, got ${JSON.stringify(res)}`);
    const d = await finished(res.deployment);
    expect(d).toMatchObject({ trigger: 'webhook', status: 'succeeded', git_commit: after });
    expect(await httpText(port)).toBe('v1');

    // The same delivery again: no second deploy.
    const again = await webhooks.handle({
      stack: 'app',
      body: bytes(body),
      apiKeyValid: false,
      header: githubHeaders(body, 'gh-delivery-1'),
    });
    expect(again).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/already handled/),
    });
    expect(deployments('app').filter((x) => x.trigger === 'webhook')).toHaveLength(1);
  });

  it('deploys only the stacks whose files a push changed, from one webhook for the whole repository', async () => {
    const frontPort = await getFreePort();
    const mono = await server.createRepo(`mono-${randomBytes(3).toString('hex')}`, {
      'front/compose.yaml': composeFile(images.webV1, frontPort),
      'back/compose.yaml': `services:\n  worker:\n    image: ${images.sleeper}\n`,
    });
    for (const [name, path] of [
      ['front', 'front/compose.yaml'],
      ['back', 'back/compose.yaml'],
    ] as const) {
      await services.stacks.create({
        ...stackBody(name),
        repo_url: mono.url,
        compose_path: path,
        repo_branch: 'main',
      });
    }
    const before = await mono.headCommit();
    const after = await mono.commit(
      { 'front/compose.yaml': composeFile(images.webV2, frontPort) },
      'front v2',
    );
    const body = githubPush(mono, 'main', before, after, ['front/compose.yaml']);
    const res = await webhooks.handleRepository({
      body: bytes(body),
      apiKeyValid: false,
      header: githubHeaders(body, 'mono-1'),
    });
    if (res.kind !== 'stacks') throw new Error(`expected stacks, got ${JSON.stringify(res)}`);
    const outcome = (name: string) => res.stacks.find((o) => o.stack === name)?.outcome;
    expect(outcome('back')).toMatchObject({
      kind: 'ignored',
      reason: expect.stringMatching(/changes none/),
    });
    const front = outcome('front');
    if (front?.kind !== 'queued')
      throw new Error(`expected front to deploy, got ${JSON.stringify(front)}`);
    const d = await finished(front.deployment);
    expect(d).toMatchObject({ trigger: 'webhook', status: 'succeeded', git_commit: after });
    expect(await httpText(frontPort)).toBe('v2');
    expect(deployments('back')).toEqual([]);
  });

  it('refuses a wrong signature and ignores a push to another branch', async () => {
    const head = await repo.headCommit();
    const body = githubPush(repo, 'main', head, head, ['compose.yaml']);
    const wrong = webhooks.handle({
      stack: 'app',
      body: bytes(body),
      apiKeyValid: false,
      header: headers({
        'X-GitHub-Event': 'push',
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', 'nope').update(body).digest('hex')}`,
      }),
    });
    await expect(wrong).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

    const feature = await repo.commit({ 'compose.yaml': composeFile(images.webV2, port) }, 'f', {
      branch: 'feature',
    });
    const other = githubPush(repo, 'feature', head, feature, ['compose.yaml']);
    const res = await webhooks.handle({
      stack: 'app',
      body: bytes(other),
      apiKeyValid: false,
      header: headers({
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': 'gh-feature',
        'X-Hub-Signature-256': `sha256=${sign(other)}`,
      }),
    });
    expect(res).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/feature/) });
    expect(deployments('app').filter((x) => x.trigger === 'webhook')).toHaveLength(1);
  });

  it('accepts a GitLab token and a Gitea signature', async () => {
    const head = await repo.headCommit();
    const lab = JSON.stringify({
      object_kind: 'push',
      ref: 'refs/heads/main',
      before: head,
      after: head,
      checkout_sha: head,
      total_commits_count: 1,
      project: { default_branch: 'main' },
      commits: [{ id: head, added: [], modified: ['compose.yaml'], removed: [] }],
    });
    const r1 = await webhooks.handle({
      stack: 'app',
      body: bytes(lab),
      apiKeyValid: false,
      header: headers({
        'X-Gitlab-Event': 'Push Hook',
        'X-Gitlab-Token': SECRET,
        'X-Gitlab-Event-UUID': `lab-${randomBytes(4).toString('hex')}`,
      }),
    });
    if (r1.kind !== 'queued') throw new Error(`expected a deploy, got ${JSON.stringify(r1)}`);
    await finished(r1.deployment);
    const tea = githubPush(repo, 'main', head, head, ['compose.yaml']);
    const r2 = await webhooks.handle({
      stack: 'app',
      body: bytes(tea),
      apiKeyValid: false,
      header: headers({
        'X-Gitea-Event': 'push',
        'X-GitHub-Event': 'push',
        'X-Gitea-Delivery': `tea-${randomBytes(4).toString('hex')}`,
        'X-Gitea-Signature': sign(tea),
      }),
    });
    if (r2.kind !== 'queued') throw new Error(`expected a deploy, got ${JSON.stringify(r2)}`);
    const d = await finished(r2.deployment);
    expect(d).toMatchObject({ trigger: 'webhook', status: 'succeeded' });
  });

  it('fails a deploy with a missing required variable (:?) before touching the running container', async () => {
    const before = await containerId('app');
    await repo.commit(
      {
        'compose.yaml': `services:\n  web:\n    image: \${WEB_IMAGE:?set WEB_IMAGE to the image to run}\n`,
      },
      'needs a variable',
      { branch: 'broken' },
    );
    const d = await finished(
      services.deployer.deploy('app', { trigger: 'manual', ref: 'broken' }).deployment,
    );
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/set WEB_IMAGE to the image to run/);
    expect(await containerId('app')).toBe(before);
    expect(await httpText(port)).toBe('v1');
  });

  it('refuses compose_path "../x" with a validation error (400)', async () => {
    let error: unknown;
    try {
      await services.stacks.create(stackBody('escape', { compose_path: '../x/compose.yaml' }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/inside/) });
  });

  it('turns wrong git credentials into a failed deployment that says so, without the token', async () => {
    const token = `wrong-token-${randomBytes(6).toString('hex')}`;
    await services.stacks.create(stackBody('badcreds', { repo_token: token }));
    const d = await finished(
      services.deployer.deploy('badcreds', { trigger: 'manual' }).deployment,
    );
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(new RegExp(`authentication failed for ${repo.url}`));
    const detail = services.deployer.getDeployment(d.id);
    expect(JSON.stringify(detail)).not.toContain(token);
    expect(logLines.join('\n')).not.toContain(token);
    expect(logLines.join('\n')).not.toContain(server.password);
  });

  it('rolls back while the git server is down, and records the failing poll', async () => {
    const versions = services.deployer.listVersions('app');
    const v2 = versions.find((v) => v.git_commit === v2Commit);
    expect(v2).toBeDefined();
    await server.stop();
    try {
      const rb = await finished(services.deployer.rollback('app', v2?.id));
      expect(rb).toMatchObject({ trigger: 'rollback', status: 'succeeded' });
      expect(await httpText(port)).toBe('v2');
      await reconciler.reconcileNow('app');
      expect(services.stacks.get('app').poll).toMatchObject({
        failures: expect.any(Number),
        last_error: expect.stringMatching(/cannot reach 127\.0\.0\.1/),
      });
      expect(services.stacks.get('app').poll.failures).toBeGreaterThan(0);
      const report = await drift.report('app');
      expect(report.git?.error).toMatch(/cannot reach/);
      expect(report.services).toEqual([]);
    } finally {
      await server.start();
    }
  });
});
