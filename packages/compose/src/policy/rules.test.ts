import { describe, expect, it } from 'vitest';
import {
  checkModel,
  DEFAULT_HOST_POLICY,
  type HostPolicy,
  isDockerSocket,
  mergeExceptions,
  type PathResolver,
  type PolicyRule,
  pathAllowed,
} from './rules';

const root = '/data/stacks/s1/deploy';

/** Real paths as a test filesystem has them: `links` maps a symlink to its target. */
function paths(links: Record<string, string> = {}): PathResolver {
  return {
    realpath(abs) {
      for (const [link, target] of Object.entries(links)) {
        if (abs === link || abs.startsWith(`${link}/`)) return target + abs.slice(link.length);
      }
      return abs;
    },
  };
}

const svc = (s: Record<string, unknown>) => ({ services: { app: { image: 'x', ...s } } });
const bind = (source: string, extra: Record<string, unknown> = {}) => ({
  type: 'bind',
  source,
  target: '/t',
  ...extra,
});
const vol = (driver_opts: Record<string, string>, driver?: string) => ({
  name: 'p',
  ...svc({ volumes: [{ type: 'volume', source: 'v', target: '/v' }] }),
  volumes: { v: { name: 'p_v', driver_opts, ...(driver ? { driver } : {}) } },
});

const rulesOf = (
  model: unknown,
  o: { policy?: HostPolicy; links?: Record<string, string>; readFiles?: string[] } = {},
) =>
  checkModel(model, {
    root,
    policy: o.policy ?? DEFAULT_HOST_POLICY,
    paths: paths(o.links),
    readFiles: o.readFiles,
  }).map((v) => v.rule);

describe('checkModel: each rule, allowed and refused', () => {
  const cases: [label: string, model: unknown, rules: PolicyRule[]][] = [
    ['a bind mount inside the stack directory', svc({ volumes: [bind(`${root}/data`)] }), []],
    ['a bind mount of /etc', svc({ volumes: [bind('/etc')] }), ['host_path']],
    [
      'a bind mount climbing out with ..',
      svc({ volumes: [bind(`${root}/../../x`)] }),
      ['host_path'],
    ],
    [
      'an npipe mount of a host path',
      svc({ volumes: [{ type: 'npipe', source: '/etc', target: '/e' }] }),
      ['host_path'],
    ],
    ['a named volume mount', svc({ volumes: [{ type: 'volume', source: 'v', target: '/v' }] }), []],
    ['a tmpfs mount', svc({ volumes: [{ type: 'tmpfs', target: '/t' }] }), []],
    ['the Docker socket', svc({ volumes: [bind('/var/run/docker.sock')] }), ['docker_socket']],
    ['the directory holding the socket', svc({ volumes: [bind('/run/')] }), ['docker_socket']],
    [
      'a containerd socket',
      svc({ volumes: [bind('/run/containerd/containerd.sock')] }),
      ['docker_socket'],
    ],
    ['use_api_socket', svc({ use_api_socket: true }), ['docker_socket']],
    ['privileged', svc({ privileged: true }), ['privileged']],
    ['privileged: false', svc({ privileged: false }), []],
    [
      'a privileged post_start hook',
      svc({ post_start: [{ command: 'x', privileged: true }] }),
      ['privileged'],
    ],
    ['pid: host', svc({ pid: 'host' }), ['host_namespace']],
    ['cgroup: host', svc({ cgroup: 'host' }), ['host_namespace']],
    ['network_mode: host', svc({ network_mode: 'host' }), ['host_namespace']],
    ['network_mode: service:db', svc({ network_mode: 'service:db' }), []],
    ['network_mode: container:x', svc({ network_mode: 'container:x' }), ['container_namespace']],
    ['ipc: container:x', svc({ ipc: 'container:x' }), ['container_namespace']],
    [
      'volumes_from container:x',
      svc({ volumes_from: ['container:x:ro'] }),
      ['container_namespace'],
    ],
    ['volumes_from a service', svc({ volumes_from: ['db'] }), []],
    [
      'the host network, external',
      { ...svc({ networks: { h: null } }), networks: { h: { name: 'host', external: true } } },
      ['host_namespace'],
    ],
    [
      'the host network, not external',
      { ...svc({ networks: { h: null } }), networks: { h: { name: 'host' } } },
      ['host_namespace'],
    ],
    [
      'a network of the project',
      { ...svc({ networks: { default: null } }), networks: { default: { name: 'p_default' } } },
      [],
    ],
    ['devices', svc({ devices: ['/dev/sda:/dev/sda'] }), ['devices']],
    ['device_cgroup_rules', svc({ device_cgroup_rules: ['b 8:* rmw'] }), ['devices']],
    [
      'a GPU request',
      svc({ deploy: { resources: { reservations: { devices: [{ capabilities: ['gpu'] }] } } } }),
      ['devices'],
    ],
    ['gpus', svc({ gpus: 'all' }), ['devices']],
    ['cap_add of a default capability', svc({ cap_add: ['NET_BIND_SERVICE', 'chown'] }), []],
    ['cap_add SYS_ADMIN', svc({ cap_add: ['SYS_ADMIN'] }), ['cap_add']],
    ['cap_add cap_sys_admin', svc({ cap_add: ['cap_sys_admin'] }), ['cap_add']],
    ['cap_add CAP_SYS_ADMIN', svc({ cap_add: ['CAP_SYS_ADMIN'] }), ['cap_add']],
    ['cap_add ALL', svc({ cap_add: ['all'] }), ['cap_add']],
    [
      'a build in the stack directory',
      svc({ build: { context: root, dockerfile: 'Dockerfile' } }),
      [],
    ],
    ['a build context of /', svc({ build: { context: '/' } }), ['host_path']],
    [
      'an absolute dockerfile',
      svc({ build: { context: root, dockerfile: '/etc/passwd' } }),
      ['host_path'],
    ],
    ['a remote build context', svc({ build: { context: 'https://example.com/r.git' } }), []],
    [
      'additional contexts: an image and a host directory',
      svc({
        build: { context: root, additional_contexts: { a: 'docker-image://alpine', b: '/etc' } },
      }),
      ['host_path'],
    ],
    [
      'a build ssh key from the host',
      svc({ build: { context: root, ssh: ['key=/root/.ssh/id'] } }),
      ['host_path'],
    ],
    [
      'a build ssh key as {id, path}',
      svc({ build: { context: root, ssh: [{ id: 'k', path: '/root/.ssh/id' }] } }),
      ['host_path'],
    ],
    ['the default ssh agent', svc({ build: { context: root, ssh: ['default'] } }), []],
    [
      'a build on the host network',
      svc({ build: { context: root, network: 'host' } }),
      ['host_namespace'],
    ],
    ['a privileged build', svc({ build: { context: root, privileged: true } }), ['privileged']],
    [
      'build entitlements',
      svc({ build: { context: root, entitlements: ['network.host', 'security.insecure'] } }),
      ['host_namespace', 'privileged'],
    ],
    [
      'a config file from /etc',
      { ...svc({}), configs: { c: { file: '/etc/hostname' } } },
      ['host_path'],
    ],
    [
      'a secret file in the stack directory',
      { ...svc({}), secrets: { s: { file: `${root}/s` } } },
      [],
    ],
    ['a secret from the environment', { ...svc({}), secrets: { s: { environment: 'X' } } }, []],
  ];

  it.each(cases)('%s', (_label, model, rules) => {
    expect(rulesOf(model)).toEqual(rules);
  });
});

describe('checkModel: security_opt spellings', () => {
  it.each([
    ['no-new-privileges', false],
    ['no-new-privileges:true', false],
    ['no-new-privileges=false', false],
    ['seccomp=builtin', false],
    ['seccomp=unconfined', true],
    ['seccomp:unconfined', true],
    ['seccomp=/host/profile.json', true],
    ['apparmor=docker-default', false],
    ['apparmor=unconfined', true],
    ['apparmor:unconfined', true],
    ['apparmor=firefox', true],
    ['label=level:s0:c100,c200', false],
    ['label=disable', true],
    ['label:disable', true],
    ['label=type:spc_t', true],
    ['label:type:unconfined_t', true],
    ['label=user:unconfined_u', true],
    ['systempaths=unconfined', true],
    ['writable-cgroups=true', true],
    ['SECCOMP=unconfined', true],
  ])('%s refused: %s', (opt, refused) => {
    expect(rulesOf(svc({ security_opt: [opt] }))).toEqual(refused ? ['security_opt'] : []);
  });
});

describe('checkModel: named volumes of the local driver', () => {
  it.each([
    ['a bind inside the stack directory', { type: 'none', o: 'bind', device: `${root}/d` }, []],
    ['an rbind of /', { type: 'none', o: 'rbind', device: '/' }, ['volume_host_path']],
    [
      'a relative device (the engine resolves it from its own directory)',
      { type: 'none', o: 'rbind', device: 'etc' },
      ['volume_host_path'],
    ],
    ['a relative ./device', { type: 'none', o: 'bind', device: './data' }, ['volume_host_path']],
    [
      'an overlay over /etc',
      { type: 'overlay', o: 'lowerdir=/etc,upperdir=/u,workdir=/w', device: 'overlay' },
      ['volume_host_path'],
    ],
    [
      'an overlay inside',
      {
        type: 'overlay',
        o: `lowerdir=${root}/a:${root}/b,upperdir=${root}/u,workdir=${root}/w`,
        device: 'overlay',
      },
      [],
    ],
    ['the host disk', { type: 'ext4', device: '/dev/vda' }, ['volume_host_path']],
    [
      'the host disk, bind flag',
      { type: 'ext4', o: 'bind', device: '/dev/vda' },
      ['volume_host_path'],
    ],
    ['procfs', { type: 'proc', device: 'proc' }, ['volume_host_path']],
    ['sysfs', { type: 'sysfs', device: 'sysfs' }, ['volume_host_path']],
    ['tmpfs', { type: 'tmpfs', device: 'tmpfs', o: 'size=100m' }, []],
    ['nfs', { type: 'nfs', o: 'addr=10.0.0.2,rw', device: ':/export' }, []],
    ['cifs', { type: 'cifs', o: 'username=u', device: '//server/share' }, []],
    ['nfs of a local path', { type: 'nfs', device: '/dev/vda' }, ['volume_host_path']],
    ['mount options alone', { o: 'size=1g' }, []],
  ])('%s', (_label, opts, rules) => {
    expect(rulesOf(vol(opts as Record<string, string>))).toEqual(rules);
  });

  it("leaves a plugin driver's options to the plugin", () => {
    expect(rulesOf(vol({ mountpoint: '/' }, 'rexray'))).toEqual([]);
  });
});

describe('checkModel: what the running version can write', () => {
  const model = svc({ volumes: [bind(`${root}/data/sub`)] });
  const live = (liveWritable: string[]) =>
    checkModel(model, { root, policy: DEFAULT_HOST_POLICY, paths: paths(), liveWritable });
  it('refuses a path below a read-write mount of a container that still runs', () => {
    const found = live([`${root}/data`]);
    expect(found.map((v) => v.rule)).toEqual(['writable_path']);
    expect(found[0]?.value).toContain('a container of the running version');
  });
  it('ignores mounts outside the stack directory and the same path mounted again', () => {
    expect(live(['/srv/elsewhere']).map((v) => v.rule)).toEqual([]);
    expect(live([`${root}/data/sub`]).map((v) => v.rule)).toEqual([]);
  });
});

describe('checkModel: foreign_volume', () => {
  const model = (def: Record<string, unknown>) => ({
    name: 'simpledeploy-web',
    ...svc({ volumes: [{ type: 'volume', source: 'data', target: '/data' }] }),
    volumes: { data: def },
  });
  it.each([
    ["compose's own name for it", { name: 'simpledeploy-web_data' }, []],
    ["another stack's volume by name", { name: 'simpledeploy-other_data' }, ['foreign_volume']],
    ['an external volume', { name: 'hostdata', external: true }, ['foreign_volume']],
    [
      'an external volume that happens to have the own name',
      { name: 'simpledeploy-web_data', external: true },
      ['foreign_volume'],
    ],
  ])('%s', (_label, def, want) => {
    expect(rulesOf(model(def))).toEqual(want);
  });

  it('is allowed by its rule name', () => {
    const policy = mergeExceptions(DEFAULT_HOST_POLICY, ['foreign_volume']);
    expect(rulesOf(model({ name: 'hostdata', external: true }), { policy })).toEqual([]);
  });
});

describe('checkModel: symlinks in the stack directory', () => {
  it('refuses a path inside that resolves outside, and allows one that stays inside', () => {
    const links = { [`${root}/evil`]: '/', [`${root}/ok`]: `${root}/data` };
    expect(rulesOf(svc({ volumes: [bind(`${root}/evil/etc`)] }), { links })).toEqual(['symlink']);
    expect(rulesOf(svc({ volumes: [bind(`${root}/ok`)] }), { links })).toEqual([]);
    expect(rulesOf(svc({ volumes: [bind(`${root}/evil/run/docker.sock`)] }), { links })).toEqual([
      'docker_socket',
    ]);
  });
});

describe('checkModel: writable_path', () => {
  const two = (outer: Record<string, unknown>, inner: Record<string, unknown>) => ({
    services: { a: { image: 'x', ...outer }, b: { image: 'x', ...inner } },
  });
  it.each([
    [
      'a bind below another service’s read-write bind',
      two({ volumes: [bind(`${root}/data`)] }, { volumes: [bind(`${root}/data/sub`)] }),
      ['writable_path'],
    ],
    [
      'the same below a read-only bind',
      two(
        { volumes: [bind(`${root}/data`, { read_only: true })] },
        { volumes: [bind(`${root}/data/sub`)] },
      ),
      [],
    ],
    [
      'the same source twice',
      two({ volumes: [bind(`${root}/data`)] }, { volumes: [bind(`${root}/data`)] }),
      [],
    ],
    [
      'siblings',
      two({ volumes: [bind(`${root}/data`)] }, { volumes: [bind(`${root}/data2`)] }),
      [],
    ],
    [
      'a build context below a read-write bind',
      two({ volumes: [bind(`${root}/src`)] }, { build: { context: `${root}/src/app` } }),
      ['writable_path'],
    ],
    [
      'a config file below a read-write bind',
      {
        ...two({ volumes: [bind(`${root}/etc`)] }, {}),
        configs: { c: { file: `${root}/etc/c.conf` } },
      },
      ['writable_path'],
    ],
  ])('%s', (_label, model, rules) => {
    expect(rulesOf(model)).toEqual(rules);
  });

  it('refuses a read-write bind that holds a file compose reads, not a read-only one', () => {
    const readFiles = [`${root}/compose.yaml`, `${root}/.env`];
    expect(rulesOf(svc({ volumes: [bind(root)] }), { readFiles })).toEqual([
      'writable_path',
      'writable_path',
    ]);
    expect(rulesOf(svc({ volumes: [bind(`${root}/.env`)] }), { readFiles })).toEqual([
      'writable_path',
    ]);
    expect(rulesOf(svc({ volumes: [bind(root, { read_only: true })] }), { readFiles })).toEqual([]);
    expect(rulesOf(svc({ volumes: [bind(`${root}/data`)] }), { readFiles })).toEqual([]);
  });

  it('counts the directory of a bind volume as writable by whoever mounts the volume', () => {
    const model = {
      name: 'p',
      ...svc({ volumes: [bind(`${root}/shared/sub`)] }),
      volumes: {
        v: { name: 'p_v', driver_opts: { type: 'none', o: 'bind', device: `${root}/shared` } },
      },
    };
    const found = checkModel(model, { root, policy: DEFAULT_HOST_POLICY, paths: paths() });
    expect(found.map((v) => v.rule)).toEqual(['writable_path']);
    expect(found[0]?.value).toBe(
      './shared/sub is inside ./shared, mounted read-write by the volume of volumes.v.driver_opts',
    );
  });

  it('compares real paths: a symlink inside the stack directory does not hide the nesting', () => {
    const links = { [`${root}/alias`]: `${root}/data` };
    const model = two({ volumes: [bind(`${root}/data`)] }, { volumes: [bind(`${root}/alias/x`)] });
    expect(rulesOf(model, { links })).toEqual(['writable_path']);
  });
});

describe('checkModel: exceptions', () => {
  const model = svc({
    privileged: true,
    cap_add: ['NET_ADMIN'],
    volumes: [bind('/srv/media'), bind('/srv/other'), bind('/var/run/docker.sock')],
  });

  it.each([
    ['nothing excepted', [], ['host_path', 'host_path', 'docker_socket', 'privileged', 'cap_add']],
    ['a rule by name', ['privileged'], ['host_path', 'host_path', 'docker_socket', 'cap_add']],
    ['a path prefix', ['/srv/media'], ['host_path', 'docker_socket', 'privileged', 'cap_add']],
    [
      'a parent prefix with a trailing slash',
      ['/srv/'],
      ['docker_socket', 'privileged', 'cap_add'],
    ],
    ['the socket by rule', ['docker_socket'], ['host_path', 'host_path', 'privileged', 'cap_add']],
    [
      'the socket by its path',
      ['/var/run/docker.sock'],
      ['host_path', 'host_path', 'privileged', 'cap_add'],
    ],
    [
      'host_path leaves the socket refused',
      ['host_path'],
      ['docker_socket', 'privileged', 'cap_add'],
    ],
  ])('%s', (_label, exceptions, rules) => {
    expect(rulesOf(model, { policy: mergeExceptions(DEFAULT_HOST_POLICY, exceptions) })).toEqual(
      rules,
    );
  });

  it('an allowed prefix does not allow a symlink under it that leads elsewhere', () => {
    const links = { '/srv/media/x': '/etc' };
    const policy = mergeExceptions(DEFAULT_HOST_POLICY, ['/srv/media']);
    expect(rulesOf(svc({ volumes: [bind('/srv/media/x')] }), { policy, links })).toEqual([
      'host_path',
    ]);
  });
});

describe('path helpers', () => {
  it.each([
    ['/srv/a', ['/srv'], true],
    ['/srv', ['/srv/'], true],
    ['/srvx', ['/srv'], false],
    ['/srv/../etc', ['/srv'], false],
    ['/anything', ['*'], true],
    ['/x', ['/'], true],
  ])('pathAllowed(%s, %j) is %s', (path, allowed, expected) => {
    expect(pathAllowed(path, allowed)).toBe(expected);
  });

  it.each([
    ['/var/run/docker.sock', true],
    ['/run/user/1000/docker.sock', true],
    ['/var/run/', true],
    ['/var/run/docker', true],
    ['/var/lib/docker', false],
    ['/srv/docker.socket', false],
  ])('isDockerSocket(%s) is %s', (path, expected) => {
    expect(isDockerSocket(path)).toBe(expected);
  });

  it('mergeExceptions keeps rule names and absolute prefixes, drops anything else', () => {
    expect(mergeExceptions(DEFAULT_HOST_POLICY, ['cap_add', '/srv', 'nonsense', 'srv'])).toEqual({
      allowedRules: ['cap_add'],
      allowedHostPaths: ['/srv'],
    });
  });
});
