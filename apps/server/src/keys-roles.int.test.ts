import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupProject, getFreePort, WEB_CONTAINER_PORT } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { databasePath } from './container';
import { apiClient, type InProcessServer, startInProcessServer } from './test-server';

const registry = inject('registry');
const images = inject('images');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let server: InProcessServer;
let api: InProcessServer['api'];
const stacksMade: string[] = [];
let ciKey = '';
let ci: ReturnType<typeof apiClient>;

const composeOn = (port: number) =>
  `services:\n  web:\n    image: ${images.webV1}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n`;

/** The CLI as a pipeline runs it: its own process, the key in its environment. */
function cli(args: string[], key: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'apps/cli/src/main.ts'), ...args],
      {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? '',
          SIMPLEDEPLOY_API_KEY: key,
          SIMPLEDEPLOY_URL: server.base,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  server = await startInProcessServer();
  api = server.api;
  for (const name of ['app', 'other']) {
    stacksMade.push(name);
    const res = await api('POST', '/api/v1/stacks', {
      name,
      compose: composeOn(await getFreePort()),
      docker_registry: registry.host,
      docker_username: registry.username,
      docker_password: registry.password,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  }
  // The other stack has a deployment whose log the CI key must not read.
  expect((await api('POST', '/api/v1/stacks/other/deploy?wait=true')).status).toBe(200);
  const key = await api('POST', '/api/v1/keys', {
    name: 'ci-app',
    role: 'deployer',
    stacks: ['app'],
  });
  expect(key.status).toBe(201);
  ciKey = key.json.key.secret;
  ci = apiClient(server.base, ciKey);
});

afterAll(async () => {
  await server?.stop();
  for (const name of stacksMade) await cleanupProject(`${server.prefix}-${name}`);
});

describe('a deployer key limited to one stack, on the real engine', () => {
  it('deploys its stack from the CLI with --wait', async () => {
    const run = await cli(['deploy', 'app', '--wait'], ciKey);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^deployment dep_\S+ succeeded$/m);
    const stack = (await api('GET', '/api/v1/stacks/app')).json.stack;
    expect(stack.last_deployment.status).toBe('succeeded');
  });

  it('cannot deploy another stack, from the CLI or the API', async () => {
    const run = await cli(['deploy', 'other', '--wait'], ciKey);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(FORBIDDEN, HTTP 403)');
    const res = await ci('POST', '/api/v1/stacks/other/deploy');
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('FORBIDDEN');
  });

  it("cannot read another stack's logs, by stack, by deployment or over a WebSocket", async () => {
    const [latest] = (await api('GET', '/api/v1/stacks/other/deployments')).json.deployments;
    for (const path of [
      '/api/v1/stacks/other/logs',
      `/api/v1/deployments/${latest.id}/logs?follow=true`,
      `/api/v1/deployments/${latest.id}`,
    ]) {
      const res = await ci('GET', path);
      expect(res.status, path).toBe(403);
    }
    const ws = new WebSocket(
      `${server.base.replace('http', 'ws')}/api/v1/stacks/other/logs/ws?token=${ciKey}`,
    );
    ws.on('error', () => {}); // terminate() below reports the refused handshake as an error
    const status = await new Promise<number>((done) => {
      ws.on('unexpected-response', (_req, res) => done(res.statusCode ?? 0));
      ws.on('open', () => done(101));
    });
    ws.terminate();
    expect(status).toBe(403);
    // Its own stack's log it reads.
    expect((await ci('GET', '/api/v1/stacks/app/logs')).status).toBe(200);
  });

  it('cannot change any compose, create or delete a stack', async () => {
    const compose = composeOn(await getFreePort());
    for (const [method, path, body] of [
      ['PATCH', '/api/v1/stacks/app', { compose }],
      ['PUT', '/api/v1/stacks/other', { compose }],
      ['POST', '/api/v1/stacks', { name: 'sneaky', compose }],
      ['DELETE', '/api/v1/stacks/app', undefined],
      ['PATCH', '/stacks/app', { compose_file: 'x.yaml' }],
    ] as const) {
      const res = await ci(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await api('GET', '/api/v1/stacks')).json.stacks).toHaveLength(2);
  });

  it('the audit log has each of those attempts, with who, what and how it ended', async () => {
    const { json } = await api('GET', '/api/v1/audit?key=ci-app&limit=1000');
    const seen = json.entries.map(
      (e: { action: string; stack_name: string | null; result: string }) =>
        `${e.action} ${e.stack_name} ${e.result}`,
    );
    for (const line of [
      'stack.deploy app ok',
      'stack.deploy other forbidden',
      'GET /api/v1/stacks/:stack/logs other forbidden',
      'GET /api/v1/deployments/:id/logs other forbidden',
      'GET /api/v1/deployments/:id other forbidden',
      'GET /api/v1/stacks/:stack/logs/ws other forbidden',
      'stack.update app forbidden',
      'stack.update other forbidden',
      'stack.create null forbidden',
      'stack.delete app forbidden',
    ]) {
      expect(seen).toContain(line);
    }
    for (const e of json.entries) {
      expect(e).toMatchObject({ key_name: 'ci-app', request_id: expect.any(String) });
    }
    // The admin sees the key being made, by the key from the environment.
    const made = await api('GET', '/api/v1/audit?key=environment');
    expect(made.json.entries).toContainEqual(
      expect.objectContaining({ action: 'key.create', target: 'key ci-app', result: 'ok' }),
    );
  });

  it('leaves no key material in the database file', async () => {
    const path = databasePath({ dataDir: server.dataDir });
    for (const suffix of ['', '-wal']) {
      if (!existsSync(`${path}${suffix}`)) continue;
      const bytes = readFileSync(`${path}${suffix}`);
      for (const key of [ciKey, server.apiKey])
        expect(bytes.includes(Buffer.from(key)), `a key in ${path}${suffix}`).toBe(false);
    }
  });

  it('stops working, streams included, once revoked', async () => {
    const follow = await fetch(`${server.base}/api/v1/events`, {
      headers: { 'X-API-KEY': ciKey },
    });
    expect(follow.status).toBe(200);
    const { json } = await api('GET', '/api/v1/keys');
    const id = json.keys.find((k: { name: string }) => k.name === 'ci-app').id;
    expect((await api('DELETE', `/api/v1/keys/${id}`)).status).toBe(200);
    // The open event stream ends, and the next request is refused.
    const reader = follow.body!.getReader();
    for (;;) if ((await reader.read()).done) break;
    expect((await ci('GET', '/api/v1/stacks')).status).toBe(401);
  });
});
