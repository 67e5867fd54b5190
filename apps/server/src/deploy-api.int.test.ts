import { execFileSync } from 'node:child_process';
import type { CommandRunner } from '@simpledeploy/core';
import { createExecaRunner } from '@simpledeploy/deployer';
import { cleanupProject, getFreePort, WEB_CONTAINER_PORT } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import type { Container } from './container';
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

/** Wraps the real runner to count compose processes alive at once, exactly. */
function countingRunner(inner: CommandRunner) {
  let alive = 0;
  let max = 0;
  const runner: CommandRunner = {
    async run(file, args, opts) {
      alive++;
      max = Math.max(max, alive);
      try {
        return await inner.run(file, args, opts);
      } finally {
        alive--;
      }
    },
  };
  return {
    runner,
    reset: () => {
      max = 0;
    },
    get max() {
      return max;
    },
  };
}

let server: InProcessServer;
let container: Container;
let base: string;
let prefix: string;
let API_KEY: string;
let api: InProcessServer['api'];
const counting = countingRunner(createExecaRunner({ killGraceMs: 2000 }));
const stacksMade: string[] = [];

const registryCreds = () => ({
  docker_registry: registry.host,
  docker_username: registry.username,
  docker_password: registry.password,
});

async function createStack(name: string, compose: string, extra: Record<string, unknown> = {}) {
  stacksMade.push(name);
  const res = await api('POST', '/api/v1/stacks', { name, compose, ...registryCreds(), ...extra });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.stack;
}

const webCompose = (image: string, port: number, extra = '') =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n${extra}  worker:\n    image: ${images.sleeper}\n`;

async function httpBody(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return (await res.text()).trim();
}

beforeAll(async () => {
  // The API key is in the server's own environment on purpose: it must not reach compose.
  server = await startInProcessServer({}, { runner: counting.runner });
  ({ container, base, prefix, api } = server);
  API_KEY = server.apiKey;
});

afterAll(async () => {
  await server?.stop();
  for (const name of stacksMade) await cleanupProject(`${prefix}-${name}`);
});

describe('deploying through the HTTP API on the real engine', () => {
  let port: number;
  const versionIds: string[] = [];

  it('deploys a two-service stack whose images need registry credentials and serves it on 127.0.0.1', async () => {
    port = await getFreePort();
    await createStack('app', webCompose(images.webV1, port));
    const res = await api('POST', '/api/v1/stacks/app/deploy?wait=true');
    expect(res.status, JSON.stringify(res.json.deployment?.error)).toBe(200);
    expect(res.json.deployment.status).toBe('succeeded');
    expect(await httpBody(port)).toBe('v1');
    const services = await api('GET', '/api/v1/stacks/app/services');
    expect(
      services.json.services.map((s: { service: string; state: string }) => [s.service, s.state]),
    ).toEqual([
      ['web', 'running'],
      ['worker', 'running'],
    ]);
    // The registry password never appears in the stored log.
    const log = JSON.stringify(
      (await api('GET', `/api/v1/deployments/${res.json.deployment.id}`)).json,
    );
    expect(log).not.toContain(registry.password);
    versionIds.push(res.json.deployment.version_id);
  });

  it('records no new version when identical content is deployed again', async () => {
    const res = await api('POST', '/api/v1/stacks/app/deploy?wait=true');
    expect(res.json.deployment.status).toBe('succeeded');
    expect(res.json.deployment.version_id).toBe(versionIds[0]);
    expect((await api('GET', '/api/v1/stacks/app/versions')).json.versions).toHaveLength(1);
  });

  it('runs a new version when the image tag changes', async () => {
    await api('PATCH', '/api/v1/stacks/app', { compose: webCompose(images.webV2, port) });
    const res = await api('POST', '/api/v1/stacks/app/deploy?wait=true');
    expect(res.json.deployment.status).toBe('succeeded');
    expect(await httpBody(port)).toBe('v2');
    const versions = (await api('GET', '/api/v1/stacks/app/versions')).json.versions;
    expect(versions).toHaveLength(2);
    versionIds.push(res.json.deployment.version_id);
  });

  it('rolls back on its own when the new version fails its health check, and the old one still answers', async () => {
    await api('PATCH', '/api/v1/stacks/app', { compose: webCompose(images.unhealthy, port) });
    const res = await api('POST', '/api/v1/stacks/app/deploy?wait=true');
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('VALIDATION');
    expect(res.json.deployment.status).toBe('rolled_back');
    expect(res.json.deployment.error).toMatch(/unhealthy/);
    expect(await httpBody(port)).toBe('v2');
    expect((await api('GET', '/api/v1/stacks/app')).json.stack.current_version_id).toBe(
      versionIds[1],
    );
  });

  it('rolls back to an earlier version on request', async () => {
    const res = await api('POST', '/api/v1/stacks/app/rollback', { version_id: versionIds[0] });
    expect(res.status).toBe(202);
    const done = await container.services.deployer.waitFor(res.json.deployment.id);
    expect(done.status).toBe('succeeded');
    expect(await httpBody(port)).toBe('v1');
  });

  it('cancels a deploy hung in up --wait within seconds, leaves no compose process, and re-applies the good version', async () => {
    await api('PATCH', '/api/v1/stacks/app', {
      compose: webCompose(images.webV2, port, HANGING_HEALTHCHECK),
    });
    const { json } = await api('POST', '/api/v1/stacks/app/deploy');
    const id = json.deployment.id;
    await untilUpStarted(api, id);
    await new Promise((r) => setTimeout(r, 1500));
    expect(composeProcesses(prefix).length).toBeGreaterThan(0);
    const cancel = await api('POST', `/api/v1/deployments/${id}/cancel`);
    expect(cancel.status).toBe(202);
    // The bound: canceled within 5 s, and the process group gone.
    await until(
      async () =>
        (await api('GET', `/api/v1/deployments/${id}`)).json.deployment.status === 'canceled',
      5_000,
      'canceled',
    );
    await until(
      () => composeProcesses(prefix).length === 0 || undefined,
      5_000,
      'no compose process left',
    );
    const reapply = (await api('GET', '/api/v1/stacks/app/deployments')).json.deployments[0];
    expect(reapply.trigger).toBe('rollback');
    const done = await container.services.deployer.waitFor(reapply.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(await httpBody(port)).toBe('v1');
  });
});

describe('live logs', () => {
  it('streams lines to a WebSocket and an SSE client while the deploy runs, then the end message', async () => {
    const port = await getFreePort();
    await createStack('logs', webCompose(images.webV1, port));
    const { json } = await api('POST', '/api/v1/stacks/logs/deploy');
    const id = json.deployment.id;
    const deployer = container.services.deployer;
    const isRunning = () => ['queued', 'running'].includes(deployer.getDeployment(id).status);

    const ws = new WebSocket(
      `${base.replace('http', 'ws')}/api/v1/deployments/${id}/logs/ws?token=${API_KEY}`,
    );
    const wsMessages: { type: string; seq?: number; status?: string; live: boolean }[] = [];
    ws.on('message', (data) => wsMessages.push({ ...JSON.parse(String(data)), live: isRunning() }));
    const wsClosed = new Promise((r) => ws.on('close', r));

    const sse = await fetch(`${base}/api/v1/deployments/${id}/logs?follow=true`, {
      headers: { 'X-API-KEY': API_KEY },
    });
    const sseEvents: { data: string; live: boolean }[] = [];
    const reader = sse.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      const live = isRunning();
      for (const m of buf.matchAll(/data: (.*)\n/g)) sseEvents.push({ data: m[1] ?? '', live });
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    }
    await wsClosed;

    const wsLines = wsMessages.filter((m) => m.type === 'line');
    expect(wsLines.some((m) => m.live)).toBe(true);
    expect(wsLines.map((m) => m.seq)).toEqual(wsLines.map((_, i) => i + 1));
    expect(wsMessages.at(-1)).toMatchObject({ type: 'end', status: 'succeeded' });
    const sseLines = sseEvents.filter((e) => e.data.includes('"type":"line"'));
    expect(sseLines.length).toBe(wsLines.length);
    expect(sseLines.some((e) => e.live)).toBe(true);
    expect(sseEvents.at(-1)?.data).toContain('"status":"succeeded"');
  });
});

describe('the queue on the real engine', () => {
  it('never has more than three compose processes alive when four stacks deploy at once', async () => {
    const names = ['q1', 'q2', 'q3', 'q4'];
    for (const n of names)
      await createStack(n, `services:\n  worker:\n    image: ${images.sleeper}\n`);
    counting.reset();
    let sampledMax = 0;
    // Each compose command is a `docker` CLI process and its `docker-compose` plugin child:
    // count the plugins, one per running compose command.
    const sampler = setInterval(() => {
      const plugins = composeProcesses(prefix).filter((l) => l.includes('docker-compose'));
      sampledMax = Math.max(sampledMax, plugins.length);
    }, 20);
    try {
      const started = await Promise.all(
        names.map((n) => api('POST', `/api/v1/stacks/${n}/deploy`)),
      );
      const done = await Promise.all(
        started.map((r) => container.services.deployer.waitFor(r.json.deployment.id)),
      );
      expect(done.map((d) => d.status)).toEqual([
        'succeeded',
        'succeeded',
        'succeeded',
        'succeeded',
      ]);
    } finally {
      clearInterval(sampler);
    }
    expect(counting.max).toBe(3);
    expect(sampledMax).toBeGreaterThan(0);
    expect(sampledMax).toBeLessThanOrEqual(3);
  });
});

describe('the server environment', () => {
  it('does not hand the API key to compose interpolation', async () => {
    const compose = `services:\n  worker:\n    image: ${images.sleeper}\n    environment:\n      LEAK: "\${SIMPLEDEPLOY_API_KEY:-absent}"\n`;
    await createStack('leak', compose);
    const res = await api('POST', '/api/v1/stacks/leak/deploy?wait=true');
    expect(res.json.deployment.status).toBe('succeeded');
    const env = execFileSync(
      'docker',
      ['inspect', '--format', '{{json .Config.Env}}', `${prefix}-leak-worker-1`],
      {
        encoding: 'utf8',
      },
    );
    expect(env).toContain('LEAK=absent');
    expect(env).not.toContain(API_KEY);
  });
});
