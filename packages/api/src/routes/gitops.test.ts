import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain, testGitops } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';

const SECRET = 'hook-secret-123';
const SHA = 'c'.repeat(40);

function setup(opts: { gitops?: boolean } = {}) {
  const domain = testDomain();
  const gitops = opts.gitops === false ? undefined : testGitops(domain);
  const app = createApp(testDeps({ domain: { ...domain, gitops } }));
  const api = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { 'X-API-KEY': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const hook = (stack: string, body: string, headers: Record<string, string>) =>
    app.request(`/api/v1/stacks/${stack}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const deployments = () => domain.deployer.listDeployments('app');
  return { app, api, hook, domain, gitops, deployments };
}

async function withGitStack(t: ReturnType<typeof setup>, extra: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/api/v1/stacks', {
    name: 'app',
    repo_url: 'http://127.0.0.1:9/app.git',
    repo_branch: 'main',
    compose_path: 'deploy/compose.yaml',
    webhook_secret: SECRET,
    ...extra,
  });
  expect(res.status).toBe(201);
}

const push = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    ref: 'refs/heads/main',
    before: 'b'.repeat(40),
    after: SHA,
    repository: { full_name: 'o/app', default_branch: 'main' },
    commits: [{ id: SHA, added: [], modified: ['deploy/compose.yaml'], removed: [] }],
    ...over,
  });

const sign = (body: string, secret = SECRET) =>
  createHmac('sha256', secret).update(body).digest('hex');

const github = (body: string, delivery = 'd-1', secret = SECRET) => ({
  'X-GitHub-Event': 'push',
  'X-GitHub-Delivery': delivery,
  'X-Hub-Signature-256': `sha256=${sign(body, secret)}`,
});

describe('POST /api/v1/stacks/{stack}/webhook', () => {
  it('deploys on a GitHub-signed push to the tracked branch (trigger webhook)', async () => {
    const t = setup();
    await withGitStack(t);
    const body = push();
    const res = await t.hook('app', body, github(body));
    expect(res.status).toBe(202);
    const out = await json(res);
    expect(out).toMatchObject({
      coalesced: false,
      commit: SHA,
      deployment: { trigger: 'webhook', status: expect.any(String) },
    });
    expect(t.deployments()).toHaveLength(1);
  });

  it('answers 401 for a wrong signature, no signature, or a stack without a webhook_secret', async () => {
    const t = setup();
    await withGitStack(t);
    const body = push();
    for (const headers of [
      github(body, 'd-1', 'wrong-secret') as Record<string, string>,
      { 'X-GitHub-Event': 'push' },
      { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': 'nope' },
    ]) {
      const res = await t.hook('app', body, headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe('UNAUTHORIZED');
    }
    await t.api('PATCH', '/api/v1/stacks/app', { webhook_secret: null });
    expect((await t.hook('app', body, github(body))).status).toBe(401);
    expect(t.deployments()).toEqual([]);
  });

  it('does not tell an unauthenticated caller whether a stack exists', async () => {
    const t = setup();
    await withGitStack(t);
    const body = push();
    const unknown = await t.hook('nope', body, github(body));
    const wrong = await t.hook('app', body, github(body, 'd-1', 'wrong'));
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());
    // With the API key, a missing stack is a plain 404.
    expect((await t.hook('nope', body, { 'X-API-KEY': TEST_KEY })).status).toBe(404);
  });

  it('accepts the API key instead of a signature', async () => {
    const t = setup();
    await withGitStack(t, { webhook_secret: null });
    const res = await t.hook('app', '', { Authorization: `Bearer ${TEST_KEY}` });
    expect(res.status).toBe(202);
    expect(t.deployments()).toHaveLength(1);
  });

  it('accepts a GitLab token and a Gitea signature', async () => {
    const t = setup();
    await withGitStack(t);
    const lab = push({ checkout_sha: SHA, total_commits_count: 1 });
    const r1 = await t.hook('app', lab, {
      'X-Gitlab-Event': 'Push Hook',
      'X-Gitlab-Token': SECRET,
      'X-Gitlab-Event-UUID': 'u-1',
    });
    expect(r1.status).toBe(202);
    expect((await json(r1)).deployment.trigger).toBe('webhook');
    const tea = push();
    const r2 = await t.hook('app', tea, {
      'X-Gitea-Event': 'push',
      'X-Gitea-Delivery': 'g-1',
      'X-Gitea-Signature': sign(tea),
    });
    expect(r2.status).toBe(202);
    expect(await json(r2)).toMatchObject({ deployment: { trigger: 'webhook' } });
  });

  it('answers a ping with 200 and deploys nothing', async () => {
    const t = setup();
    await withGitStack(t);
    const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    const res = await t.hook('app', body, { ...github(body), 'X-GitHub-Event': 'ping' });
    expect(res.status).toBe(200);
    expect(t.deployments()).toEqual([]);
  });

  it('ignores a push to another branch', async () => {
    const t = setup();
    await withGitStack(t);
    const body = push({ ref: 'refs/heads/feature' });
    const res = await t.hook('app', body, github(body));
    expect(res.status).toBe(202);
    expect((await json(res)).ignored).toMatch(/refs\/heads\/feature.*follows main/);
    expect(t.deployments()).toEqual([]);
  });

  it("ignores a push that touches none of the stack's files, with the reason", async () => {
    const t = setup();
    await withGitStack(t);
    const body = push({
      commits: [{ id: SHA, added: ['docs/a.md'], modified: ['README.md'], removed: [] }],
    });
    const res = await t.hook('app', body, github(body));
    expect(res.status).toBe(202);
    expect((await json(res)).ignored).toMatch(/changes none of the stack's files/);
    expect(t.deployments()).toEqual([]);
    // The .env next to the compose file counts.
    const env = push({ commits: [{ id: SHA, added: ['deploy/.env'], modified: [], removed: [] }] });
    expect((await t.hook('app', env, github(env, 'd-2'))).status).toBe(202);
    expect(t.deployments()).toHaveLength(1);
  });

  it('deploys once for the same delivery id twice', async () => {
    const t = setup();
    await withGitStack(t);
    const body = push();
    const first = await t.hook('app', body, github(body, 'same'));
    const second = await t.hook('app', body, github(body, 'same'));
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect((await json(second)).ignored).toMatch(/already handled/);
    expect(t.deployments()).toHaveLength(1);
  });

  it('refuses bodies over 1 MiB with 413, with or without a content-length', async () => {
    const t = setup();
    await withGitStack(t);
    const big = 'x'.repeat(1024 * 1024 + 1);
    const res = await t.hook('app', big, github(big));
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe('PAYLOAD_TOO_LARGE');
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('y'.repeat(300 * 1024)));
        c.close();
      },
    });
    const chunked = await t.app.request('/api/v1/stacks/app/webhook', {
      method: 'POST',
      body: stream,
      // Node's fetch needs duplex for a streamed body.
      ...{ duplex: 'half' },
    });
    expect(chunked.status).toBe(413);
  });

  it("checks the push against the row the caller found (the access check's), not a second read", async () => {
    const t = setup();
    await withGitStack(t);
    const webhooks = t.gitops?.webhooks;
    if (!webhooks) throw new Error('gitops is wired in setup()');
    const row = t.domain.deployer.requireStack('app');
    const body = push();
    const request = (secret: string, delivery: string) => {
      const headers: Record<string, string> = github(body, delivery, secret);
      const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      return {
        stack: 'app',
        header: (name: string) => lower.get(name.toLowerCase()),
        body: new TextEncoder().encode(body),
        apiKeyValid: false,
      };
    };
    // A row with another secret than the stored one: its secret is the one that counts.
    const other = { ...row, webhookSecretEnc: t.domain.secrets.encrypt('another-secret') };
    await expect(
      webhooks.handle({ ...request('another-secret', 'd-a'), found: other }),
    ).resolves.toMatchObject({ kind: 'queued' });
    // null: the caller looked and found none, so the stored stack is not read again.
    await expect(webhooks.handle({ ...request(SECRET, 'd-b'), found: null })).rejects.toMatchObject(
      { code: 'UNAUTHORIZED' },
    );
    // Not given: read as before.
    await expect(webhooks.handle(request(SECRET, 'd-c'))).resolves.toMatchObject({
      kind: 'queued',
    });
  });

  it('keeps the API key required on every other route', async () => {
    const t = setup();
    await withGitStack(t);
    const res = await t.app.request('/api/v1/stacks/app/webhooks', { method: 'POST' });
    expect(res.status).toBe(401);
    expect((await t.app.request('/api/v1/stacks/app/drift')).status).toBe(401);
  });

  it('answers 503 when gitops is not wired, and 401 without any credential', async () => {
    const t = setup({ gitops: false });
    await withGitStack(t);
    expect((await t.hook('app', '{}', {})).status).toBe(401);
    expect((await t.hook('app', '{}', { 'X-API-KEY': TEST_KEY })).status).toBe(503);
    expect((await t.api('GET', '/api/v1/stacks/app/drift')).status).toBe(503);
  });
});

describe('GET /api/v1/stacks/{stack}/drift', () => {
  it('reports container drift of the current version; inline stacks have no git part', async () => {
    const t = setup();
    await t.api('POST', '/api/v1/stacks', {
      name: 'app',
      compose: 'services:\n  web:\n    image: r/web:v2\n  db:\n    image: r/db:v1\n',
    });
    const { deployment } = t.domain.deployer.deploy('app', { trigger: 'manual' });
    await t.domain.deployer.waitFor(deployment.id);
    const runner = t.domain.runner;
    runner.on((a) => a.includes('config') && a.includes('json'), {
      stdout: JSON.stringify({
        name: 'simpledeploy-app',
        services: { web: { image: 'r/web:v2' }, db: { image: 'r/db:v1' } },
      }),
    });
    runner.on((a) => a[0] === 'ps', { stdout: 'id1\nid2\n' });
    runner.on((a) => a[0] === 'inspect', {
      stdout: JSON.stringify([
        {
          Name: '/simpledeploy-app-web-1',
          Config: { Image: 'r/web:v1', Labels: { 'com.docker.compose.service': 'web' } },
          State: { Status: 'running', ExitCode: 0 },
        },
        {
          Name: '/stray',
          Config: { Image: 'r/x', Labels: { 'com.docker.compose.service': 'stray' } },
          State: { Status: 'running', ExitCode: 0 },
        },
      ]),
    });
    const res = await t.api('GET', '/api/v1/stacks/app/drift');
    expect(res.status).toBe(200);
    const out = await json(res);
    expect(out).toMatchObject({ in_sync: false, git: null });
    expect(out.services.map((s: { type: string; service: string }) => [s.type, s.service])).toEqual(
      [
        ['missing', 'db'],
        ['image_mismatch', 'web'],
        ['extra', 'stray'],
      ],
    );
    const ps = runner.calls.find((c) => c.args[0] === 'ps');
    expect(ps?.args).toContain('label=com.docker.compose.project=simpledeploy-app');
  });
});

describe('POST /api/v1/webhooks/repository (one webhook per repository)', () => {
  const repoPush = (files: string[], over: Record<string, unknown> = {}) =>
    JSON.stringify({
      ref: 'refs/heads/main',
      after: SHA,
      repository: { clone_url: 'http://127.0.0.1:9/mono.git', default_branch: 'main' },
      commits: [{ id: SHA, added: [], modified: files, removed: [] }],
      ...over,
    });

  async function monorepo(t: ReturnType<typeof setup>) {
    for (const [name, path, secret] of [
      ['front', 'front/compose.yaml', SECRET],
      ['back', 'back/compose.yaml', SECRET],
      ['other', 'other/compose.yaml', 'another-secret-1'],
    ] as const) {
      const res = await t.api('POST', '/api/v1/stacks', {
        name,
        repo_url: 'http://127.0.0.1:9/mono.git/',
        repo_branch: 'main',
        compose_path: path,
        webhook_secret: secret,
      });
      expect(res.status).toBe(201);
    }
  }

  const post = (t: ReturnType<typeof setup>, body: string, headers: Record<string, string>) =>
    t.app.request('/api/v1/webhooks/repository', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('deploys only the stacks of the repository whose files the push touched', async () => {
    const t = setup();
    await monorepo(t);
    const body = repoPush(['front/compose.yaml', 'README.md']);
    const res = await post(t, body, github(body));
    expect(res.status).toBe(202);
    const out = await json(res);
    // "other" has another secret: this signature does not speak for it.
    expect(out.stacks.map((s: { stack: string }) => s.stack).sort()).toEqual(['back', 'front']);
    const front = out.stacks.find((s: { stack: string }) => s.stack === 'front');
    const back = out.stacks.find((s: { stack: string }) => s.stack === 'back');
    expect(front.deployment).toMatchObject({ trigger: 'webhook' });
    expect(back.ignored).toMatch(/changes none of the stack/);
    expect(t.domain.deployer.listDeployments('back')).toEqual([]);
    expect(t.domain.deployer.listDeployments('other')).toEqual([]);
  });

  it('answers 401 to a signature no stack of the repository knows, and deploys nothing', async () => {
    const t = setup();
    await monorepo(t);
    const body = repoPush(['front/compose.yaml']);
    const res = await post(t, body, github(body, 'd-9', 'nobody-knows-this'));
    expect(res.status).toBe(401);
    expect(t.domain.deployer.listDeployments('front')).toEqual([]);
    const unknownRepo = repoPush(['x'], {
      repository: { clone_url: 'http://127.0.0.1:9/nope.git' },
    });
    expect((await post(t, unknownRepo, github(unknownRepo))).status).toBe(401);
  });

  it('with the API key, says when no stack follows the repository', async () => {
    const t = setup();
    const body = repoPush(['x'], { repository: { clone_url: 'http://127.0.0.1:9/nope.git' } });
    const res = await post(t, body, { 'X-API-KEY': TEST_KEY, 'X-GitHub-Event': 'push' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/no stack follows 127\.0\.0\.1:9\/nope/);
  });

  it('deploys a redelivered push once per stack', async () => {
    const t = setup();
    await monorepo(t);
    const body = repoPush(['front/compose.yaml', 'back/compose.yaml']);
    await post(t, body, github(body, 'same'));
    const again = await json(await post(t, body, github(body, 'same')));
    expect(
      again.stacks.every((s: { ignored?: string }) => /already handled/.test(s.ignored ?? '')),
    ).toBe(true);
    expect(t.domain.deployer.listDeployments('front')).toHaveLength(1);
    expect(t.domain.deployer.listDeployments('back')).toHaveLength(1);
  });
});
