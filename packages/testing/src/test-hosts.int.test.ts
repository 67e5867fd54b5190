import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  docker,
  run,
  startTestHosts,
  type TestHosts,
  waitFor,
  writeDockerConfig,
} from './index.js';

const registry = inject('registry');
const images = inject('images');

let set: TestHosts;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sdtest-hosts-smoke-'));
  // The image is built during provisioning; building it here instead takes about 2 minutes.
  set = await startTestHosts({ count: 2, swarm: true, registries: [registry] });
}, 600_000);

afterAll(async () => {
  await set?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A DOCKER_CONFIG on this machine with the registry's credentials at its gateway address. */
async function gatewayDockerConfig(): Promise<string> {
  const hostRegistry = set.registries[0]!;
  return writeDockerConfig(join(scratch, 'docker-config'), {
    [hostRegistry.host]: { username: hostRegistry.username!, password: hostRegistry.password! },
  });
}

/** GET /_ping on a host's engine over TLS, with or without the client certificate. */
function ping(ip: string, tls: { ca: string; cert?: string; key?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: ip, port: 2376, path: '/_ping', ...tls, timeout: 10_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves once port 22 of ip accepts a connection; rejects after 2 s. */
function sshPort(ip: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port: 22, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`${ip}:22 did not answer within 2 s`));
    });
    socket.once('error', reject);
  });
}

describe('test hosts', () => {
  it('reaches each inner engine over ssh with the pinned host key', async () => {
    for (const host of set.hosts) {
      expect(host.knownHosts).toMatch(
        new RegExp(`^${host.ip.replace(/\./g, '\\.')} ssh-ed25519 AAAA\\S+$`),
      );
      const result = await run('ssh', [
        ...host.sshArgs(),
        `${host.sshUser}@${host.ip}`,
        'docker',
        'info',
        '--format',
        '{{.Name}}',
      ]);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe(host.name);
    }
    // The docker CLI's own ssh transport (`docker system dial-stdio` on the host), with an
    // ssh on PATH that reads the host's ssh_config: the pinned key, no prompts.
    const bin = join(scratch, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, 'ssh'),
      '#!/bin/sh\nexec /usr/bin/ssh -F "$SDTEST_SSH_CONFIG" "$@"\n',
      {
        mode: 0o755,
      },
    );
    const host = set.hosts[0]!;
    const overSsh = await docker(['--host', host.dockerHostSsh, 'info', '--format', '{{.Name}}'], {
      env: { PATH: `${bin}:${process.env.PATH}`, SDTEST_SSH_CONFIG: host.sshConfigFile },
    });
    expect(overSsh.stderr).toBe('');
    expect(overSsh.stdout.trim()).toBe(host.name);
    // The engine behind ssh is the host's own, not this machine's.
    const outer = await docker(['info', '--format', '{{.Name}}']);
    expect(outer.stdout.trim()).not.toBe(set.hosts[0]!.name);
  });

  it('refuses a host whose key is not the pinned one', async () => {
    const [first, second] = set.hosts;
    // The second host's key pinned for the first host's address: a different key.
    const wrong = join(scratch, 'known_hosts-wrong');
    await writeFile(wrong, `${first!.ip} ${second!.knownHosts.split(' ').slice(1).join(' ')}\n`);
    const args = first!
      .sshArgs()
      .map((arg) => (arg.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${wrong}` : arg));
    const refused = await run('ssh', [...args, `root@${first!.ip}`, 'true']);
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toMatch(
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
    );

    const empty = join(scratch, 'known_hosts-empty');
    await writeFile(empty, '');
    const unknown = await run('ssh', [
      ...args.map((arg) =>
        arg === `UserKnownHostsFile=${wrong}` ? `UserKnownHostsFile=${empty}` : arg,
      ),
      `root@${first!.ip}`,
      'true',
    ]);
    expect(unknown.exitCode).toBe(255);
    expect(unknown.stderr).toMatch(/Host key verification failed/);
  });

  it('serves the engine over TCP with TLS only to a client certificate', async () => {
    const host = set.hosts[0]!;
    const info = await host.docker(['info', '--format', '{{.Name}}']);
    expect(info.stderr).toBe('');
    expect(info.stdout.trim()).toBe(host.name);
    expect(host.dockerHostTcp).toBe(`tcp://${host.ip}:2376`);

    expect(await ping(host.ip, host.tls)).toBe(200);
    // The server certificate names the address, so the CA alone verifies the server ...
    // ... but without a client certificate the engine ends the handshake.
    await expect(ping(host.ip, { ca: host.tls.ca })).rejects.toThrow(
      /certificate required|bad certificate|socket hang up|ECONNRESET/,
    );
    const plain = await docker(['--host', host.dockerHostTcp, 'version'], {
      env: { DOCKER_TLS_VERIFY: undefined, DOCKER_CERT_PATH: undefined, DOCKER_CONTEXT: undefined },
      timeoutMs: 30_000,
    });
    expect(plain.exitCode).not.toBe(0);
    expect(plain.stderr).toMatch(/HTTP request to an HTTPS server/);
  });

  it('gives each host its own filesystem', async () => {
    const [first, second] = set.hosts;
    const name = `sdtest-hosts-marker-${randomBytes(4).toString('hex')}`;
    const outerFile = join(tmpdir(), name);
    await writeFile(outerFile, 'only on this machine\n');
    try {
      const absent = await first!.exec(['test', '-e', outerFile]);
      expect(absent.exitCode).toBe(1);
      const created = await first!.exec(['touch', `/root/${name}`]);
      expect(created.exitCode).toBe(0);
      expect((await first!.exec(['test', '-e', `/root/${name}`])).exitCode).toBe(0);
      expect((await second!.exec(['test', '-e', `/root/${name}`])).exitCode).toBe(1);
    } finally {
      await rm(outerFile, { force: true });
    }
  });

  it('pulls on a host from the gateway registry only with credentials', async () => {
    const host = set.hosts[1]!;
    const hostRegistry = set.registries[0]!;
    const ref = set.hostImageRef(images.webV1);
    expect(ref.startsWith(`${set.network.gateway}:`)).toBe(true);

    const anonymous = await host.exec(['docker', 'pull', ref]);
    expect(anonymous.exitCode).not.toBe(0);
    expect(`${anonymous.stdout}${anonymous.stderr}`).toMatch(
      /no basic auth credentials|unauthorized/i,
    );

    const login = await host.exec(
      [
        'docker',
        'login',
        '--username',
        hostRegistry.username!,
        '--password-stdin',
        hostRegistry.host,
      ],
      { input: hostRegistry.password! },
    );
    expect(login.exitCode).toBe(0);
    try {
      const pulled = await host.exec(['docker', 'pull', '--quiet', ref]);
      expect(pulled.stderr).toBe('');
      expect(pulled.exitCode).toBe(0);
    } finally {
      await host.exec(['docker', 'logout', hostRegistry.host]);
    }

    // `docker compose pull` against the remote engine: the credentials are this machine's.
    const dir = join(scratch, 'compose-pull');
    await rm(dir, { recursive: true, force: true });
    await writeFile(
      join(scratch, 'compose.yaml'),
      `services:\n  web:\n    image: ${set.hostImageRef(images.webV2)}\n`,
    );
    const composePull = await set.hosts[0]!.docker(
      ['compose', '-f', join(scratch, 'compose.yaml'), '-p', 'sdtest-hosts-smoke', 'pull'],
      { env: { DOCKER_CONFIG: await gatewayDockerConfig() } },
    );
    expect(composePull.exitCode).toBe(0);
    const present = await set.hosts[0]!.docker([
      'image',
      'inspect',
      set.hostImageRef(images.webV2),
    ]);
    expect(present.exitCode).toBe(0);
  });

  it('loads an image of this machine into a host', async () => {
    const host = set.hosts[0]!;
    expect((await host.docker(['image', 'inspect', images.sleeper])).exitCode).not.toBe(0);
    await set.loadImage(host, images.sleeper);
    const inspected = await host.docker([
      'image',
      'inspect',
      '--format',
      '{{.Id}}',
      images.sleeper,
    ]);
    const outer = await docker(['image', 'inspect', '--format', '{{.Id}}', images.sleeper]);
    expect(inspected.exitCode).toBe(0);
    expect(inspected.stdout.trim()).toBe(outer.stdout.trim());
  });

  it('deploys a two-replica Swarm stack with one task on each node', async () => {
    const swarm = set.swarm!;
    expect(swarm.nodes.map((node) => node.role).sort()).toEqual(['manager', 'worker']);
    expect(swarm.manager).toBe(set.hosts[0]);
    expect(new Set(swarm.nodes.map((node) => node.hostname))).toEqual(
      new Set(set.hosts.map((host) => host.name)),
    );

    // No node has the image or credentials: each pulls with the auth the client forwards.
    // The port is published in host mode: the routing mesh needs IPVS, which this kernel lacks.
    const stack = `sdtest-smoke-${randomBytes(3).toString('hex')}`;
    const file = join(scratch, 'stack.yaml');
    await writeFile(
      file,
      [
        'services:',
        '  web:',
        `    image: ${set.hostImageRef(images.webV1)}`,
        '    deploy:',
        '      replicas: 2',
        '    ports:',
        '      - { target: 80, published: 8080, mode: host }',
        '',
      ].join('\n'),
    );
    const deployed = await swarm.manager.docker(
      ['stack', 'deploy', '--with-registry-auth', '--detach=true', '-c', file, stack],
      { env: { DOCKER_CONFIG: await gatewayDockerConfig() } },
    );
    expect(deployed.exitCode).toBe(0);
    let nodes: string[] = [];
    await waitFor(
      `two running tasks of ${stack}_web`,
      async () => {
        const tasks = await swarm.manager.docker([
          'service',
          'ps',
          '--filter',
          'desired-state=running',
          '--format',
          '{{.Node}} {{.CurrentState}}',
          `${stack}_web`,
        ]);
        const running = tasks.stdout.split('\n').filter((line) => / Running /.test(line));
        nodes = running.map((line) => line.split(' ')[0]!);
        return running.length === 2;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(new Set(nodes)).toEqual(new Set(set.hosts.map((host) => host.name)));
    for (const host of set.hosts) {
      await waitFor(`${stack}_web on ${host.ip}:8080`, async () => {
        const response = await fetch(`http://${host.ip}:8080/`, {
          signal: AbortSignal.timeout(2_000),
        });
        return (await response.text()) === 'v1';
      });
    }
    expect((await swarm.manager.docker(['stack', 'rm', stack])).exitCode).toBe(0);
  });

  it('takes a host off its network and puts it back at the same address', async () => {
    const host = set.hosts[1]!;
    await host.disconnect();
    await expect(sshPort(host.ip)).rejects.toThrow();
    await host.reconnect();
    await sshPort(host.ip);
    const info = await host.docker(['info', '--format', '{{.Name}}']);
    expect(info.stdout.trim()).toBe(host.name);
  });

  it('stop removes the hosts, their network and cgroups, and may be called again', async () => {
    const names = set.hosts.map((host) => host.name);
    await set.stop();
    await set.stop();
    const left = await docker(['ps', '-a', '--format', '{{.Names}}']);
    for (const name of names) expect(left.stdout.split('\n')).not.toContain(name);
    const networks = await docker(['network', 'ls', '--format', '{{.Name}}']);
    expect(networks.stdout.split('\n')).not.toContain(set.network.name);
    const cgroup = await run('test', ['-e', `/sys/fs/cgroup/memory/${names[0]}`]);
    expect(cgroup.exitCode).not.toBe(0);
  });
});
