import { randomBytes } from 'node:crypto';
import {
  startTestHosts,
  type TestHost,
  type TestHosts,
  WEB_CONTAINER_PORT,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  composeProcesses,
  HANGING_HEALTHCHECK,
  type InProcessServer,
  projectContainers,
  startServerWithGit,
  until,
  untilUpStarted,
} from './test-server';

// Stacks on remote Docker hosts (issue 15), on real hosts: each test host is a container
// with its own dockerd, sshd (pinned host key), filesystem and address on a network the
// test made. Files reach a host only through simpledeploy's sync, so a missing sync fails.

const registry = inject('registry');
const images = inject('images');

let set: TestHosts;
let h0: TestHost;
let h1: TestHost;
let world: Awaited<ReturnType<typeof startServerWithGit>>;
let server: InProcessServer;
let api: InProcessServer['api'];
const made: string[] = [];

const project = (name: string) => `${server.prefix}-${name}`;
/** The stack's registry login, at the address the hosts pull from. */
const creds = () => {
  const r = set.registries[0];
  return { docker_registry: r?.host, docker_username: r?.username, docker_password: r?.password };
};

const sshHost = (h: TestHost, name: string, extra: Record<string, unknown> = {}) =>
  api('POST', '/api/v1/hosts', {
    name,
    docker_host: h.dockerHostSsh,
    ssh_private_key: h.sshPrivateKey,
    ssh_known_hosts: h.knownHosts,
    ...extra,
  });

async function create(name: string, body: Record<string, unknown>) {
  made.push(name);
  const res = await api('POST', '/api/v1/stacks', { name, ...creds(), ...body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.stack;
}
const deployWait = async (name: string, body: Record<string, unknown> = {}) =>
  (await api('POST', `/api/v1/stacks/${name}/deploy?wait=true`, body)).json.deployment;

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

/** Containers of a project on a test host's own engine. */
async function remoteContainers(h: TestHost, name: string): Promise<string[]> {
  const r = await h.docker([
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project(name)}`,
    '--format',
    '{{.Names}} {{.State}}',
  ]);
  return r.stdout.split('\n').filter((l) => l.trim());
}

const page = async (h: TestHost, port: number) =>
  (
    await fetch(`http://${h.ip}:${port}/`, { signal: AbortSignal.timeout(5000) }).then((r) =>
      r.text(),
    )
  ).trim();

const site = (port: number, text: string, extraVolumes = '') => ({
  'compose.yaml': `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    env_file: ./app.env\n    volumes:\n      - ./site:/www:ro\n${extraVolumes}    ports:\n      - "${port}:${WEB_CONTAINER_PORT}"\n`,
  'app.env': `GREETING=${text}-env\n`,
  'site/index.html': `${text}\n`,
});

beforeAll(async () => {
  [set, world] = await Promise.all([
    startTestHosts({ count: 2, registries: [registry], prefix: 'sdtest-remote' }),
    startServerWithGit('remote', made),
  ]);
  [h0, h1] = set.hosts as [TestHost, TestHost];
  ({ server } = world);
  api = server.api;
}, 600_000);

afterAll(async () => {
  await world?.close();
  await set?.stop();
}, 180_000);

describe('hosts as a resource', () => {
  it('checks a new SSH host and shows its engine; secrets are never in the answer', async () => {
    const res = await sshHost(h0, 'h0');
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(JSON.stringify(res.json)).not.toContain('PRIVATE KEY');
    expect(res.json.host.has_ssh_private_key).toBe(true);
    const host = await until(
      async () => {
        const h = (await api('GET', '/api/v1/hosts/h0')).json.host;
        return h.reachable !== null && h;
      },
      60_000,
      'the first check of h0',
    );
    expect(host.error).toBeNull();
    expect(host.reachable).toBe(true);
    expect(host.engine_version).toMatch(/^\d+\./);
    expect(host.swarm).toBe('inactive');
    const health = (await api('GET', '/health')).json;
    expect(health.hosts.map((h: { name: string }) => h.name)).toEqual(
      expect.arrayContaining(['local', 'h0']),
    );
    expect((await sshHost(h1, 'h1')).status).toBe(201);
  });

  it('refuses an SSH host whose pinned key does not match, naming the host key', async () => {
    const wrong = h1.knownHosts.replace(h1.ip, h0.ip);
    const res = await sshHost(h0, 'badkey', { ssh_known_hosts: wrong });
    expect(res.status).toBe(201);
    const host = await until(
      async () => {
        const h = (await api('GET', '/api/v1/hosts/badkey')).json.host;
        return h.reachable !== null && h;
      },
      60_000,
      'the check of badkey',
    );
    expect(host.reachable).toBe(false);
    expect(host.error).toMatch(/host key does not match ssh_known_hosts/);
    expect((await api('DELETE', '/api/v1/hosts/badkey')).status).toBe(200);
  });

  it('refuses hosts without what their connection needs, every problem at once', async () => {
    const ssh = await api('POST', '/api/v1/hosts', {
      name: 'x',
      docker_host: 'ssh://root@10.0.0.1',
    });
    expect(ssh.status).toBe(400);
    expect(ssh.json.error.message).toMatch(/ssh_private_key is required/);
    expect(ssh.json.error.message).toMatch(/ssh_known_hosts must pin/);
    const tcp = await api('POST', '/api/v1/hosts', {
      name: 'x',
      docker_host: 'tcp://10.0.0.1:2376',
    });
    expect(tcp.status).toBe(400);
    expect(tcp.json.error.message).toMatch(/tls_ca is required/);
    const opt = await api('POST', '/api/v1/hosts', {
      name: 'x',
      docker_host: 'ssh://-oProxyCommand=x@h',
    });
    expect(opt.status).toBe(400);
    expect((await api('GET', '/api/v1/hosts/x')).status).toBe(404);
  });
});

describe('a git stack on a remote host over SSH', () => {
  let repo: Awaited<ReturnType<typeof world.git.createRepo>>;
  const port = 18000 + Math.floor(Math.random() * 1000);

  it('deploys with a relative bind mount and an env file, the files synced to the host', async () => {
    repo = await world.git.createRepo(
      `remote-${randomBytes(3).toString('hex')}`,
      site(port, 'one'),
    );
    const stack = await create('rsite', {
      repo_url: repo.url,
      repo_username: world.git.username,
      repo_token: world.git.password,
      host: 'h0',
    });
    expect(stack.host).toBe('h0');
    const dep = await deployWait('rsite');
    expect(dep.status, dep.error).toBe('succeeded');
    const log = dep.log.map((l: { text: string }) => l.text).join('\n');
    expect(log).toMatch(/syncing \d+ files to h0:/);
    // Served from the bind mount on h0's own filesystem, with the env file's variable.
    expect(await page(h0, port)).toBe('one');
    const [name] = (await remoteContainers(h0, 'rsite'))[0]?.split(' ') ?? [];
    const env = await h0.docker(['inspect', name as string, '--format', '{{json .Config.Env}}']);
    expect(JSON.parse(env.stdout) as string[], env.stderr).toContain('GREETING=one-env');
    // Nothing of the stack runs on this machine's engine or on the other host.
    expect(projectContainers(project('rsite'))).toEqual([]);
    expect(await remoteContainers(h1, 'rsite')).toEqual([]);
  });

  it('rolls back on the remote host to the earlier version', async () => {
    await repo.commit(site(port, 'two'));
    const v2 = await deployWait('rsite');
    expect(v2.status, v2.error).toBe('succeeded');
    expect(await page(h0, port)).toBe('two');
    const rb = (await api('POST', '/api/v1/stacks/rsite/rollback', {})).json.deployment;
    const done = await ended(rb.id);
    expect(done.status, done.error).toBe('succeeded');
    expect(await page(h0, port)).toBe('one');
  });

  it("reports drift from the host's own engine", async () => {
    // Rolled back to v1, so git says behind; the containers match.
    const clean = (await api('GET', '/api/v1/stacks/rsite/drift')).json;
    expect(clean.services, JSON.stringify(clean)).toEqual([]);
    const [name] = (await remoteContainers(h0, 'rsite'))[0]?.split(' ') ?? [];
    await h0.docker(['stop', '-t', '1', name as string]);
    const drift = (await api('GET', '/api/v1/stacks/rsite/drift')).json;
    expect(drift.in_sync).toBe(false);
    expect(drift.services).toEqual([expect.objectContaining({ service: 'web', type: 'stopped' })]);
    // A deploy repairs it, at the branch's head again.
    const fix = await deployWait('rsite');
    expect(fix.status, fix.error).toBe('succeeded');
    expect(await page(h0, port)).toBe('two');
  });

  it('refuses a bind source that a symlink on the host leads outside the stack directory', async () => {
    const deploy = (await api('GET', '/api/v1/stacks/rsite')).json.stack;
    const base = `${server.dataDir}/stacks/${deploy.id}/deploy`;
    await repo.commit({
      ...site(port, 'three', '      - ./data:/data\n'),
    });
    // A container with a read-write mount could plant this; here the test does it on the host.
    const dir = (await h0.exec(['readlink', '-e', base])).stdout.trim();
    expect(dir, 'the deploy dir exists on h0 at the same path').toBe(base);
    await h0.exec(['ln', '-sfn', '/etc', `${dir}/data`]);
    const dep = await deployWait('rsite');
    expect(dep.status).toBe('failed');
    expect(dep.error).toMatch(/on host h0, .*data resolves outside the stack directory/);
    // The running version was not touched.
    expect(await page(h0, port)).toBe('two');
    await h0.exec(['rm', '-f', `${dir}/data`]);
  });

  it('a cancel during a remote up leaves no process on either side', async () => {
    const hang = `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n${HANGING_HEALTHCHECK}`;
    await create('rhang', { compose: hang, host: 'h0' });
    const dep = (await api('POST', '/api/v1/stacks/rhang/deploy', {})).json.deployment;
    await untilUpStarted(api, dep.id);
    expect((await api('POST', `/api/v1/deployments/${dep.id}/cancel`)).status).toBe(202);
    const done = await ended(dep.id);
    expect(done.status).toBe('canceled');
    await until(
      async () => composeProcesses(server.prefix).length === 0,
      20_000,
      'no local compose',
    );
    const ps = await h0.exec(['ps', '-eo', 'args']);
    expect(ps.stdout).not.toMatch(/docker[- ]compose|dial-stdio/);
  });
});

describe('a host that goes away', () => {
  it('ends the deployment failed with a message naming the host, and deploys again once it is back', async () => {
    const port = 19000 + Math.floor(Math.random() * 1000);
    const hang = `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    ports:\n      - "${port}:${WEB_CONTAINER_PORT}"\n${HANGING_HEALTHCHECK}`;
    await create('raway', { compose: hang, host: 'h1', auto_rollback: false });
    const dep = (await api('POST', '/api/v1/stacks/raway/deploy', {})).json.deployment;
    await untilUpStarted(api, dep.id);
    await h1.disconnect();
    let done: { status: string; error: string };
    try {
      done = await ended(dep.id, 120_000);
    } finally {
      await h1.reconnect();
    }
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/host h1 \(ssh:\/\/root@[\d.]+\) is unreachable/);
    // Back: the same stack deploys (a healthy version this time).
    await api('PATCH', '/api/v1/stacks/raway', {
      compose: `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    ports:\n      - "${port}:${WEB_CONTAINER_PORT}"\n`,
    });
    const again = await deployWait('raway');
    expect(again.status, again.error).toBe('succeeded');
    expect(await page(h1, port)).toBe('v1');
  });
});

describe('moving a stack', () => {
  it('runs it on the new host first, then takes it down on the old one', async () => {
    const port = 20000 + Math.floor(Math.random() * 1000);
    const web = `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    ports:\n      - "${port}:${WEB_CONTAINER_PORT}"\n`;
    await create('rmove', { compose: web, host: 'h0' });
    expect((await deployWait('rmove')).status).toBe('succeeded');
    // A PATCH does not move a running stack.
    const patch = await api('PATCH', '/api/v1/stacks/rmove', { host: 'h1' });
    expect(patch.status).toBe(409);
    expect(patch.json.error.message).toMatch(/move/);
    const mv = await api('POST', '/api/v1/stacks/rmove/move', { host: 'h1' });
    expect(mv.status).toBe(202);
    const done = await ended(mv.json.deployment.id);
    expect(done.status, done.error).toBe('succeeded');
    expect((await api('GET', '/api/v1/stacks/rmove')).json.stack.host).toBe('h1');
    expect(await page(h1, port)).toBe('v1');
    expect(await remoteContainers(h0, 'rmove')).toEqual([]);
    // A host with stacks on it cannot be deleted.
    const del = await api('DELETE', '/api/v1/hosts/h1');
    expect(del.status).toBe(409);
  });
});

describe('a TCP+TLS host', () => {
  it('deploys an image-only stack with client certificates, and refuses one that binds its own files', async () => {
    const res = await api('POST', '/api/v1/hosts', {
      name: 'tls1',
      docker_host: h1.dockerHostTcp,
      tls_ca: h1.tls.ca,
      tls_cert: h1.tls.cert,
      tls_key: h1.tls.key,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(JSON.stringify(res.json)).not.toContain('PRIVATE KEY');
    const port = 21000 + Math.floor(Math.random() * 1000);
    await create('rtls', {
      compose: `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    ports:\n      - "${port}:${WEB_CONTAINER_PORT}"\n`,
      host: 'tls1',
    });
    const dep = await deployWait('rtls');
    expect(dep.status, dep.error).toBe('succeeded');
    expect(await page(h1, port)).toBe('v1');
    await create('rtlsbind', {
      compose: `services:\n  web:\n    image: ${set.hostImageRef(images.webV1)}\n    volumes:\n      - ./www:/www:ro\n`,
      host: 'tls1',
    });
    const bind = await deployWait('rtlsbind');
    expect(bind.status).toBe('failed');
    expect(bind.error).toMatch(/reached over TCP, where files cannot be synced/);
  });
});
