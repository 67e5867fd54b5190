import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { getFreePort, type TestGitServer, WEB_CONTAINER_PORT } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HANGING_HEALTHCHECK,
  type InProcessServer,
  projectContainers,
  registryFields,
  startServerWithGit,
  until,
  untilUpStarted,
} from './test-server';

// Deploys that always end on a known version (issue 10), on the real engine: a compose
// killed mid-recreate, a cancel after a manual rollback, builds, auto_deploy, and the
// git state of a stack with polling off.

const registry = inject('registry');
const images = inject('images');

let server: InProcessServer;
let api: InProcessServer['api'];
let git: TestGitServer;
let world: Awaited<ReturnType<typeof startServerWithGit>> | undefined;
const made: string[] = [];

const project = (name: string) => `${server.prefix}-${name}`;
const creds = () => registryFields(registry);
const containers = (name: string) => projectContainers(project(name));

async function create(name: string, body: Record<string, unknown>) {
  made.push(name);
  const res = await api('POST', '/api/v1/stacks', { name, ...creds(), ...body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.stack;
}

const deployWait = async (name: string) =>
  (await api('POST', `/api/v1/stacks/${name}/deploy?wait=true`, {})).json.deployment;

async function ended(id: string) {
  return until(
    async () => {
      const d = (await api('GET', `/api/v1/deployments/${id}`)).json.deployment;
      return !['queued', 'running'].includes(d.status) && d;
    },
    120_000,
    `deployment ${id} to end`,
  );
}

const web = (image: string, port: number, extra = '') =>
  `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n${extra}`;
const body = async (port: number) =>
  (await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())).trim();

/** A container whose PID 1 ignores TERM: compose's recreate waits in the stop of the old one. */
const slowStop = (tag: string, grace = '8s') =>
  `services:\n  worker:\n    image: ${images.sleeper}\n    command: ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"]\n    stop_grace_period: ${grace}\n    environment:\n      TAG: ${tag}\n`;

beforeAll(async () => {
  world = await startServerWithGit('known', made);
  ({ server, git } = world);
  api = server.api;
}, 120_000);

afterAll(async () => {
  await world?.close();
}, 120_000);

describe('a compose killed mid-recreate', () => {
  it('by a cancel: the re-apply and the next deploy succeed, and one container is left', async () => {
    await create('slow', { compose: slowStop('a') });
    expect((await deployWait('slow')).status).toBe('succeeded');
    await api('PATCH', '/api/v1/stacks/slow', { compose: slowStop('b') });
    const dep = (await api('POST', '/api/v1/stacks/slow/deploy', {})).json.deployment;
    await untilUpStarted(api, dep.id);
    // compose has made the replacement under its temporary name and waits on the old one.
    await until(
      () => containers('slow').some((c) => /^[0-9a-f]{12}_/.test(c.name)),
      30_000,
      'the temporary container of the recreate',
    );
    expect((await api('POST', `/api/v1/deployments/${dep.id}/cancel`)).status).toBe(202);
    const canceled = await ended(dep.id);
    expect(canceled.status).toBe('canceled');
    // The cancel queued a re-apply of the version that ran; it must not trip on the leftover.
    const reapplyId = /deployment (dep_\w+) re-applies/.exec(canceled.error)?.[1];
    expect(reapplyId, canceled.error).toBeTruthy();
    const reapply = await ended(reapplyId as string);
    expect(reapply.status, reapply.error).toBe('succeeded');
    await api('PATCH', '/api/v1/stacks/slow', { compose: slowStop('c', '1s') });
    const next = await deployWait('slow');
    expect(next.status, next.error).toBe('succeeded');
    expect(containers('slow').map((c) => c.name)).toEqual([`${project('slow')}-worker-1`]);
  });

  it('as older compose releases leave it (the old container renamed): the next deploy repairs it', async () => {
    await create('renamed', { compose: slowStop('a', '1s') });
    expect((await deployWait('renamed')).status).toBe('succeeded');
    const [old] = containers('renamed');
    expect(old).toBeDefined();
    // Without the repair, up fails: Conflict. The container name "/<id>_…" is already in use.
    execFileSync('docker', ['stop', '-t', '0', old?.id as string]);
    execFileSync('docker', ['rename', old?.id as string, `${old?.id.slice(0, 12)}_${old?.name}`]);
    await api('PATCH', '/api/v1/stacks/renamed', { compose: slowStop('b', '1s') });
    const next = await deployWait('renamed');
    expect(next.status, next.error).toBe('succeeded');
    expect(next.log.map((l: { text: string }) => l.text).join('\n')).toContain(
      'left by an interrupted recreate',
    );
    expect(containers('renamed').map((c) => [c.name, c.state])).toEqual([
      [`${project('renamed')}-worker-1`, 'running'],
    ]);
  });
});

describe('the version a cancel returns to', () => {
  it('is the one that ran when the deployment started: v1 after a manual rollback, not v2', async () => {
    const port = await getFreePort();
    await create('back', { compose: web(images.webV1, port) });
    const v1 = await deployWait('back');
    expect(v1.status).toBe('succeeded');
    await api('PATCH', '/api/v1/stacks/back', { compose: web(images.webV2, port) });
    expect((await deployWait('back')).status).toBe('succeeded');
    expect(await body(port)).toBe('v2');
    const rb = (await api('POST', '/api/v1/stacks/back/rollback', { version_id: v1.version_id }))
      .json.deployment;
    expect((await ended(rb.id)).status).toBe('succeeded');
    expect(await body(port)).toBe('v1');

    await api('PATCH', '/api/v1/stacks/back', {
      compose: web(images.webV2, port, HANGING_HEALTHCHECK),
    });
    const hang = (await api('POST', '/api/v1/stacks/back/deploy', {})).json.deployment;
    await untilUpStarted(api, hang.id);
    await until(
      () => containers('back').some((c) => c.state === 'running'),
      30_000,
      'the new container',
    );
    await api('POST', `/api/v1/deployments/${hang.id}/cancel`);
    const canceled = await ended(hang.id);
    expect(canceled.status).toBe('canceled');
    const reapplyId = /deployment (dep_\w+) re-applies/.exec(canceled.error)?.[1];
    const reapply = await ended(reapplyId as string);
    expect(reapply.status, reapply.error).toBe('succeeded');
    const stack = (await api('GET', '/api/v1/stacks/back')).json.stack;
    expect(stack.current_version_id).toBe(v1.version_id);
    expect(await body(port)).toBe('v1');
  });
});

describe('builds', () => {
  it('builds a git stack with build: and image: offline, and streams the build into the log', async () => {
    const repo = await git.createRepo(`build-${randomBytes(3).toString('hex')}`, {
      'compose.yaml': `services:\n  app:\n    image: sdtest-local/built-${randomBytes(3).toString('hex')}:1\n    build: ./app\n  other:\n    image: ${images.sleeper}\n`,
      'app/Dockerfile': `FROM ${images.sleeper}\nLABEL simpledeploy.test=1\nCOPY hello.txt /hello.txt\n`,
      'app/hello.txt': 'built here\n',
    });
    await create('build', {
      repo_url: repo.url,
      repo_username: git.username,
      repo_token: git.password,
    });
    const dep = await deployWait('build');
    expect(dep.status, dep.error).toBe('succeeded');
    const log = dep.log.map((l: { text: string }) => l.text).join('\n');
    expect(log).toMatch(/ build app/);
    expect(log).toMatch(/hello\.txt/);
    const app = containers('build').find((c) => c.name.includes('-app-'));
    const hello = execFileSync(
      'docker',
      ['exec', app?.id as string, '/bin/busybox', 'cat', '/hello.txt'],
      {
        encoding: 'utf8',
      },
    );
    expect(hello).toBe('built here\n');
  });

  it('refuses an inline stack that builds, or mounts a file it cannot have', async () => {
    const built = await api('POST', '/api/v1/stacks', {
      name: 'inline-build',
      compose: `services:\n  app:\n    image: x/y:1\n    build: .\n`,
    });
    expect(built.status).toBe(400);
    expect(built.json.error.message).toContain('no files to build from');
    const file = await api('POST', '/api/v1/stacks', {
      name: 'inline-file',
      compose: `services:\n  app:\n    image: ${images.sleeper}\n    volumes: ["./app.conf:/etc/app.conf"]\n`,
    });
    expect(file.status).toBe(400);
    expect(file.json.error.message).toContain('empty directory');
  });
});

describe('auto_deploy and git state', () => {
  it('deploys an auto_deploy stack when it is created, without waiting for a poll', async () => {
    await create('auto', {
      compose: `services:\n  worker:\n    image: ${images.sleeper}\n`,
      auto_deploy: true,
      reconcile_interval_seconds: 300,
    });
    const deps = await until(
      async () => {
        const list = (await api('GET', '/api/v1/stacks/auto/deployments')).json.deployments;
        return list.length > 0 && list;
      },
      10_000,
      'the deployment of the new stack',
    );
    expect(deps[0].trigger).toBe('api');
    expect((await ended(deps[0].id)).status).toBe('succeeded');
  });

  it('shows the remote commit /drift learnt on the stack, polling off', async () => {
    const repo = await git.createRepo(`drift-${randomBytes(3).toString('hex')}`, {
      'compose.yaml': `services:\n  worker:\n    image: ${images.sleeper}\n`,
    });
    await create('gitstate', {
      repo_url: repo.url,
      repo_username: git.username,
      repo_token: git.password,
    });
    expect((await deployWait('gitstate')).status).toBe('succeeded');
    const next = await repo.commit({ 'README.md': 'changed\n' });
    const drift = (await api('GET', '/api/v1/stacks/gitstate/drift')).json;
    expect(drift.git).toMatchObject({ remote_commit: next, behind: true });
    const stack = (await api('GET', '/api/v1/stacks/gitstate')).json.stack;
    expect(stack).toMatchObject({ remote_commit: next, behind: true });
  });
});

describe('zero-downtime updates (update_order: start-first)', () => {
  /** Samples the running web containers of a stack until stopped: how many at each moment. */
  function sampler(name: string) {
    const counts: number[] = [];
    let on = true;
    const loop = (async () => {
      while (on) {
        counts.push(
          containers(name).filter((c) => c.name.includes('-web-') && c.state === 'running').length,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return {
      async stop() {
        on = false;
        await loop;
        return counts;
      },
    };
  }
  const webOnly = (image: string) => `services:\n  web:\n    image: ${image}\n`;

  it('starts the new container beside the old one and stops the old one once the new one is healthy', async () => {
    await create('zd', { compose: webOnly(images.webV1), update_order: 'start-first' });
    expect((await deployWait('zd')).status).toBe('succeeded');
    const [old] = containers('zd');
    await api('PATCH', '/api/v1/stacks/zd', { compose: webOnly(images.webV2) });
    const s = sampler('zd');
    const dep = await deployWait('zd');
    const counts = await s.stop();
    expect(dep.status, dep.error).toBe('succeeded');
    const log = dep.log.map((l: { text: string }) => l.text).join('\n');
    expect(log).toContain('start-first: starting 1 new web container(s)');
    // Never without a running web container, and two at once while the new one warmed up.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...counts)).toBe(2);
    const now = containers('zd');
    expect(now).toHaveLength(1);
    expect(now[0]?.id).not.toBe(old?.id);
  });

  it('keeps the old container serving when the new one never becomes healthy', async () => {
    await create('zdbad', { compose: webOnly(images.webV1), update_order: 'start-first' });
    expect((await deployWait('zdbad')).status).toBe('succeeded');
    const [old] = containers('zdbad');
    await api('PATCH', '/api/v1/stacks/zdbad', { compose: webOnly(images.unhealthy) });
    const dep = await deployWait('zdbad');
    expect(['failed', 'rolled_back']).toContain(dep.status);
    expect(dep.error).toContain('did not become healthy');
    expect(containers('zdbad').map((c) => [c.id, c.state])).toEqual([[old?.id, 'running']]);
  });

  it('falls back to stop-first, saying why, for a service with a fixed host port', async () => {
    const port = await getFreePort();
    await create('zdport', { compose: web(images.webV1, port), update_order: 'start-first' });
    expect((await deployWait('zdport')).status).toBe('succeeded');
    await api('PATCH', '/api/v1/stacks/zdport', { compose: web(images.webV2, port) });
    const dep = await deployWait('zdport');
    expect(dep.status, dep.error).toBe('succeeded');
    expect(dep.log.map((l: { text: string }) => l.text).join('\n')).toContain(
      `web is updated stop-first because it publishes host port ${port}`,
    );
    expect(await body(port)).toBe('v2');
  });
});
