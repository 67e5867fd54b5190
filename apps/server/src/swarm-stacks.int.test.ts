import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dockerOk,
  startTestHosts,
  type TestHost,
  type TestHosts,
  writeDockerConfig,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, startServerWithGit, until } from './test-server';

// Swarm stacks (issue 15) on a real two-node Swarm: each node is a test host with its own
// dockerd; the manager is reached over TCP+TLS; images come from the test registry
// through the hosts' relay.

const registry = inject('registry');
const images = inject('images');

let set: TestHosts;
let manager: TestHost;
let world: Awaited<ReturnType<typeof startServerWithGit>>;
let server: InProcessServer;
let api: InProcessServer['api'];
let scratch: string;
const made: string[] = [];

const stackName = (name: string) => `${server.prefix}-${name}`;
const creds = () => {
  const r = set.registries[0];
  return { docker_registry: r?.host, docker_username: r?.username, docker_password: r?.password };
};

async function create(name: string, compose: string, extra: Record<string, unknown> = {}) {
  made.push(name);
  const res = await api('POST', '/api/v1/stacks', {
    name,
    compose,
    host: 'swarm',
    engine: 'swarm',
    deploy_timeout_seconds: 120,
    ...creds(),
    ...extra,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.stack;
}

async function ended(id: string, ms = 180_000) {
  return until(
    async () => {
      const d = (await api('GET', `/api/v1/deployments/${id}`)).json.deployment;
      return !['queued', 'running'].includes(d.status) && d;
    },
    ms,
    `deployment ${id} to end`,
  );
}
const deploy = async (name: string, body: Record<string, unknown> = {}) => {
  const res = await api('POST', `/api/v1/stacks/${name}/deploy`, body);
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  return ended(res.json.deployment.id);
};

/** The image each service of a stack runs, as the manager's service spec says. */
async function specImages(name: string): Promise<Record<string, string>> {
  const ls = await manager.docker([
    'service',
    'ls',
    '--filter',
    `label=com.docker.stack.namespace=${stackName(name)}`,
    '--format',
    '{{.Name}}',
  ]);
  const out: Record<string, string> = {};
  for (const svc of ls.stdout.split('\n').filter(Boolean)) {
    const r = await manager.docker([
      'service',
      'inspect',
      svc,
      '--format',
      '{{.Spec.TaskTemplate.ContainerSpec.Image}}',
    ]);
    out[svc.slice(stackName(name).length + 1)] = r.stdout.trim();
  }
  return out;
}

const web = (image: string, extra = '') =>
  `services:\n  web:\n    image: ${image}\n    deploy:\n      replicas: 2\n      placement:\n        max_replicas_per_node: 1\n      update_config:\n        monitor: 3s\n${extra}`;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sdtest-swarm-'));
  [set, world] = await Promise.all([
    startTestHosts({ count: 2, swarm: true, registries: [registry], prefix: 'sdtest-swarm' }),
    startServerWithGit('swarm', made),
  ]);
  manager = set.swarm?.manager as TestHost;
  ({ server } = world);
  api = server.api;
  const res = await api('POST', '/api/v1/hosts', {
    name: 'swarm',
    docker_host: manager.dockerHostTcp,
    tls_ca: manager.tls.ca,
    tls_cert: manager.tls.cert,
    tls_key: manager.tls.key,
    swarm: true,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  await until(
    async () => (await api('GET', '/api/v1/hosts/swarm')).json.host.swarm === 'manager',
    60_000,
    'the swarm host to be checked as a manager',
  );
}, 600_000);

afterAll(async () => {
  for (const name of made) await manager?.docker(['stack', 'rm', stackName(name)]);
  await world?.close();
  await set?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 180_000);

describe('swarm stacks', () => {
  it('spreads two replicas on the two nodes, says which node in /services, and is in sync', async () => {
    await create('spread', web(set.hostImageRef(images.webV1)));
    const d = await deploy('spread');
    expect(d.status, d.error).toBe('succeeded');
    const full = (await api('GET', `/api/v1/deployments/${d.id}`)).json.deployment;
    const log = full.log.map((l: { text: string }) => l.text).join('\n');
    expect(log).toContain('docker stack deploy --with-registry-auth --prune --detach=false');
    expect(log).toMatch(/swarm: web: 2\/2 running/);

    const rows = (await api('GET', '/api/v1/stacks/spread/services')).json.services;
    expect(rows).toHaveLength(2);
    expect(rows.every((r: { state: string }) => r.state === 'running')).toBe(true);
    expect(rows.map((r: { node: string }) => r.node).sort()).toEqual(
      set.hosts.map((h) => h.name).sort(),
    );
    const running = await specImages('spread');
    expect(running.web).toMatch(/@sha256:[0-9a-f]{64}$/);

    const drift = (await api('GET', '/api/v1/stacks/spread/drift')).json;
    expect(drift.services).toEqual([]);
    expect(drift.in_sync).toBe(true);
  });

  it('refuses keys Swarm ignores before anything runs, naming each with its fix', async () => {
    await create(
      'refused',
      `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    container_name: fixed\n    restart: always\n`,
    );
    const d = await deploy('refused');
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/cannot run on Swarm as written \(2 keys/);
    expect(d.error).toContain('service web: container_name');
    expect(d.error).toContain('deploy.restart_policy');
    expect(await specImages('refused')).toEqual({});
  });

  it('reports an update whose health check fails as not succeeded, and runs the old digest after', async () => {
    await create('unhealthy', web(set.hostImageRef(images.webV1)));
    const first = await deploy('unhealthy');
    expect(first.status, first.error).toBe('succeeded');
    const good = await specImages('unhealthy');

    const res = await api('PATCH', '/api/v1/stacks/unhealthy', {
      compose: web(set.hostImageRef(images.unhealthy)),
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const bad = await deploy('unhealthy');
    expect(['failed', 'rolled_back']).toContain(bad.status);
    expect(bad.error).toMatch(/Swarm (paused|rolled)/);
    // auto_rollback: the version that ran before, at the digest it ran with.
    expect(bad.status).toBe('rolled_back');
    expect(await specImages('unhealthy')).toEqual(good);
  });

  it('rolls back to the digests a version ran with, though its tag moved since', async () => {
    const hostRegistry = set.registries[0];
    if (!hostRegistry) throw new Error('no registry relayed to the hosts');
    const repo = `${registry.host}/sdsw-moving-${randomBytes(3).toString('hex')}`;
    const config = await writeDockerConfig(join(scratch, 'push-config'), {
      [registry.host]: { username: registry.username ?? '', password: registry.password ?? '' },
    });
    // Two builds with different content pushed under the same tag, one after the other.
    const push = async (content: string) => {
      const ctx = join(scratch, `ctx-${content}`);
      await rm(ctx, { recursive: true, force: true });
      await mkdir(ctx, { recursive: true });
      await writeFile(
        join(ctx, 'Dockerfile'),
        `FROM ${images.webV1}\nLABEL sdsw.content=${content}\n`,
      );
      await dockerOk(['build', '-q', '-t', `${repo}:moving`, ctx], {
        env: { DOCKER_CONFIG: config },
      });
      await dockerOk(['push', '-q', `${repo}:moving`], { env: { DOCKER_CONFIG: config } });
    };
    const ref = set.hostImageRef(`${repo}:moving`);

    await push('one');
    await create('moving', web(ref));
    const v1 = await deploy('moving');
    expect(v1.status, v1.error).toBe('succeeded');
    const first = await specImages('moving');

    await push('two');
    await api('PATCH', '/api/v1/stacks/moving', {
      compose: web(ref, '    labels:\n      - two\n'),
    });
    const v2 = await deploy('moving');
    expect(v2.status, v2.error).toBe('succeeded');
    const second = await specImages('moving');
    expect(second.web).not.toBe(first.web);

    const back = await api('POST', '/api/v1/stacks/moving/rollback', { version_id: v1.version_id });
    expect(back.status, JSON.stringify(back.json)).toBe(202);
    const rb = await ended(back.json.deployment.id);
    expect(rb.status, rb.error).toBe('succeeded');
    expect(await specImages('moving')).toEqual(first);
    const tasks = await manager.docker([
      'service',
      'ps',
      `${stackName('moving')}_web`,
      '--filter',
      'desired-state=running',
      '--no-trunc',
      '--format',
      '{{.Image}} {{.CurrentState}}',
    ]);
    const lines = tasks.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const l of lines)
      expect(l).toMatch(
        new RegExp(`^${first.web?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} Running`),
      );
  });

  it('cancels a deploy while Swarm converges: no docker process left, then the old version again', async () => {
    await create('cancel', web(set.hostImageRef(images.webV1)));
    const first = await deploy('cancel');
    expect(first.status, first.error).toBe('succeeded');
    const good = await specImages('cancel');
    // A health check whose first probe comes after a minute: the new tasks stay `starting`.
    const slow = `    healthcheck:\n      test: ["CMD", "true"]\n      interval: 60s\n`;
    await api('PATCH', '/api/v1/stacks/cancel', {
      compose: web(set.hostImageRef(images.webV2), slow),
    });
    const started = await api('POST', '/api/v1/stacks/cancel/deploy');
    const id = started.json.deployment.id;
    await until(
      async () =>
        (await api('GET', `/api/v1/deployments/${id}`)).json.deployment.log.some(
          (l: { text: string }) => l.text.startsWith('swarm: web:'),
        ),
      60_000,
      'the convergence wait to start',
    );
    expect((await api('POST', `/api/v1/deployments/${id}/cancel`)).status).toBe(202);
    const canceled = await ended(id);
    expect(canceled.status).toBe('canceled');
    // Its CLI, known by the stack file it was given (the re-apply that follows has its own).
    const log = (await api('GET', `/api/v1/deployments/${id}`)).json.deployment.log;
    const file = log
      .map((l: { text: string }) => / -c (\S+) /.exec(l.text)?.[1])
      .find(Boolean) as string;
    expect(file).toMatch(/stack\.json$/);
    const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    expect(ps.split('\n').filter((l) => l.includes(file))).toEqual([]);
    // The cancel queued a re-apply of the version that ran before, at its digest.
    const reapply = await until(
      async () =>
        (await api('GET', '/api/v1/stacks/cancel/deployments')).json.deployments.find(
          (d: { trigger: string; id: string }) => d.trigger === 'rollback',
        ),
      30_000,
      'the re-apply after the cancel',
    );
    const back = await ended(reapply.id);
    expect(back.status, back.error).toBe('succeeded');
    expect(await specImages('cancel')).toEqual(good);
  });
});
