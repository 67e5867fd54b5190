import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cleanupProject,
  getFreePort,
  uniqueProjectName,
  WEB_CONTAINER_PORT,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  apiClient,
  composeProcesses,
  HANGING_HEALTHCHECK,
  until,
  untilUpStarted,
} from './test-server';

const registry = inject('registry');
const images = inject('images');

const serverDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(serverDir, 'dist/main.js');
const API_KEY = `restart-key-${Math.random().toString(36).slice(2)}`;
const prefix = uniqueProjectName('sdtest');
let dataDir: string;
const children = new Set<ChildProcess>();

/** The bundled server as `pnpm start` runs it, on the shared data dir. */
async function startServer(port: number) {
  const child = spawn(process.execPath, [bundle], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      SIMPLEDEPLOY_API_KEY: API_KEY,
      SIMPLEDEPLOY_SECRET_KEY: 'restart-secret-key-0123456789',
      SIMPLEDEPLOY_DATA_DIR: dataDir,
      SIMPLEDEPLOY_PROJECT_PREFIX: prefix,
      // Two deployments at a time: a third stack's deploy waits in the queue.
      SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => children.delete(child));
  await until(
    () => {
      if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
      return out.includes('simpledeploy is listening');
    },
    20_000,
    'the server to listen',
    100,
  );
  const base = `http://127.0.0.1:${port}`;
  return { child, exited, output: () => out, api: apiClient(base, API_KEY) };
}

const webCompose = (image: string, port: number, extra = '') =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n${extra}`;

/**
 * PID 1 ignores SIGTERM and takes 15 s to stop: recreating it leaves compose
 * waiting silently, so nothing it writes to a dead server's pipe ends it.
 */
const slowStopCompose = (tag: string) =>
  `services:\n  worker:\n    image: ${images.sleeper}\n    command: ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"]\n    stop_grace_period: 15s\n    environment:\n      TAG: ${tag}\n`;

const creds = {
  docker_registry: registry.host,
  docker_username: registry.username,
  docker_password: registry.password,
};

beforeAll(() => {
  // The test runs the bundle, so it covers what `pnpm start` ships.
  execFileSync(join(serverDir, 'node_modules/.bin/tsup'), { cwd: serverDir, stdio: 'pipe' });
  dataDir = mkdtempSync(join(tmpdir(), 'sd-restart-'));
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const name of ['crash', 'slowstop', 'other']) await cleanupProject(`${prefix}-${name}`);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 of the server mid-deploy, then a restart', () => {
  it('marks the deployments interrupted, leaves no compose process behind, and the stacks and queue work again', async () => {
    const port = await getFreePort();
    const webPort = await getFreePort();
    const first = await startServer(port);
    const api = first.api;
    for (const [name, compose] of [
      ['crash', webCompose(images.webV1, webPort)],
      ['slowstop', slowStopCompose('a')],
      ['other', `services:\n  worker:\n    image: ${images.sleeper}\n`],
    ] as const) {
      const res = await api('POST', '/api/v1/stacks', { name, compose, ...creds });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    for (const name of ['crash', 'slowstop']) {
      const good = await api('POST', `/api/v1/stacks/${name}/deploy?wait=true`);
      expect(good.json.deployment.status, good.json.deployment.error).toBe('succeeded');
    }

    // A deploy hung in `up --wait`, one queued behind it on the same stack, a recreate
    // waiting on a slow stop, and a third stack's deploy queued behind both.
    await api('PATCH', '/api/v1/stacks/crash', {
      compose: webCompose(images.webV2, webPort, HANGING_HEALTHCHECK),
    });
    await api('PATCH', '/api/v1/stacks/slowstop', { compose: slowStopCompose('b') });
    const running = (await api('POST', '/api/v1/stacks/crash/deploy')).json.deployment;
    const queuedSame = (await api('POST', '/api/v1/stacks/crash/deploy')).json.deployment;
    const stopping = (await api('POST', '/api/v1/stacks/slowstop/deploy')).json.deployment;
    const queuedOther = (await api('POST', '/api/v1/stacks/other/deploy')).json.deployment;
    expect(queuedSame.id).not.toBe(running.id);
    await untilUpStarted(api, running.id);
    await untilUpStarted(api, stopping.id);
    await until(
      async () =>
        (await api('GET', `/api/v1/deployments/${stopping.id}`)).json.deployment.log.some(
          (l: { text: string }) => /Recreate|Stopping/.test(l.text),
        ),
      20_000,
      'compose to stop the old container',
    );

    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startServer(port);
    // Whatever compose the dead server left is stopped by the new one at start-up.
    await until(
      () => composeProcesses(prefix).length === 0,
      10_000,
      `no compose process of the dead server left (${composeProcesses(prefix).join('; ')})`,
    );
    const get = async (id: string) =>
      (await second.api('GET', `/api/v1/deployments/${id}`)).json.deployment;
    for (const id of [running.id, stopping.id]) {
      const r = await get(id);
      expect(r.status).toBe('interrupted');
      expect(r.error).toMatch(/stopped while this deployment was running/);
      expect(r.finished_at).toEqual(expect.any(String));
    }
    for (const q of [queuedSame, queuedOther]) {
      const d = await get(q.id);
      expect(d.status).toBe('interrupted');
      expect(d.error).toMatch(/before this queued deployment started/);
    }
    const stacks = (await second.api('GET', '/api/v1/stacks')).json.stacks;
    expect(stacks.map((s: { status: string }) => s.status)).toEqual(['idle', 'idle', 'idle']);

    // A new deploy is neither coalesced into a dead one nor stuck behind it.
    await second.api('PATCH', '/api/v1/stacks/crash', {
      compose: webCompose(images.webV2, webPort),
    });
    const redeploy = await second.api('POST', '/api/v1/stacks/crash/deploy?wait=true');
    expect(redeploy.json.coalesced).toBeFalsy();
    expect(redeploy.json.deployment.status, redeploy.json.deployment.error).toBe('succeeded');
    const body = await fetch(`http://127.0.0.1:${webPort}/`).then((res) => res.text());
    expect(body.trim()).toBe('v2');
    const other = await second.api('POST', '/api/v1/stacks/other/deploy?wait=true');
    expect(other.json.deployment.status, other.json.deployment.error).toBe('succeeded');

    // The recreate the kill interrupted left a container under compose's temporary name;
    // the next deploy of that stack repairs it and ends with one container, on the new version.
    const names = () =>
      execFileSync(
        'docker',
        [
          'ps',
          '-a',
          '--filter',
          `label=com.docker.compose.project=${prefix}-slowstop`,
          '--format',
          '{{.Names}}',
        ],
        { encoding: 'utf8' },
      )
        .split('\n')
        .filter(Boolean);
    expect(
      names().some((n) => /^[0-9a-f]{12}_/.test(n)),
      names().join(' '),
    ).toBe(true);
    await second.api('PATCH', '/api/v1/stacks/slowstop', {
      compose: slowStopCompose('c').replace('stop_grace_period: 15s', 'stop_grace_period: 1s'),
    });
    const repaired = await second.api('POST', '/api/v1/stacks/slowstop/deploy?wait=true');
    expect(repaired.json.deployment.status, repaired.json.deployment.error).toBe('succeeded');
    expect(names()).toEqual([`${prefix}-slowstop-worker-1`]);

    second.child.kill('SIGTERM');
    await second.exited;
  });
});
