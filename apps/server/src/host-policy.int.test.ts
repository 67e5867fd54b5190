import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestGitServer, TestRepo } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  composeProcesses,
  HANGING_HEALTHCHECK,
  type InProcessServer,
  projectContainers,
  registryFields,
  startServerWithGit,
  until,
  untilUpStarted,
} from './test-server';

// The host policy (api.md "Host policy") against the real engine and compose: every way
// a repository writer or API caller was seen to reach the host is refused, and `docker
// inspect` shows no container got the path, privilege or namespace.

const registry = inject('registry');
const images = inject('images');

let server: InProcessServer;
let api: InProcessServer['api'];
let git: TestGitServer;
let world: Awaited<ReturnType<typeof startServerWithGit>> | undefined;
const made: string[] = [];
const tmpDirs: string[] = [];

const project = (name: string) => `${server.prefix}-${name}`;
const creds = () => registryFields(registry);

/** IDs of the containers of a stack's compose project, as the engine has them. */
const containersOf = (name: string): string[] => projectContainers(project(name)).map((c) => c.id);

interface Inspected {
  HostConfig: {
    Privileged: boolean;
    PidMode: string;
    NetworkMode: string;
    CapAdd: string[] | null;
    Devices: unknown[] | null;
    SecurityOpt: string[] | null;
  };
  Mounts: { Type: string; Source: string; Destination: string }[];
}

function inspect(name: string): Inspected[] {
  const ids = containersOf(name);
  if (!ids.length) return [];
  return JSON.parse(execFileSync('docker', ['inspect', ...ids], { encoding: 'utf8' }));
}

/** No container of the stack holds a host path outside its own stack directory, nor more. */
function expectNothingOfTheHost(name: string) {
  for (const c of inspect(name)) {
    expect(c.HostConfig.Privileged).toBe(false);
    expect(c.HostConfig.PidMode).not.toBe('host');
    expect(c.HostConfig.NetworkMode).not.toBe('host');
    expect(c.HostConfig.CapAdd ?? []).toEqual([]);
    expect(c.HostConfig.Devices ?? []).toEqual([]);
    for (const m of c.Mounts.filter((x) => x.Type === 'bind'))
      expect(m.Source.startsWith(join(server.dataDir, 'stacks'))).toBe(true);
  }
}

const sleeper = (extra = '') => `services:\n  app:\n    image: ${images.sleeper}\n${extra}`;

async function createInline(name: string, compose: string, extra: Record<string, unknown> = {}) {
  made.push(name);
  return api('POST', '/api/v1/stacks', { name, compose, ...creds(), ...extra });
}

async function deployWait(name: string) {
  return api('POST', `/api/v1/stacks/${name}/deploy?wait=true`, {});
}

let seq = 0;
const uniq = (label: string) => `${label}-${++seq}`;

beforeAll(async () => {
  world = await startServerWithGit('policy', made);
  ({ server, git } = world);
  api = server.api;
}, 120_000);

afterAll(async () => {
  await world?.close();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('inline stacks the policy refuses: 422 POLICY at create, nothing stored, no container', () => {
  const cases: [label: string, compose: string, rule: string][] = [
    ['a merge key in the service', sleeper('    <<: {volumes: ["/:/host"]}\n'), 'host_path'],
    [
      'a merge key from an x- anchor',
      `x-host: &host\n  volumes: ["/:/host"]\n${sleeper('    <<: *host\n')}`,
      'host_path',
    ],
    ['${HOME:+/}', sleeper('    volumes: ["${HOME:+/}:/h"]\n'), 'host_path'],
    ['${HOME}', sleeper('    volumes: ["${HOME}:/h"]\n'), 'host_path'],
    [
      'a default nested three deep',
      sleeper('    volumes: ["${A:-${B:-${C:-/etc}}}:/h"]\n'),
      'host_path',
    ],
    [
      'a named volume that rbinds the host root',
      `${sleeper('    volumes: ["hostroot:/v"]\n')}volumes:\n  hostroot:\n    driver_opts: {type: none, o: rbind, device: /}\n`,
      'volume_host_path',
    ],
    [
      'an overlay volume over a host directory',
      `${sleeper('    volumes: ["layered:/v"]\n')}volumes:\n  layered:\n    driver_opts: {type: overlay, o: "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w", device: overlay}\n`,
      'volume_host_path',
    ],
    [
      'volumes_from another container',
      sleeper('    volumes_from: ["container:other"]\n'),
      'container_namespace',
    ],
    [
      'an absolute build.dockerfile',
      sleeper('    build:\n      context: .\n      dockerfile: /etc/passwd\n'),
      'host_path',
    ],
    ['privileged', sleeper('    privileged: true\n'), 'privileged'],
    ['pid: host', sleeper('    pid: host\n'), 'host_namespace'],
    ['network_mode: host', sleeper('    network_mode: host\n'), 'host_namespace'],
    ['ipc: host', sleeper('    ipc: host\n'), 'host_namespace'],
    ['uts: host', sleeper('    uts: host\n'), 'host_namespace'],
    ['userns_mode: host', sleeper('    userns_mode: host\n'), 'host_namespace'],
    [
      'network_mode: container:x',
      sleeper('    network_mode: "container:other"\n'),
      'container_namespace',
    ],
    ['cap_add SYS_ADMIN', sleeper('    cap_add: [SYS_ADMIN]\n'), 'cap_add'],
    ['devices', sleeper('    devices: ["/dev/null:/dev/x"]\n'), 'devices'],
    ['seccomp unconfined', sleeper('    security_opt: ["seccomp=unconfined"]\n'), 'security_opt'],
    ['apparmor unconfined', sleeper('    security_opt: ["apparmor=unconfined"]\n'), 'security_opt'],
    [
      'the Docker socket',
      sleeper('    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]\n'),
      'docker_socket',
    ],
    [
      'a config file from /etc',
      `${sleeper('    configs: [c]\n')}configs:\n  c:\n    file: /etc/hostname\n`,
      'host_path',
    ],
    ['an env_file from /etc', sleeper('    env_file: /etc/environment\n'), 'host_path'],
    // Compose expands a leading ~ of an env_file to the server's home directory.
    ['an env_file in ~', sleeper('    env_file: "~.profile"\n'), 'host_path'],
    [
      'a remote include',
      `include:\n  - git@github.com:someone/compose.git\n${sleeper()}`,
      'remote_include',
    ],
    [
      'the host network by name',
      `${sleeper('    networks: [h]\n')}networks:\n  h:\n    name: host\n    external: true\n`,
      'host_namespace',
    ],
    [
      "another stack's volume by name",
      `${sleeper('    volumes: ["data:/data"]\n')}volumes:\n  data:\n    name: simpledeploy-other_data\n`,
      'foreign_volume',
    ],
    [
      'an external volume',
      `${sleeper('    volumes: ["data:/data"]\n')}volumes:\n  data:\n    external: true\n    name: hostdata\n`,
      'foreign_volume',
    ],
    // Found in the review of the rewritten policy (each passed before its fix).
    [
      'an env_file path written as !!binary (base64 of /etc/hostname)',
      sleeper('    env_file: !!binary L2V0Yy9ob3N0bmFtZQ==\n'),
      'host_path',
    ],
    [
      'a service behind a profile (up starts it when named, config leaves it out)',
      `${sleeper()}  hidden:\n    image: ${images.sleeper}\n    profiles: [debug]\n    cap_add: [SYS_ADMIN]\n`,
      'cap_add',
    ],
    [
      'a build on the host network',
      sleeper('    build:\n      context: .\n      network: host\n'),
      'host_namespace',
    ],
    [
      'a build cache exported to a host directory',
      sleeper('    build:\n      context: .\n      cache_to: ["type=local,dest=/etc/cron.d"]\n'),
      'host_path',
    ],
    [
      'a privileged build',
      sleeper('    build:\n      context: .\n      privileged: true\n'),
      'privileged',
    ],
    [
      "a named volume that mounts the host's disk",
      `${sleeper('    volumes: ["disk:/disk"]\n')}volumes:\n  disk:\n    driver_opts: {type: ext4, device: /dev/vda}\n`,
      'volume_host_path',
    ],
    [
      "a named volume that mounts the host's procfs",
      `${sleeper('    volumes: ["hostproc:/p"]\n')}volumes:\n  hostproc:\n    driver_opts: {type: proc, device: proc}\n`,
      'volume_host_path',
    ],
    [
      'a bind volume with a relative device (the engine resolves it from its own directory, / under systemd)',
      `${sleeper('    volumes: ["rel:/rel"]\n')}volumes:\n  rel:\n    driver_opts: {type: none, o: rbind, device: etc}\n`,
      'volume_host_path',
    ],
    [
      "a bind mount inside another service's read-write bind mount (swapped for a symlink, it is followed at the next restart)",
      `${sleeper('    volumes: ["./data:/data"]\n')}  b:\n    image: ${images.sleeper}\n    restart: always\n    volumes: ["./data/sub:/sub"]\n`,
      'writable_path',
    ],
    [
      'the stack directory mounted read-write (a container rewrites compose.yaml between the check and up)',
      sleeper('    volumes: [".:/stack"]\n'),
      'writable_path',
    ],
    [
      'an SELinux type that runs unconfined',
      sleeper('    security_opt: ["label=type:spc_t"]\n'),
      'security_opt',
    ],
    [
      'a GPU device request',
      sleeper(
        '    deploy:\n      resources:\n        reservations:\n          devices: [{capabilities: [gpu], count: all}]\n',
      ),
      'devices',
    ],
  ];

  it.each(cases)('%s', async (label, compose, rule) => {
    const name = uniq('inl');
    const res = await createInline(name, compose);
    expect(res.status, `${label}: ${JSON.stringify(res.json)}`).toBe(422);
    expect(res.json.error.code).toBe('POLICY');
    const rules = res.json.error.details.violations.map((v: { rule: string }) => v.rule);
    expect(rules).toContain(rule);
    for (const v of res.json.error.details.violations) {
      expect(Object.keys(v).sort()).toEqual(['fix', 'rule', 'service', 'value', 'where']);
      expect(v.fix.length).toBeGreaterThan(10);
    }
    expect((await api('GET', `/api/v1/stacks/${name}`)).status).toBe(404);
    expect(containersOf(name)).toEqual([]);
  });

  it('reports every violation at once', async () => {
    const res = await createInline(
      uniq('all'),
      sleeper(
        '    privileged: true\n    pid: host\n    cap_add: [NET_ADMIN]\n    volumes: ["/etc:/e"]\n',
      ),
    );
    expect(res.status).toBe(422);
    const rules = res.json.error.details.violations.map((v: { rule: string }) => v.rule).sort();
    expect(rules).toEqual(['cap_add', 'host_namespace', 'host_path', 'privileged']);
  });

  it('refuses compose and Docker CLI settings as compose_variables', async () => {
    for (const key of [
      'PATH',
      'DOCKER_HOST',
      'COMPOSE_EXPERIMENTAL_GIT_REMOTE',
      'COMPOSE_PROFILES',
    ]) {
      const res = await createInline(uniq('var'), sleeper(), {
        compose_variables: { [key]: '/x' },
      });
      expect(res.status, key).toBe(400);
      expect(res.json.error.message).toContain(key);
    }
  });

  it('refuses compose_variables that compose would also put into its own process environment', async () => {
    // Compose 2.26 exports every env-file variable into its own environment, so these
    // reach the ssh it runs for an ssh:// engine, or change how compose itself connects.
    for (const key of [
      'LD_PRELOAD',
      'SSH_ASKPASS',
      'HTTPS_PROXY',
      'https_proxy',
      'GIT_SSH_COMMAND',
    ]) {
      const res = await createInline(uniq('pvar'), sleeper(), {
        compose_variables: { [key]: '/x' },
      });
      expect(res.status, key).toBe(422);
      expect(res.json.error.details.violations[0]).toMatchObject({
        rule: 'compose_setting',
        value: key,
      });
    }
  });

  it('shows the policy in force', async () => {
    const res = await api('GET', '/api/v1/policy');
    expect(res.status).toBe(200);
    const names = res.json.policy.rules.map((r: { name: string }) => r.name);
    expect(names).toEqual(
      expect.arrayContaining(['host_path', 'symlink', 'privileged', 'docker_socket', 'cap_add']),
    );
    expect(res.json.policy.allowed_host_paths).toEqual([]);
  });
});

describe('policy_exceptions: what an admin allows for one stack deploys', () => {
  // (This engine's runtime refuses --privileged outright, so cap_add stands for the rules.)
  it('deploys a capability beyond the defaults with "cap_add" excepted, and inspect shows it', async () => {
    const name = uniq('cap');
    const res = await createInline(name, sleeper('    cap_add: [NET_ADMIN]\n'), {
      policy_exceptions: ['cap_add'],
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.stack.policy_exceptions).toEqual(['cap_add']);
    const dep = await deployWait(name);
    expect(dep.json.deployment.status, JSON.stringify(dep.json)).toBe('succeeded');
    expect(inspect(name)[0]?.HostConfig.CapAdd).toEqual(['NET_ADMIN']);
  });

  it('deploys a bind mount of a host directory under an excepted prefix, and the Docker socket for a Traefik-style stack', async () => {
    const allowed = mkdtempSync(join(tmpdir(), 'sd-allowed-'));
    tmpDirs.push(allowed);
    const name = uniq('bind');
    const compose = sleeper(
      `    volumes:\n      - ${allowed}:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n`,
    );
    const refused = await createInline(name, compose);
    expect(refused.status).toBe(422);
    const res = await createInline(name, compose, {
      policy_exceptions: [allowed, 'docker_socket'],
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const dep = await deployWait(name);
    expect(dep.json.deployment.status, JSON.stringify(dep.json)).toBe('succeeded');
    const mounts = inspect(name)[0]?.Mounts.map((m) => m.Source) ?? [];
    expect(mounts).toEqual(expect.arrayContaining([allowed]));
    expect(mounts.some((m) => m.endsWith('docker.sock'))).toBe(true);
  });

  it('judges a rollback to a version made under an exception that is gone', async () => {
    const name = uniq('rbk');
    expect(
      (
        await createInline(name, sleeper('    cap_add: [NET_ADMIN]\n'), {
          policy_exceptions: ['cap_add'],
        })
      ).status,
    ).toBe(201);
    const v1 = await deployWait(name);
    expect(v1.json.deployment.status).toBe('succeeded');
    const patched = await api('PATCH', `/api/v1/stacks/${name}`, {
      compose: sleeper(),
      policy_exceptions: [],
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect((await deployWait(name)).json.deployment.status).toBe('succeeded');
    const rb = await api('POST', `/api/v1/stacks/${name}/rollback`, {
      version_id: v1.json.deployment.version_id,
    });
    expect(rb.status).toBe(202);
    const done = await until(
      async () => {
        const d = (await api('GET', `/api/v1/deployments/${rb.json.deployment.id}`)).json
          .deployment;
        return ['failed', 'succeeded', 'rolled_back'].includes(d.status) && d;
      },
      60_000,
      'the rollback to end',
    );
    expect(done.status).toBe('failed');
    expect(done.error).toContain('cap_add');
    expectNothingOfTheHost(name);
  });
});

describe('git stacks the policy refuses: a failed deployment, nothing touched', () => {
  async function gitStack(files: Record<string, string>, extra: Record<string, unknown> = {}) {
    const name = uniq('git');
    const repo: TestRepo = await git.createRepo(`${name}-${randomBytes(3).toString('hex')}`, files);
    made.push(name);
    const res = await api('POST', '/api/v1/stacks', {
      name,
      repo_url: repo.url,
      repo_username: git.username,
      repo_token: git.password,
      ...creds(),
      ...extra,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return name;
  }

  const cases: [label: string, files: Record<string, string>, rule: string][] = [
    [
      'a merge key from an x- anchor',
      { 'compose.yaml': `x-h: &h\n  volumes: ["/:/host"]\n${sleeper('    <<: *h\n')}` },
      'host_path',
    ],
    [
      'a merge key inside an extended file',
      {
        'compose.yaml': sleeper('    extends: {file: base.yaml, service: base}\n'),
        'base.yaml': `x-h: &h\n  volumes: ["/:/host"]\nservices:\n  base:\n    image: ${images.sleeper}\n    <<: *h\n`,
      },
      'host_path',
    ],
    [
      'a .env line "R: /"',
      { 'compose.yaml': sleeper('    volumes: ["${R}:/host"]\n'), '.env': 'R: /\n' },
      'host_path',
    ],
    [
      `a .env line R='/' # c`,
      { 'compose.yaml': sleeper('    volumes: ["${R}:/host"]\n'), '.env': "R='/' # c\n" },
      'host_path',
    ],
    [
      'COMPOSE_EXPERIMENTAL_GIT_REMOTE in the .env',
      { 'compose.yaml': sleeper(), '.env': 'COMPOSE_EXPERIMENTAL_GIT_REMOTE=1\n' },
      'compose_setting',
    ],
    [
      'DOCKER_HOST in the .env',
      { 'compose.yaml': sleeper(), '.env': 'DOCKER_HOST: tcp://127.0.0.1:1\n' },
      'compose_setting',
    ],
    [
      'an include of a file outside the repository',
      { 'compose.yaml': `include:\n  - /etc/compose.yaml\n${sleeper()}` },
      'host_path',
    ],
    [
      'a relative bind mount that climbs out with ..',
      { 'compose.yaml': sleeper('    volumes: ["../../../../:/up"]\n') },
      'host_path',
    ],
  ];

  // Twelve levels up from the stack directory is the host's root, whatever the data dir.
  const up12 = '../'.repeat(12);
  const deep = 'd1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12';
  cases.push(
    [
      'an env_file in a second YAML document of the compose file',
      { 'compose.yaml': `${sleeper()}---\nservices:\n  app:\n    env_file: /etc/hostname\n` },
      'host_path',
    ],
    [
      'LD_PRELOAD in the .env (compose 2.26 exports it into its own environment)',
      { 'compose.yaml': sleeper(), '.env': 'LD_PRELOAD=/tmp/x.so\n' },
      'compose_setting',
    ],
    [
      "the second file of an include, whose paths compose resolves from the first file's directory",
      {
        'compose.yaml': `include:\n  - path: [base.yaml, ${deep}/more.yaml]\n${sleeper()}`,
        'base.yaml': `services:\n  b:\n    image: ${images.sleeper}\n`,
        [`${deep}/more.yaml`]: `services:\n  b:\n    env_file: ${up12}etc/hostname\n`,
      },
      'host_path',
    ],
    [
      'a compose file too large for the checker to read',
      {
        'compose.yaml': `${sleeper('    env_file: /etc/hostname\n')}${`#${'x'.repeat(99)}\n`.repeat(22_000)}`,
      },
      'cannot check',
    ],
    [
      'more YAML aliases than the checker expands',
      {
        'compose.yaml': `x-a: &a 1\nx-l: [${'*a,'.repeat(12_000)}]\n${sleeper('    env_file: /etc/hostname\n')}`,
      },
      'cannot check',
    ],
  );

  it.each(cases)('%s', async (_label, files, rule) => {
    const name = await gitStack(files);
    const res = await deployWait(name);
    expect(res.status, JSON.stringify(res.json)).toBe(422);
    expect(res.json.deployment.status).toBe('failed');
    expect(res.json.deployment.error).toContain(rule);
    expect(containersOf(name)).toEqual([]);
    // A refused version is never recorded, so it can never be rolled back to.
    expect((await api('GET', `/api/v1/stacks/${name}/versions`)).json.versions).toEqual([]);
  });
});

describe('git stacks with compose_includes: paths judged from the project directory', () => {
  it("refuses an override file in a subdirectory whose env_file climbs out of the project's directory", async () => {
    const up12 = '../'.repeat(12);
    const deep = 'd1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12';
    const name = uniq('ovr');
    const repo: TestRepo = await git.createRepo(`${name}-${randomBytes(3).toString('hex')}`, {
      'compose.yaml': sleeper(),
      [`${deep}/prod.yaml`]: `services:\n  app:\n    env_file: ${up12}etc/hostname\n`,
    });
    made.push(name);
    const created = await api('POST', '/api/v1/stacks', {
      name,
      repo_url: repo.url,
      repo_username: git.username,
      repo_token: git.password,
      compose_includes: [`${deep}/prod.yaml`],
      ...creds(),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const res = await deployWait(name);
    expect(res.json.deployment.status).toBe('failed');
    expect(res.json.deployment.error).toContain('host_path');
    expect(containersOf(name)).toEqual([]);
  });
});

describe('a container cannot redirect its stack directory', () => {
  it('refuses the next deploy when a container planted symlinks, and writes nothing through them', async () => {
    const victimDir = mkdtempSync(join(tmpdir(), 'sd-victim-'));
    tmpDirs.push(victimDir);
    const victim = join(victimDir, 'precious');
    writeFileSync(victim, 'original\n');
    const name = uniq('sym');
    const base = sleeper('    volumes: [".:/stack"]\n');
    // A read-write mount of the stack directory is itself refused (writable_path); with it
    // excepted, the symlink rule still stops what a container plants there.
    expect((await createInline(name, base, { policy_exceptions: ['writable_path'] })).status).toBe(
      201,
    );
    expect((await deployWait(name)).json.deployment.status).toBe('succeeded');
    const [id] = containersOf(name);
    // As a hostile image would: links from the stack dir to the host root and a host file.
    const sh = (cmd: string) =>
      execFileSync('docker', ['exec', id as string, '/bin/busybox', 'sh', '-c', cmd]);
    sh('ln -s / /stack/evil');
    sh(`rm /stack/compose.yaml && ln -s ${victim} /stack/compose.yaml`);
    sh('mkdir -p /stack/sub && ln -s / /stack/sub/deeper');

    const patched = await api('PATCH', `/api/v1/stacks/${name}`, {
      compose: sleeper('    volumes: [".:/stack", "./evil:/host", "./sub/deeper/etc:/e"]\n'),
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    const res = await deployWait(name);
    expect(res.json.deployment.status, JSON.stringify(res.json)).toBe('failed');
    expect(res.json.deployment.error).toContain('symlink');
    // The version's compose file went into the stack dir, not through the link onto the host.
    expect(readFileSync(victim, 'utf8')).toBe('original\n');
    const stackDir = join(server.dataDir, 'stacks', res.json.deployment.stack_id, 'deploy');
    expect(readFileSync(join(stackDir, 'compose.yaml'), 'utf8')).toContain('./evil:/host');
    expectNothingOfTheHost(name);
  });
});

describe('what the running version can still write', () => {
  it('refuses a new version that uses a path below a read-write mount of the containers it replaces', async () => {
    const name = uniq('live');
    expect((await createInline(name, sleeper('    volumes: ["./data:/data"]\n'))).status).toBe(201);
    expect((await deployWait(name)).json.deployment.status).toBe('succeeded');
    const [before] = containersOf(name);
    // v2 no longer mounts ./data, but binds what lies below it: v1 could swap it first.
    const patched = await api('PATCH', `/api/v1/stacks/${name}`, {
      compose: sleeper('    volumes: ["./data/conf:/conf:ro"]\n'),
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    const res = await deployWait(name);
    expect(res.json.deployment.status).toBe('failed');
    expect(res.json.deployment.error).toContain('writable_path');
    expect(res.json.deployment.error).toContain('running version');
    expect(containersOf(name)).toEqual([before]);
  });
});

describe('the Docker CLI environment', () => {
  it('holds only the server fixed variables in /proc/<pid>/environ, whatever compose_variables say', async () => {
    const name = uniq('env');
    const marker = `marker-${randomBytes(6).toString('hex')}`;
    const compose = `services:\n  app:\n    image: ${images.webV1}\n    environment:\n      M: \${MARKER}\n${HANGING_HEALTHCHECK}`;
    expect(
      (await createInline(name, compose, { compose_variables: { MARKER: marker } })).status,
    ).toBe(201);
    const dep = await api('POST', `/api/v1/stacks/${name}/deploy`, {});
    expect(dep.status).toBe(202);
    try {
      await untilUpStarted(api, dep.json.deployment.id);
      const pids = await until(
        () => {
          const lines = composeProcesses(server.prefix).filter((l) =>
            l.includes(`-p ${project(name)} `),
          );
          return lines.length ? lines.map((l) => l.trim().split(/\s+/)[0] as string) : undefined;
        },
        30_000,
        'the compose process',
      );
      let read = 0;
      for (const pid of pids) {
        let raw: string;
        try {
          raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
        } catch {
          continue; // it ended meanwhile
        }
        read++;
        const keys = raw
          .split('\0')
          .filter(Boolean)
          .map((kv) => kv.slice(0, kv.indexOf('=')));
        // The docker CLI adds its plugin handshake and telemetry variables when it starts compose.
        const ours = keys.filter((k) => !/^(DOCKER_CLI_PLUGIN_|OTEL_)/.test(k));
        expect(ours.sort()).toEqual(expect.arrayContaining(['DOCKER_CONFIG', 'PATH']));
        for (const k of ours) expect(['DOCKER_CONFIG', 'HOME', 'PATH', 'DOCKER_HOST']).toContain(k);
        expect(raw).not.toContain(marker);
        expect(raw).not.toContain(server.apiKey);
      }
      expect(read).toBeGreaterThan(0);
      // The variable did reach compose, as interpolation input: the container has it.
      await until(() => containersOf(name).length > 0, 30_000, 'the container');
      const env = JSON.parse(
        execFileSync(
          'docker',
          ['inspect', '--format', '{{json .Config.Env}}', containersOf(name)[0] as string],
          {
            encoding: 'utf8',
          },
        ),
      ) as string[];
      expect(env).toContain(`M=${marker}`);
    } finally {
      // Never leave the hanging deploy behind, whatever failed above.
      await api('POST', `/api/v1/deployments/${dep.json.deployment.id}/cancel`);
      await until(
        async () =>
          (await api('GET', `/api/v1/deployments/${dep.json.deployment.id}`)).json.deployment
            .status === 'canceled',
        30_000,
        'the cancel',
      );
    }
  });

  it('leaves no registry login on disk once a deploy ended', async () => {
    const name = uniq('cfg');
    expect((await createInline(name, sleeper())).status).toBe(201);
    expect((await deployWait(name)).json.deployment.status).toBe('succeeded');
    const run = join(server.dataDir, 'run');
    expect(existsSync(run)).toBe(true);
    expect(execFileSync('find', [run, '-name', 'config.json'], { encoding: 'utf8' })).toBe('');
  });
});
