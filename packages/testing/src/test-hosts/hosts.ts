import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProvidedRegistry } from '../context.js';
import { CommandError, docker, dockerOk, type RunOptions, type RunResult, run } from '../exec.js';
import { waitFor } from '../net.js';
import { type Forward, forwardToLoopback } from './forward.js';
import { ensureTestHostImage } from './image.js';
import {
  type ClientTls,
  createCertificateAuthority,
  createClientCertificate,
  createServerCertificate,
  generateSshKey,
  type SshKeyPair,
} from './keys.js';
import {
  ownerLabels,
  removeHostsNow,
  removeInnerCgroups,
  removeLeftoverHosts,
} from './leftovers.js';
import { loadImage } from './load-image.js';
import { formSwarm, type TestSwarm } from './swarm.js';

/** One extra Docker host: a container with its own dockerd, sshd, filesystem and address. */
export interface TestHost {
  /** Container name, also the host name inside and the Swarm node's hostname. */
  name: string;
  /** Its address on the set's network (reachable from this machine). */
  ip: string;
  sshUser: 'root';
  sshPort: 22;
  /** OpenSSH private key (ed25519) that logs in as root; the same for every host of a set. */
  sshPrivateKey: string;
  /** That key in a file (mode 0600), for `ssh -i`. */
  sshPrivateKeyFile: string;
  /** The pinned host key: `<ip> ssh-ed25519 AAAA…`. */
  knownHosts: string;
  /** A known_hosts file holding only that line. */
  knownHostsFile: string;
  /** An ssh_config for `ssh -F`: this host's address with the key, the pinned host key and no prompts. */
  sshConfigFile: string;
  /** `ssh://root@<ip>` */
  dockerHostSsh: string;
  /** `tcp://<ip>:2376` (TLS with client certificates: see tls). */
  dockerHostTcp: string;
  /** Client side of the engine's TLS: the CA, a client certificate and its key (PEM). */
  tls: ClientTls;
  /** The same as DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem). */
  tlsDir: string;
  /** DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for this host's engine over TCP+TLS. */
  dockerEnv: Record<string, string | undefined>;
  /** Runs argv inside the host (`docker exec`), e.g. to check a file or a process there. */
  exec(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs this machine's docker CLI against the host's engine (TCP+TLS). */
  docker(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs argv on the host over real SSH with the pinned key (each argument quoted for the remote shell). */
  ssh(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** `ssh` options that reach this host with the pinned host key and the test's key (no command). */
  sshArgs(): string[];
  /** Takes the host off its network: its address stops answering (a host that went away). */
  disconnect(): Promise<void>;
  /** Puts it back on its network at the same address. */
  reconnect(): Promise<void>;
}

/** A registry of this machine as the hosts reach it (through a relay on the gateway). */
export interface HostRegistry {
  /** `<gateway>:<port>`: the prefix of image references on the hosts. */
  host: string;
  /** `http://<gateway>:<port>` */
  url: string;
  username?: string;
  password?: string;
  /** The registry's own `127.0.0.1:<port>`. */
  localHost: string;
}

export interface StartTestHostsOptions {
  /** How many hosts (default 2). */
  count?: number;
  /** Makes host 0 a Swarm manager and joins the others as workers. */
  swarm?: boolean;
  /**
   * Names: `<prefix>-<random>` for the network, `<prefix>-<random>-<i>` for the hosts
   * (default `sdtest-host`). Leftovers of this prefix whose test process is gone are removed first.
   */
  prefix?: string;
  /**
   * Registries of this machine (e.g. inject('registry')) to make reachable from the hosts:
   * each gets a relay on the gateway address, and the hosts' engines trust it as an
   * insecure (plain HTTP) registry. Auth stays the registry's own.
   */
  registries?: ReadonlyArray<Pick<ProvidedRegistry, 'host' | 'username' | 'password'>>;
}

/** A set of hosts on their own network; stop() removes all of it. */
export interface TestHosts {
  hosts: TestHost[];
  network: { name: string; subnet: string; gateway: string };
  /** The registries given in options, in that order, as the hosts reach them. */
  registries: HostRegistry[];
  /** Rewrites `127.0.0.1:<port>/name:tag` of a given registry to the address the hosts use. */
  hostImageRef(ref: string): string;
  /** Set with `swarm: true`. */
  swarm?: TestSwarm;
  /** Relays `<gateway>:<port>` to `127.0.0.1:<localPort>` until stop(); returns `<gateway>:<port>`. */
  expose(localPort: number): Promise<string>;
  /** Copies an image of this machine's engine into a host (`docker save | docker load`). */
  loadImage(host: TestHost, ref: string): Promise<void>;
  /** Removes containers, network, relays and temp files; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_PREFIX = 'sdtest-host';
const ENGINE_TIMEOUT_MS = 90_000;

// What this machine's runtime lets a container do that runs its own dockerd. It refuses
// --privileged and CAP_SYS_RESOURCE; without the cgroup mount inner containers fail with
// "read-only file system".
const HOST_RUN_FLAGS = [
  '--init',
  '--cap-add',
  'SYS_ADMIN',
  '--cap-add',
  'NET_ADMIN',
  '--cap-add',
  'MKNOD',
  '--cap-add',
  'SYS_PTRACE',
  '--cap-add',
  'NET_RAW',
  '--security-opt',
  'seccomp=unconfined',
  '--security-opt',
  'apparmor=unconfined',
  '--tmpfs',
  '/var/lib/docker:exec',
  '--tmpfs',
  '/run',
  '-v',
  '/sys/fs/cgroup:/sys/fs/cgroup:rw',
];

/** Creates a network with a /24 of 198.18.0.0/15 (the benchmarking range) that no other network uses. */
async function createNetwork(
  name: string,
  prefix: string,
): Promise<{ subnet: string; gateway: string; base: string }> {
  let last: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const block = randomInt(0, 512);
    const base = `198.${18 + (block >> 8)}.${block & 255}`;
    const subnet = `${base}.0/24`;
    const gateway = `${base}.1`;
    const result = await docker([
      'network',
      'create',
      '--driver',
      'bridge',
      '--subnet',
      subnet,
      '--gateway',
      gateway,
      ...ownerLabels(prefix, false),
      name,
    ]);
    if (result.exitCode === 0) return { subnet, gateway, base };
    last = new CommandError('docker', ['network', 'create', name], result);
    if (!/overlap|already/i.test(result.stderr)) break;
  }
  throw last;
}

function registryPort(host: string): number {
  const match = /^127\.0\.0\.1:(\d+)$/.exec(host);
  if (!match) throw new Error(`registry ${host} is not on 127.0.0.1:<port>`);
  return Number(match[1]);
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

interface HostFiles {
  ca: string;
  client: { cert: string; key: string };
  userKey: SshKeyPair;
  clientDir: string;
}

async function writeClientFiles(dir: string): Promise<HostFiles> {
  const pki = join(dir, 'pki');
  const clientDir = join(dir, 'client');
  await Promise.all([mkdir(pki, { mode: 0o700 }), mkdir(clientDir, { mode: 0o700 })]);
  const ca = await createCertificateAuthority(pki);
  const [client, userKey] = await Promise.all([
    createClientCertificate(pki),
    generateSshKey(clientDir, 'id_ed25519'),
  ]);
  // The layout DOCKER_CERT_PATH expects.
  await Promise.all([
    writeFile(join(clientDir, 'ca.pem'), ca),
    writeFile(join(clientDir, 'cert.pem'), client.cert),
    writeFile(join(clientDir, 'key.pem'), client.key, { mode: 0o600 }),
  ]);
  return { ca, client, userKey, clientDir };
}

/**
 * Creates one host's container (not started), its host key and server certificate, and
 * copies them to /etc/sdtest inside before it starts: nothing of this machine's
 * filesystem is mounted into a host.
 */
async function createHost(options: {
  name: string;
  ip: string;
  dir: string;
  files: HostFiles;
  image: string;
  network: string;
  prefix: string;
  insecureRegistries: string[];
}): Promise<TestHost> {
  const { name, ip, dir, files, image } = options;
  const stage = join(dir, name);
  await mkdir(stage, { mode: 0o700 });
  const [hostKey, server] = await Promise.all([
    generateSshKey(stage, 'ssh_host_ed25519_key'),
    createServerCertificate(join(dir, 'pki'), name, ip),
  ]);
  await Promise.all([
    writeFile(join(stage, 'authorized_keys'), `${files.userKey.publicKey}\n`),
    writeFile(join(stage, 'ca.pem'), files.ca),
    writeFile(join(stage, 'server-cert.pem'), server.cert),
    writeFile(join(stage, 'server-key.pem'), server.key, { mode: 0o600 }),
  ]);
  await rm(join(stage, 'ssh_host_ed25519_key.pub'));
  const knownHosts = `${ip} ${hostKey.publicKey}`;
  const knownHostsFile = join(files.clientDir, `known_hosts-${name}`);
  await writeFile(knownHostsFile, `${knownHosts}\n`);

  const dockerd = [
    '-H',
    'unix:///var/run/docker.sock',
    '-H',
    'tcp://0.0.0.0:2376',
    '--tlsverify',
    '--tlscacert',
    '/etc/sdtest/ca.pem',
    '--tlscert',
    '/etc/sdtest/server-cert.pem',
    '--tlskey',
    '/etc/sdtest/server-key.pem',
    // Inner containers' cgroups go under /<name>, so stop() can remove them from the machine.
    '--cgroup-parent',
    `/${name}`,
    ...options.insecureRegistries.flatMap((registry) => ['--insecure-registry', registry]),
  ];
  await dockerOk([
    'create',
    '--name',
    name,
    '--hostname',
    name,
    ...ownerLabels(options.prefix, true),
    '--network',
    options.network,
    '--ip',
    ip,
    ...HOST_RUN_FLAGS,
    image,
    '/usr/local/sbin/simpledeploy-test-host',
    ...dockerd,
  ]);
  await dockerOk(['cp', stage, `${name}:/etc/sdtest`]);
  await dockerOk(['start', name]);

  const sshConfigFile = join(files.clientDir, `ssh_config-${name}`);
  await writeFile(
    sshConfigFile,
    [
      `Host ${ip}`,
      '  User root',
      '  Port 22',
      `  IdentityFile ${files.userKey.privateKeyFile}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHostsFile}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
  const dockerEnv = {
    DOCKER_HOST: `tcp://${ip}:2376`,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: files.clientDir,
    DOCKER_CONTEXT: undefined,
  };
  const sshArgs = () => [
    '-i',
    files.userKey.privateKeyFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-p',
    '22',
  ];
  return {
    name,
    ip,
    sshUser: 'root',
    sshPort: 22,
    sshPrivateKey: files.userKey.privateKey,
    sshPrivateKeyFile: files.userKey.privateKeyFile,
    knownHosts,
    knownHostsFile,
    sshConfigFile,
    dockerHostSsh: `ssh://root@${ip}`,
    dockerHostTcp: `tcp://${ip}:2376`,
    tls: { ca: files.ca, cert: files.client.cert, key: files.client.key },
    tlsDir: files.clientDir,
    dockerEnv,
    exec: (argv, runOptions) =>
      docker(
        ['exec', ...(runOptions?.input === undefined ? [] : ['-i']), name, ...argv],
        runOptions,
      ),
    docker: (argv, runOptions) =>
      docker(argv, { ...runOptions, env: { ...dockerEnv, ...runOptions?.env } }),
    ssh: (argv, runOptions) =>
      run('ssh', [...sshArgs(), `root@${ip}`, '--', ...argv.map(shellQuote)], runOptions),
    sshArgs,
    disconnect: async () => {
      await dockerOk(['network', 'disconnect', options.network, name]);
    },
    reconnect: async () => {
      await dockerOk(['network', 'connect', '--ip', ip, options.network, name]);
    },
  };
}

async function waitForEngine(host: TestHost): Promise<void> {
  await waitFor(
    `the engine of test host ${host.name} (${host.dockerHostTcp})`,
    async () => {
      const version = await host.docker(['version', '--format', '{{.Server.Version}}'], {
        timeoutMs: 10_000,
      });
      if (version.exitCode === 0) return true;
      const state = await docker(['inspect', '--format', '{{.State.Status}}', host.name]);
      if (state.stdout.trim() !== 'running') {
        const logs = await docker(['logs', '--tail', '30', host.name]);
        throw new Error(
          `test host ${host.name} is ${state.stdout.trim() || 'gone'}: ${logs.stdout}${logs.stderr}`,
        );
      }
      return false;
    },
    { timeoutMs: ENGINE_TIMEOUT_MS, intervalMs: 250 },
  ).catch(async (error: unknown) => {
    // A host that never answered: say what its dockerd said.
    const logs = await docker(['logs', '--tail', '20', host.name]);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${logs.stdout}${logs.stderr}`);
  });
}

/**
 * Starts `count` extra Docker hosts on a bridge network of their own: each a container
 * of the cached Debian image (scripts/build-test-host-image.sh) with its own dockerd
 * (unix socket inside, `tcp://<ip>:2376` with TLS client certificates outside), an sshd
 * with a host key generated here and pinned in `knownHosts`, and its own filesystem.
 * Resolves once every engine answers (about 15 s); with `swarm` they also form a Swarm.
 * Call stop() in afterAll; a crashed test file's hosts are removed by the next start
 * with the same prefix, and by scripts/test.sh.
 */
export async function startTestHosts(options: StartTestHostsOptions = {}): Promise<TestHosts> {
  const count = options.count ?? 2;
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be 1 or more: ${count}`);
  if (options.swarm && count < 2) throw new Error('a Swarm of test hosts needs count >= 2');
  const started = performance.now();
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(prefix)) {
    throw new Error(`prefix must be lower-case letters, digits and '-': ${prefix}`);
  }
  const [image] = await Promise.all([ensureTestHostImage(), removeLeftoverHosts(prefix)]);
  const setName = `${prefix}-${randomBytes(3).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `${setName}-${i}`);
  const forwards: Forward[] = [];
  let dir: string | undefined;
  let networkCreated = false;
  const removeOnExit = () => removeHostsNow(names, setName);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.off('exit', removeOnExit);
      const existing = await docker([
        'ps',
        '-aq',
        ...names.flatMap((n) => ['--filter', `name=^${n}$`]),
      ]);
      if (existing.stdout.trim()) await docker(['rm', '-f', '-v', ...names]);
      await removeInnerCgroups(names);
      await Promise.all(forwards.map((forward) => forward.close()));
      if (networkCreated) await docker(['network', 'rm', setName]);
      if (dir) await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  process.once('exit', removeOnExit);

  try {
    const network = await createNetwork(setName, prefix);
    networkCreated = true;
    const registries: HostRegistry[] = [];
    for (const registry of options.registries ?? []) {
      const forward = await forwardToLoopback(network.gateway, registryPort(registry.host));
      forwards.push(forward);
      registries.push({
        host: forward.address,
        url: `http://${forward.address}`,
        ...(registry.username === undefined ? {} : { username: registry.username }),
        ...(registry.password === undefined ? {} : { password: registry.password }),
        localHost: registry.host,
      });
    }
    dir = await mkdtemp(join(tmpdir(), `${setName}-`));
    const files = await writeClientFiles(dir);
    const workDir = dir;
    const hosts = await Promise.all(
      names.map((name, i) =>
        createHost({
          name,
          ip: `${network.base}.${10 + i}`,
          dir: workDir,
          files,
          image,
          network: setName,
          prefix,
          insecureRegistries: registries.map((registry) => registry.host),
        }),
      ),
    );
    await Promise.all(hosts.map(waitForEngine));
    const swarm = options.swarm ? await formSwarm(hosts) : undefined;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `[simpledeploy/testing] ${count} test host${count === 1 ? '' : 's'}${swarm ? ' in a Swarm' : ''} on ${network.subnet} ready in ${seconds} s`,
    );
    return {
      hosts,
      network: { name: setName, subnet: network.subnet, gateway: network.gateway },
      registries,
      hostImageRef(ref) {
        for (const registry of registries) {
          if (ref.startsWith(`${registry.localHost}/`)) {
            return `${registry.host}/${ref.slice(registry.localHost.length + 1)}`;
          }
        }
        throw new Error(`${ref} is not in a registry given to startTestHosts({ registries })`);
      },
      ...(swarm ? { swarm } : {}),
      async expose(localPort) {
        const forward = await forwardToLoopback(network.gateway, localPort);
        forwards.push(forward);
        return forward.address;
      },
      loadImage: (host, ref) => loadImage(host, ref),
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
