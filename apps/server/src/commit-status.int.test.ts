import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cleanupProject,
  getFreePort,
  startGitServer,
  type TestGitServer,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, registryFields, startInProcessServer, until } from './test-server';

// Commit statuses from real deploys of git stacks (the local git server), received by a
// local server on 127.0.0.1 that checks each host's documented request format.

const registry = inject('registry');
const images = inject('images');
const PUBLIC_URL = 'https://deploy.example.test';

interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: InProcessServer;
let api: InProcessServer['api'];
let git: TestGitServer;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
const made: string[] = [];
const owner = `acme-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  server = await startInProcessServer({ SIMPLEDEPLOY_PUBLIC_URL: `${PUBLIC_URL}/` });
  api = server.api;
  git = await startGitServer({ username: 'cstatus', password: randomBytes(8).toString('hex') });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      received.push({
        method: req.method ?? '',
        // The raw path: GitLab's project id is URL-encoded in it.
        path: (req.url ?? '').split('?')[0] ?? '',
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  for (const name of made) await cleanupProject(`${server.prefix}-${name}`);
  await server?.stop();
  await git?.close();
  await new Promise((r) => receiver?.close(r));
}, 120_000);

const compose = (image: string) => `services:\n  web:\n    image: ${image}\n`;

/** A git stack on its own repo `<owner>/<name>` whose statuses go to the receiver. */
async function gitStack(name: string, kind: string, apiPath: string, image = images.sleeper) {
  // The name in the files: repos with equal content would have equal commits.
  const repo = await git.createRepo(`${owner}/${name}`, {
    'compose.yaml': compose(image),
    'README.md': `${name}\n`,
  });
  made.push(name);
  const res = await api('POST', '/api/v1/stacks', {
    name,
    repo_url: repo.url,
    repo_username: git.username,
    repo_token: git.password,
    commit_status: kind,
    commit_status_api_url: `${receiverUrl}${apiPath}`,
    auto_rollback: false,
    ...registryFields(registry),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return repo;
}

async function deploy(name: string) {
  const dep = (await api('POST', `/api/v1/stacks/${name}/deploy?wait=true`, {})).json.deployment;
  expect(dep.git_commit).toMatch(/^[0-9a-f]{40}$/);
  return dep as { id: string; status: string; git_commit: string };
}

/** The two statuses of one commit (pending, then the end), once both have arrived. */
const statusesFor = (sha: string) =>
  until(
    () => {
      const got = received.filter((r) => r.path.includes(`/statuses/${sha}`));
      return got.length >= 2 && got;
    },
    30_000,
    `two statuses for ${sha}`,
  );

describe('commit statuses from real deploys of git stacks', () => {
  it('GitHub: pending then success, Bearer token, JSON state/target_url/description/context', async () => {
    await gitStack('gh', 'github', '/api/v3');
    const dep = await deploy('gh');
    expect(dep.status).toBe('succeeded');
    const [pending, done] = await statusesFor(dep.git_commit);
    for (const r of [pending, done]) {
      expect(r?.method).toBe('POST');
      expect(r?.path).toBe(`/api/v3/repos/${owner}/gh/statuses/${dep.git_commit}`);
      expect(r?.headers.authorization).toBe(`Bearer ${git.password}`);
      expect(r?.headers.accept).toBe('application/vnd.github+json');
      expect(r?.headers['content-type']).toMatch(/^application\/json/);
    }
    expect(JSON.parse(pending?.body ?? '')).toEqual({
      state: 'pending',
      target_url: `${PUBLIC_URL}/#/deployments/${dep.id}`,
      description: 'Deploying gh',
      context: 'simpledeploy/gh',
    });
    expect(JSON.parse(done?.body ?? '')).toEqual({
      state: 'success',
      target_url: `${PUBLIC_URL}/#/deployments/${dep.id}`,
      description: 'Deployed gh',
      context: 'simpledeploy/gh',
    });
  }, 120_000);

  it('Gitea/Forgejo: the same fields under /api/v1 with "token" authorization; a failed deploy is failure', async () => {
    // The image's health check fails: compose up --wait fails, and so does the deployment.
    await gitStack('gt', 'gitea', '/api/v1', images.unhealthy);
    expect((await api('GET', '/api/v1/stacks/gt')).json.stack.commit_status).toBe('gitea');
    const dep = await deploy('gt');
    expect(dep.status).toBe('failed');
    const [pending, done] = await statusesFor(dep.git_commit);
    for (const r of [pending, done]) {
      expect(r?.method).toBe('POST');
      expect(r?.path).toBe(`/api/v1/repos/${owner}/gt/statuses/${dep.git_commit}`);
      expect(r?.headers.authorization).toBe(`token ${git.password}`);
    }
    expect(JSON.parse(pending?.body ?? '')).toMatchObject({
      state: 'pending',
      context: 'simpledeploy/gt',
    });
    const end = JSON.parse(done?.body ?? '');
    expect(end).toMatchObject({
      state: 'failure',
      target_url: `${PUBLIC_URL}/#/deployments/${dep.id}`,
      context: 'simpledeploy/gt',
    });
    expect(end.description).toMatch(/^Deployment of gt failed/);
    expect(end.description.length).toBeLessThanOrEqual(140);
  }, 120_000);

  it("GitLab: the project's path URL-encoded, the fields in the query, PRIVATE-TOKEN", async () => {
    await gitStack('gl', 'gitlab', '/api/v4');
    const dep = await deploy('gl');
    expect(dep.status).toBe('succeeded');
    const [pending, done] = await statusesFor(dep.git_commit);
    for (const r of [pending, done]) {
      expect(r?.method).toBe('POST');
      expect(r?.path).toBe(
        `/api/v4/projects/${encodeURIComponent(`${owner}/gl`)}/statuses/${dep.git_commit}`,
      );
      expect(r?.headers['private-token']).toBe(git.password);
      expect(r?.headers.authorization).toBeUndefined();
      expect(r?.body).toBe('');
    }
    expect(pending?.query).toEqual({
      state: 'running',
      name: 'simpledeploy/gl',
      description: 'Deploying gl',
      target_url: `${PUBLIC_URL}/#/deployments/${dep.id}`,
    });
    expect(done?.query).toMatchObject({ state: 'success', name: 'simpledeploy/gl' });
  }, 120_000);

  it('a git host that does not answer never holds up or fails the deployment', async () => {
    const closedPort = await getFreePort();
    const repo = await git.createRepo(`${owner}/down`, {
      'compose.yaml': compose(images.sleeper),
      'README.md': 'down\n',
    });
    made.push('down');
    const res = await api('POST', '/api/v1/stacks', {
      name: 'down',
      repo_url: repo.url,
      repo_username: git.username,
      repo_token: git.password,
      commit_status: 'github',
      commit_status_api_url: `http://127.0.0.1:${closedPort}/api/v3`,
      ...registryFields(registry),
    });
    expect(res.status).toBe(201);
    expect((await deploy('down')).status).toBe('succeeded');
  }, 120_000);

  it('sends nothing with commit_status off', async () => {
    await gitStack('off', 'off', '/api/v3');
    const dep = await deploy('off');
    expect(dep.status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 1000));
    expect(received.filter((r) => r.path.includes(dep.git_commit))).toEqual([]);
  }, 120_000);
});
