import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain, testGitops } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';

// Supervisor's README examples, with its host and key replaced by the test's.
const AUTH = { Authorization: `Bearer ${TEST_KEY}` };

/** "Creating a Stack", byte for byte: its JSON lacks a comma and a closing quote. */
const README_CREATE_AS_WRITTEN = `{
    "name": "whoami",
    "git_repository": "https://github.com/tschaefer/infrastructure",
    "git_username": "tschaefer",
    "git_token": "github_pat_...FFF",
    "git_reference": "refs/heads/main",
    "compose_file": "lib/stack/whoami/docker-compose.yml",
    "compose_includes": [
      "lib/stack/whoami/includes/traefik.yml",
      "lib/stack/whoami/includes/network.yml"
    ],
    "compose_variables": {
      "NETWORK_IPV4_WHOAMI": "172.18.100.111",
      "NETWORK_ID": "core"
    },
    "strategy": "polling",
    "polling_interval": "300"
    "signature_header": "X-Hub-Signature-256",
    "signature_secret": "2ede1091492a7c4205ae9c0ee9ed7376
  }`;

/** The same example with its two typos fixed. */
const README_CREATE = README_CREATE_AS_WRITTEN.replace('"300"\n', '"300",\n').replace(
  '9ed7376\n',
  '9ed7376"\n',
);

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setup() {
  const domain = testDomain();
  const app = createApp(testDeps({ domain: { ...domain, gitops: testGitops(domain) } }));
  /** A request as Supervisor's clients send it: `Authorization: Bearer`, JSON bodies. */
  const call = (method: string, path: string, body?: unknown, headers = AUTH) =>
    app.request(path, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const native = (method: string, path: string, body?: unknown) =>
    call(method, path, body, { 'X-API-KEY': TEST_KEY } as unknown as typeof AUTH);
  return { app, call, native, domain };
}

/** Creates the README's stack; returns it as Supervisor shows it. */
async function readmeStack(t: ReturnType<typeof setup>) {
  const res = await t.call('POST', '/stacks', README_CREATE);
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

/** An inline stack made through /api/v1 and deployed, so control commands have something to act on. */
async function deployedInline(t: ReturnType<typeof setup>) {
  const made = await json(await t.native('POST', '/api/v1/stacks', { name: 'web', compose }));
  const { deployment } = t.domain.deployer.deploy('web', { trigger: 'manual' });
  await t.domain.deployer.waitFor(deployment.id);
  return made.stack as { id: string; uuid: string };
}

/** Reads Server-Sent Events from a response until `done` says so; returns them parsed. */
async function readEvents(
  res: Response,
  done: (events: { event: string; data: Record<string, string> }[]) => boolean,
) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: Record<string, string> }[] = [];
  let buffer = '';
  while (!done(events)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf('\n\n');
      const lines = block.split('\n');
      const data = lines.find((l) => l.startsWith('data: '));
      if (!data) continue;
      // Supervisor's client reads the `data:` line as the event's last line.
      expect(lines[lines.length - 1]).toBe(data);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      events.push({ event, data: JSON.parse(data.slice(6)) });
    }
  }
  await reader.cancel();
  return events;
}

describe("Supervisor's API: stacks", () => {
  it("answers the README's create example as written with 400 (its JSON is malformed), and 201 once fixed", async () => {
    const t = setup();
    const bad = await t.call('POST', '/stacks', README_CREATE_AS_WRITTEN);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({
      code: 'VALIDATION',
      message: 'the request body is not valid JSON',
    });

    const res = await t.call('POST', '/stacks', README_CREATE);
    expect(res.status).toBe(201);
    const text = await res.text();
    // Secrets are write-only, unlike in Supervisor.
    expect(text).not.toContain('github_pat_');
    expect(text).not.toContain('2ede1091492a7c4205ae9c0ee9ed7376');
    const stack = JSON.parse(text);
    expect(stack).toEqual({
      id: expect.stringMatching(/^stk_/),
      uuid: expect.stringMatching(UUID),
      name: 'whoami',
      git_repository: 'https://github.com/tschaefer/infrastructure',
      git_reference: 'refs/heads/main',
      git_username: 'tschaefer',
      has_git_token: true,
      compose_file: 'lib/stack/whoami/docker-compose.yml',
      compose_includes: [
        'lib/stack/whoami/includes/traefik.yml',
        'lib/stack/whoami/includes/network.yml',
      ],
      compose_variables: { NETWORK_IPV4_WHOAMI: '172.18.100.111', NETWORK_ID: 'core' },
      strategy: 'polling',
      polling_interval: 300,
      signature_header: 'X-Hub-Signature-256',
      has_signature_secret: true,
      healthy: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(res.headers.get('location')).toBe(`/stacks/${stack.uuid}`);

    // The same stack through simpledeploy's own API, under its own names.
    const native = (await json(await t.native('GET', `/api/v1/stacks/${stack.uuid}`))).stack;
    expect(native).toMatchObject({
      id: stack.id,
      uuid: stack.uuid,
      repo_url: 'https://github.com/tschaefer/infrastructure',
      repo_branch: 'refs/heads/main',
      compose_path: 'lib/stack/whoami/docker-compose.yml',
      reconcile_interval_seconds: 300,
      auto_deploy: true,
      webhook_signature_header: 'X-Hub-Signature-256',
      has_webhook_secret: true,
      has_repo_token: true,
    });
    // Supervisor deploys a stack when it is created.
    expect(t.domain.deployer.listDeployments(stack.id).map((d) => d.trigger)).toEqual(['api']);
  });

  it('accepts the fields wrapped in {"stack": {...}} as Rails does, with polling_interval a number', async () => {
    const t = setup();
    const res = await t.call('POST', '/stacks', {
      stack: {
        name: 'traefik',
        strategy: 'polling',
        polling_interval: 30,
        git_repository: 'https://git.example/infra.git',
        git_reference: 'refs/heads/main',
        compose_file: 'lib/stacks/traefik/docker-compose.yml',
      },
    });
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ strategy: 'polling', polling_interval: 30 });
  });

  it('lists (with the trailing slash of the README), shows and reports stats by uuid', async () => {
    const t = setup();
    const stack = await readmeStack(t);
    const list = await t.call('GET', '/stacks/');
    expect(list.status).toBe(200);
    const stacks = await json(list);
    expect(stacks).toEqual([expect.objectContaining({ uuid: stack.uuid, name: 'whoami' })]);
    expect(await json(await t.call('GET', '/stacks'))).toEqual(stacks);

    const show = await t.call('GET', `/stacks/${stack.uuid}`);
    expect(show.status).toBe(200);
    expect((await json(show)).git_repository).toBe('https://github.com/tschaefer/infrastructure');
    // The id and the name work in place of the uuid.
    expect((await t.call('GET', `/stacks/${stack.id}`)).status).toBe(200);
    expect((await t.call('GET', '/stacks/whoami')).status).toBe(200);

    await t.domain.deployer.waitFor(t.domain.deployer.listDeployments(stack.id)[0]?.id ?? '');
    const stats = await t.call('GET', `/stacks/${stack.uuid}/stats`);
    expect(stats.status).toBe(200);
    // The deploy at create fails here: the test domain has no git client.
    expect(await json(stats)).toEqual({
      processed: 1,
      failed: 1,
      last_run: expect.any(String),
      last_action: 'deploy',
      uuid: stack.uuid,
    });
  });

  it('switches strategy with the README\'s PATCH {"strategy": "webhook"}, without a redeploy', async () => {
    const t = setup();
    const stack = await readmeStack(t);
    const before = t.domain.deployer.listDeployments(stack.id).length;
    const res = await t.call('PATCH', `/stacks/${stack.uuid}`, { strategy: 'webhook' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ strategy: 'webhook', polling_interval: null });
    expect(t.domain.stacks.get(stack.id).reconcile_interval_seconds).toBe(0);
    expect(t.domain.deployer.listDeployments(stack.id)).toHaveLength(before);

    // Back to polling needs an interval again; a numeric string is fine.
    const noInterval = await t.call('PUT', `/stacks/${stack.uuid}`, { strategy: 'polling' });
    expect(noInterval.status).toBe(400);
    expect((await json(noInterval)).error.message).toMatch(/polling_interval/);
    const polling = await t.call('PUT', `/stacks/${stack.uuid}`, {
      strategy: 'polling',
      polling_interval: '60',
    });
    expect(await json(polling)).toMatchObject({ strategy: 'polling', polling_interval: 60 });
  });

  it('redeploys when what is deployed changes, and words errors with its field names', async () => {
    const t = setup();
    const stack = await readmeStack(t);
    const before = t.domain.deployer.listDeployments(stack.id).length;
    const res = await t.call('PATCH', `/stacks/${stack.uuid}`, { git_reference: 'refs/tags/v2' });
    expect(res.status).toBe(200);
    expect((await json(res)).git_reference).toBe('refs/tags/v2');
    expect(t.domain.deployer.listDeployments(stack.id)).toHaveLength(before + 1);

    for (const [body, message] of [
      [{ git_reference: 'a b' }, /^git_reference is not a valid/],
      [{ compose_file: '../x.yml' }, /^compose_file must stay inside/],
      [{ git_repository: 'file:///etc' }, /git_repository/],
      [{ signature_header: 'X Sig' }, /^signature_header: must be an HTTP header name/],
      [{ polling_interval: 'soon' }, /^polling_interval must be a whole number/],
      [{ strategy: 'cron' }, /^strategy must be "polling" or "webhook"/],
      [{ colour: 'blue' }, /^unknown field "colour"/],
      [{ name: 'other' }, /^name cannot be changed/],
    ] as const) {
      const bad = await t.call('PATCH', `/stacks/${stack.uuid}`, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      const { error } = await json(bad);
      expect(error.message).toMatch(message);
      expect(JSON.stringify(error)).not.toMatch(/repo_|compose_path|webhook_|reconcile_/);
    }
  });

  it('ignores the read-only fields of a stack sent back, and needs git_repository to create', async () => {
    const t = setup();
    const stack = await readmeStack(t);
    const echoed = await t.call('PUT', `/stacks/${stack.uuid}`, stack);
    expect(echoed.status).toBe(200);
    const missing = await t.call('POST', '/stacks', { name: 'x', strategy: 'webhook' });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.message).toMatch(/^git_repository is required/);
  });

  it('deletes a stack with 204 and takes its project down', async () => {
    const t = setup();
    const stack = await readmeStack(t);
    const res = await t.call('DELETE', `/stacks/${stack.uuid}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await t.call('GET', `/stacks/${stack.uuid}`)).status).toBe(404);
    expect(t.domain.runner.subcommands()).toContain('down');
  });

  it('needs the API key as Supervisor sends it, and tells nothing to a caller without it', async () => {
    const t = setup();
    const stack = await readmeStack(t);
    for (const headers of [{}, { Authorization: 'Bearer 4711' }, { Authorization: TEST_KEY }]) {
      for (const path of ['/stacks', `/stacks/${stack.uuid}`, '/stacks/nope']) {
        const res = await t.call('GET', path, undefined, headers as typeof AUTH);
        expect(res.status).toBe(401);
        expect((await json(res)).error.code).toBe('UNAUTHORIZED');
      }
    }
    expect((await t.call('GET', '/stacks/nope')).status).toBe(404);
  });
});

describe("Supervisor's API: control", () => {
  it('runs the README\'s {"command": "start"} and answers 204', async () => {
    const t = setup();
    const stack = await deployedInline(t);
    t.domain.runner.calls.length = 0;
    const res = await t.call('POST', `/stacks/${stack.uuid}/control`, { command: 'start' });
    expect(res.status).toBe(204);
    await t.domain.deployer.chain(stack.id, async () => {});
    expect(t.domain.runner.subcommands()).toContain('start');
    expect(t.domain.lifecycle.history('web')[0]).toMatchObject({
      detail: { command: 'start' },
      status: 'succeeded',
    });
  });

  it.each(['stop', 'restart', 'pause', 'unpause'])('runs compose %s', async (command) => {
    const t = setup();
    const stack = await deployedInline(t);
    t.domain.runner.calls.length = 0;
    expect((await t.call('POST', `/stacks/${stack.uuid}/control`, { command })).status).toBe(204);
    await t.domain.deployer.chain(stack.id, async () => {});
    expect(t.domain.runner.subcommands()).toContain(command);
  });

  it('redeploys with "redeploy" (pulling again), and refuses other commands', async () => {
    const t = setup();
    const stack = await deployedInline(t);
    const res = await t.call('POST', `/stacks/${stack.uuid}/control`, { command: 'redeploy' });
    expect(res.status).toBe(204);
    const [latest] = t.domain.deployer.listDeployments(stack.id);
    expect(latest).toMatchObject({ trigger: 'manual' });
    const bad = await t.call('POST', `/stacks/${stack.uuid}/control`, { command: 'invalid' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toBe(
      'command must be one of start, stop, restart, redeploy, pause, unpause',
    );
  });
});

describe("Supervisor's API: webhook", () => {
  const SECRET = 'f'.repeat(64);
  const payload = JSON.stringify({ message: 'lorem' });
  const hmac = (algorithm: string, body: string, secret = SECRET) =>
    createHmac(algorithm, secret).update(body).digest('hex');

  async function webhookStack(t: ReturnType<typeof setup>, header = 'X-Hub-Signature') {
    const res = await t.call('POST', '/stacks', {
      name: 'hooked',
      strategy: 'webhook',
      git_repository: 'https://git.example/infra.git',
      git_reference: 'refs/heads/main',
      compose_file: 'lib/stacks/traefik/docker-compose.yml',
      signature_header: header,
      signature_secret: SECRET,
    });
    expect(res.status).toBe(201);
    return json(res);
  }
  const hook = (t: ReturnType<typeof setup>, uuid: string, headers: Record<string, string>) =>
    t.app.request(`/stacks/${uuid}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: payload,
    });

  it("deploys on a body signed in the stack's own header, without the API key (202 Webhook received)", async () => {
    const t = setup();
    const stack = await webhookStack(t);
    const res = await hook(t, stack.uuid, {
      'X-Hub-Signature': `sha256=${hmac('sha256', payload)}`,
    });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({
      message: 'Webhook received',
      deployment: { trigger: 'webhook' },
    });
    expect(t.domain.deployer.listDeployments(stack.id)[0]?.trigger).toBe('webhook');
  });

  it('hands the webhook the stack row the access check read, or null for an unknown uuid', async () => {
    const domain = testDomain();
    const gitops = testGitops(domain);
    const seen: unknown[] = [];
    const handle = gitops.webhooks.handle;
    gitops.webhooks.handle = (req) => {
      seen.push(req.found);
      return handle(req);
    };
    const app = createApp(testDeps({ domain: { ...domain, gitops } }));
    const t = { ...setup(), app };
    const created = await app.request('/stacks', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'hooked',
        strategy: 'webhook',
        git_repository: 'https://git.example/infra.git',
        git_reference: 'refs/heads/main',
        compose_file: 'lib/stacks/traefik/docker-compose.yml',
        signature_header: 'X-Hub-Signature',
        signature_secret: SECRET,
      }),
    });
    expect(created.status).toBe(201);
    const stack = await json(created);
    const signed = { 'X-Hub-Signature': `sha256=${hmac('sha256', payload)}` };
    expect((await hook(t, stack.uuid, signed)).status).toBe(202);
    expect(seen[0]).toMatchObject({ id: stack.id, name: 'hooked' });
    expect((await hook(t, '8db7fde4-6a11-462e-ba27-6897b7c9281b', signed)).status).toBe(401);
    expect(seen[1]).toBeNull();
  });

  it.each([
    ['sha1', (b: string) => `sha1=${hmac('sha1', b)}`],
    ['sha512', (b: string) => `sha512=${hmac('sha512', b)}`],
    ['bare hex sha256', (b: string) => hmac('sha256', b)],
    ['upper-case algorithm', (b: string) => `SHA256=${hmac('sha256', b).toUpperCase()}`],
  ])('accepts a %s signature', async (_label, signature) => {
    const t = setup();
    const stack = await webhookStack(t, 'x-signature');
    const res = await hook(t, stack.uuid, { 'X-Signature': signature(payload) });
    expect(res.status).toBe(202);
  });

  it('answers 401 for a wrong signature or another header, the same as for an unknown stack', async () => {
    const t = setup();
    const stack = await webhookStack(t);
    const wrong: Record<string, string>[] = [
      { 'X-Hub-Signature': `sha256=${'0'.repeat(64)}` },
      { 'X-Hub-Signature': `sha256=${hmac('sha256', payload, 'other')}` },
      { 'X-Hub-Signature': `md5=${hmac('md5', payload)}` },
      { 'X-Other': `sha256=${hmac('sha256', payload)}` },
      {},
    ];
    const bodies = new Set<string>();
    for (const headers of wrong) {
      const res = await hook(t, stack.uuid, headers);
      expect(res.status).toBe(401);
      bodies.add(await res.text());
    }
    const unknown = await hook(t, '8db7fde4-6a11-462e-ba27-6897b7c9281b', {
      'X-Hub-Signature': `sha256=${hmac('sha256', payload)}`,
    });
    expect(unknown.status).toBe(401);
    bodies.add(await unknown.text());
    expect(bodies.size).toBe(1);
    expect(t.domain.deployer.listDeployments(stack.id).map((d) => d.trigger)).toEqual(['api']);
  });

  it('takes the API key instead, and the same signature on /api/v1/stacks/{stack}/webhook', async () => {
    const t = setup();
    const stack = await webhookStack(t);
    expect((await hook(t, stack.uuid, AUTH)).status).toBe(202);
    const res = await t.app.request(`/api/v1/stacks/${stack.uuid}/webhook`, {
      method: 'POST',
      headers: { 'X-Hub-Signature': `sha256=${hmac('sha256', payload)}` },
      body: payload,
    });
    expect(res.status).toBe(202);
  });

  it('ignores a GitHub push to another branch than git_reference', async () => {
    const t = setup();
    const stack = await webhookStack(t, 'X-Hub-Signature-256');
    const push = JSON.stringify({ ref: 'refs/heads/dev', after: 'a'.repeat(40) });
    const res = await t.app.request(`/stacks/${stack.uuid}/webhook`, {
      method: 'POST',
      headers: {
        'X-GitHub-Event': 'push',
        'X-Hub-Signature-256': `sha256=${hmac('sha256', push)}`,
      },
      body: push,
    });
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({
      message: 'Webhook received',
      ignored: expect.stringMatching(/refs\/heads\/dev/),
    });
  });
});

describe("Supervisor's API: log", () => {
  it('returns the last entries as {run_at, action, status, message}, 1 by default and 100 at most', async () => {
    const t = setup();
    const stack = await deployedInline(t);
    const again = t.domain.deployer.deploy('web', { trigger: 'webhook' });
    await t.domain.deployer.waitFor(again.deployment.id);
    t.domain.lifecycle.control('web', { command: 'restart', services: [] });
    await t.domain.deployer.chain(stack.id, async () => {});

    const one = await json(await t.call('GET', `/stacks/${stack.uuid}/log`));
    expect(one).toEqual([
      { run_at: expect.any(String), action: 'restart', status: 'succeeded', message: '' },
    ]);
    const all = await json(await t.call('GET', `/stacks/${stack.uuid}/log?entries=50`));
    expect(all.map((e: { action: string }) => e.action)).toEqual(['deploy', 'update', 'restart']);
    expect(all[0].status).toBe('succeeded');
    expect(all[0].message).toContain('up -d');
    for (const e of all) for (const v of Object.values(e)) expect(typeof v).toBe('string');
    expect(await json(await t.call('GET', `/stacks/${stack.uuid}/log?entries=0`))).toEqual([]);
    const bad = await t.call('GET', `/stacks/${stack.uuid}/log?entries=lots`);
    expect(bad.status).toBe(400);
  });

  it('follows over SSE: the next deployment line by line, how it ended, then later runs', async () => {
    const t = setup();
    const stack = await deployedInline(t);
    let release = () => {};
    t.domain.runner.once(
      (args) => args.includes('up'),
      () => ({
        lines: [
          { stream: 'stdout', text: 'Container web-1 Recreate' },
          { stream: 'stdout', text: 'Container web-1 Started' },
        ],
        until: new Promise<void>((r) => {
          release = r;
        }),
      }),
    );
    const res = await t.call('GET', `/stacks/${stack.uuid}/log?follow=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const { deployment } = t.domain.deployer.deploy('web', { trigger: 'webhook', force: true });
    setTimeout(() => release(), 300);
    const events = await readEvents(res, (evs) =>
      evs.some((e) => e.data.status && e.data.status !== 'running'),
    );
    expect(events.every((e) => e.event === 'message')).toBe(true);
    const text = events.map((e) => e.data.message).join('\n');
    expect(text).toContain('Container web-1 Started');
    expect(events.slice(0, -1).every((e) => e.data.status === 'running')).toBe(true);
    expect(events.at(-1)?.data).toEqual({
      run_at: expect.any(String),
      action: 'update',
      status: 'succeeded',
      message: `deployment ${deployment.id} succeeded`,
    });
  });

  it('follows control commands too, and closes with a close event when the stack is deleted', async () => {
    const t = setup();
    const stack = await deployedInline(t);
    const res = await t.call('GET', `/stacks/${stack.uuid}/log?follow=true`);
    setTimeout(() => {
      t.domain.lifecycle.control('web', { command: 'stop', services: [] });
      void t.domain.deployer
        .chain(stack.id, async () => {})
        .then(() => t.call('DELETE', `/stacks/${stack.uuid}`));
    }, 50);
    const events = await readEvents(res, (evs) => evs.some((e) => e.event === 'close'));
    expect(events.map((e) => [e.event, e.data.action ?? e.data.message])).toEqual([
      ['message', 'stop'],
      ['close', 'stack web was deleted'],
    ]);
  });

  it('stops following when the reader leaves', async () => {
    const t = setup();
    const stack = await deployedInline(t);
    let listening = 0;
    let subscribed = 0;
    const onChange = t.domain.deployer.onChange;
    t.domain.deployer.onChange = (listener) => {
      listening++;
      subscribed++;
      const off = onChange(listener);
      return () => {
        listening--;
        off();
      };
    };
    const res = await t.call('GET', `/stacks/${stack.uuid}/log?follow=true`);
    setTimeout(() => t.domain.deployer.deploy('web', { trigger: 'manual', force: true }), 20);
    await readEvents(res, (evs) => evs.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(subscribed).toBe(1);
    expect(listening).toBe(0);
  });

  it('answers 404 for an unknown stack before any stream opens', async () => {
    const t = setup();
    const res = await t.call('GET', '/stacks/nope/log?follow=true');
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('NOT_FOUND');
  });
});
