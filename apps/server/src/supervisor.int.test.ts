// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose interpolation syntax is part of the input
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import {
  cleanupProject,
  getFreePort,
  gitRepoStore,
  type TestRepo,
  WEB_CONTAINER_PORT,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, startInProcessServer, until } from './test-server';

// Supervisor's API on the real engine: a git stack created through POST /stacks with
// Supervisor's fields, deployed by its webhook signed in a custom header, its log followed
// over Server-Sent Events as Supervisor's client reads them, and deleted.

const images = inject('publicImages');
const gitServer = inject('gitServer');

const SECRET = randomBytes(16).toString('hex');
const HEADER = 'X-Supervisor-Signature';

let server: InProcessServer;
let repo: TestRepo;
let port: number;

interface SseEvent {
  event: string;
  data: Record<string, string>;
}

/** Supervisor's client: `Authorization: Bearer <key>` and JSON. */
async function supervisor(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}

/** Reads a Server-Sent Events stream in the background, one parsed event per `data:` line. */
function collect(res: Response) {
  const events: SseEvent[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return;
      buffer += decoder.decode(value, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const lines = buffer.slice(0, cut).split('\n');
        buffer = buffer.slice(cut + 2);
        const data = lines.find((l) => l.startsWith('data: '));
        if (!data) continue;
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
        // As Supervisor's client reads it: the data line is the event's last line.
        if (lines[lines.length - 1] !== data) throw new Error(`data is not last: ${lines}`);
        events.push({ event, data: JSON.parse(data.slice(6)) });
      }
    }
  })();
  // Awaited by the test that expects the end; a failed test must not leave it unhandled.
  done.catch(() => {});
  return { events, done };
}

const composeFile = (image: string) =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:\${WHOAMI_PORT}:${WEB_CONTAINER_PORT}"\n`;
const includeFile = 'services:\n  web:\n    labels:\n      simpledeploy.test.include: "applied"\n';

const httpBody = async () =>
  (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) })).text();

const project = () => `${server.prefix}-whoami`;

beforeAll(async () => {
  server = await startInProcessServer();
  port = await getFreePort();
  repo = await gitRepoStore(gitServer).createRepo(`sv-${randomBytes(4).toString('hex')}`, {
    'lib/stack/whoami/docker-compose.yml': composeFile(images.webV1),
    'lib/stack/whoami/includes/labels.yml': includeFile,
    'README.md': 'infrastructure\n',
  });
}, 120_000);

afterAll(async () => {
  await cleanupProject(project());
  await server?.stop();
}, 120_000);

describe("Supervisor's API on the real engine", () => {
  let uuid = '';

  it('creates a git stack from Supervisor fields and deploys it at once', async () => {
    const res = await supervisor('POST', '/stacks', {
      name: 'whoami',
      git_repository: repo.url,
      git_username: gitServer.username,
      git_token: gitServer.password,
      git_reference: 'refs/heads/main',
      compose_file: 'lib/stack/whoami/docker-compose.yml',
      compose_includes: ['lib/stack/whoami/includes/labels.yml'],
      compose_variables: { WHOAMI_PORT: String(port) },
      strategy: 'webhook',
      signature_header: HEADER,
      signature_secret: SECRET,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.text).not.toContain(gitServer.password);
    expect(res.text).not.toContain(SECRET);
    expect(res.json).toMatchObject({
      name: 'whoami',
      strategy: 'webhook',
      signature_header: HEADER,
    });
    uuid = res.json.uuid;

    const first = await until(
      async () => {
        const [entry] = (await supervisor('GET', `/stacks/${uuid}/log`)).json;
        return entry && entry.status !== 'running' && entry.status !== 'queued' && entry;
      },
      120_000,
      'the deploy at create to end',
    );
    expect(first, first?.message).toMatchObject({ action: 'deploy', status: 'succeeded' });
    expect((await httpBody()).trim()).toBe('v1');
    // compose_includes reached compose as an extra -f file.
    const labels = execFileSync(
      'docker',
      [
        'ps',
        '--filter',
        `label=com.docker.compose.project=${project()}`,
        '--format',
        '{{.Labels}}',
      ],
      { encoding: 'utf8' },
    );
    expect(labels).toContain('simpledeploy.test.include=applied');
    expect((await supervisor('GET', `/stacks/${uuid}`)).json.healthy).toBe(true);
  });

  it('deploys a push signed in the stack header and streams it to a log follower', async () => {
    const follow = await fetch(`${server.base}/stacks/${uuid}/log?follow=true`, {
      headers: { Authorization: `Bearer ${server.apiKey}` },
    });
    expect(follow.status).toBe(200);
    expect(follow.headers.get('content-type')).toContain('text/event-stream');
    const sse = collect(follow);

    const before = await repo.headCommit();
    const after = await repo.commit(
      { 'lib/stack/whoami/docker-compose.yml': composeFile(images.webV2) },
      'whoami v2',
    );
    const push = JSON.stringify({
      ref: 'refs/heads/main',
      before,
      after,
      repository: { name: repo.name, clone_url: repo.url, default_branch: 'main' },
      commits: [
        { id: after, added: [], removed: [], modified: ['lib/stack/whoami/docker-compose.yml'] },
      ],
    });
    const signature = `sha256=${createHmac('sha256', SECRET).update(push).digest('hex')}`;

    // Unsigned, and signed in another header: refused.
    for (const headers of [{}, { 'X-Hub-Signature': signature }] as Record<string, string>[]) {
      const refused = await fetch(`${server.base}/stacks/${uuid}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: push,
      });
      expect(refused.status).toBe(401);
    }
    const hook = await fetch(`${server.base}/stacks/${uuid}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-GitHub-Event': 'push',
        [HEADER]: signature,
      },
      body: push,
    });
    expect(hook.status).toBe(202);
    const accepted = (await hook.json()) as { deployment: { id: string } };
    expect(accepted).toMatchObject({ message: 'Webhook received', commit: after });

    const last = await until(
      () => sse.events.find((e) => e.data.status && e.data.status !== 'running'),
      120_000,
      'the end of the webhook deploy on the log stream',
    );
    expect(last.data).toMatchObject({
      action: 'update',
      status: 'succeeded',
      message: `deployment ${accepted.deployment.id} succeeded`,
    });
    const live = sse.events.filter((e) => e.data.status === 'running');
    expect(live.length).toBeGreaterThan(0);
    for (const e of live) expect(e.data.action).toBe('update');
    const output = live.map((e) => e.data.message).join('\n');
    expect(output).toContain(after.slice(0, 12));
    expect(output).toMatch(/compose .* up/);
    expect(output).not.toContain(gitServer.password);
    expect((await httpBody()).trim()).toBe('v2');

    const stats = await supervisor('GET', `/stacks/${uuid}/stats`);
    expect(stats.json).toMatchObject({ processed: 2, failed: 0, last_action: 'update', uuid });

    // Deleting the stack ends the follow with Supervisor's close event.
    const deleted = await supervisor('DELETE', `/stacks/${uuid}`);
    expect(deleted.status).toBe(204);
    await sse.done;
    expect(sse.events.at(-1)).toMatchObject({
      event: 'close',
      data: { message: 'stack whoami was deleted' },
    });
    expect(
      execFileSync(
        'docker',
        ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project()}`],
        {
          encoding: 'utf8',
        },
      ).trim(),
    ).toBe('');
    expect((await supervisor('GET', `/stacks/${uuid}`)).status).toBe(404);
  });
});
