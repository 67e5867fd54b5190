import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { docker, dockerOk, runOk } from './exec.js';
import type { TestRegistry } from './registry.js';

/** Full references (`127.0.0.1:<port>/<name>:<tag>`) of the test images in one registry. */
export interface TestImages {
  /** busybox httpd answering `v1` at `/` on port 80, healthy within about a second. */
  webV1: string;
  /** Same as webV1 but answering `v2`. */
  webV2: string;
  /** Serves like webV1, but its health check always fails. */
  unhealthy: string;
  /** Sleeps forever; exits at once on SIGTERM. */
  sleeper: string;
}

/** The port the web images listen on inside the container (override with env PORT). */
export const WEB_CONTAINER_PORT = 80;

/** Label on every test image, so on every container made from one: cleanup finds them by it. */
export const TEST_LABEL = 'simpledeploy.test';

const BUSYBOX = '/bin/busybox';
const LOCAL_PREFIX = 'sdtest-local';

// busybox httpd as PID 1 ignores SIGTERM (every stop would wait the 10 s grace
// period): a shell parent that traps TERM makes stops and recreates instant.
const SERVE_SCRIPT = `#!/bin/sh
trap 'kill "$pid" 2>/dev/null; exit 0' TERM INT
httpd -f -p "\${PORT:-80}" -h /www &
pid=$!
wait "$pid"
`;

const SLEEP_SCRIPT = `#!/bin/sh
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
`;

const HEALTHY = `HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD wget -q -O /dev/null "http://127.0.0.1:\${PORT:-80}/" || exit 1`;
const FAILING = 'HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD ["/bin/false"]';

interface ImageSpec {
  key: keyof TestImages;
  name: string;
  lines: string[];
}

const SPECS: ImageSpec[] = [
  { key: 'webV1', name: 'web:v1', lines: ['COPY www-v1/ /www/', HEALTHY, 'CMD ["/bin/serve"]'] },
  { key: 'webV2', name: 'web:v2', lines: ['COPY www-v2/ /www/', HEALTHY, 'CMD ["/bin/serve"]'] },
  {
    key: 'unhealthy',
    name: 'unhealthy:v1',
    lines: ['COPY www-v1/ /www/', FAILING, 'CMD ["/bin/serve"]'],
  },
  { key: 'sleeper', name: 'sleeper:v1', lines: ['CMD ["/bin/sleeper"]'] },
];

/**
 * busybox-static resolves names through glibc's NSS modules, loaded at run time: without
 * them in the image, `wget http://web/` crashes. These few files from the host let a test
 * container reach another service by name on a compose network, as a client would.
 */
const NSS_FILES = [
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/lib/x86_64-linux-gnu/libnss_dns.so.2',
  '/lib/x86_64-linux-gnu/libnss_files.so.2',
  '/lib/x86_64-linux-gnu/libresolv.so.2',
  '/lib64/ld-linux-x86-64.so.2',
];

async function copyNameResolution(rootfs: string): Promise<void> {
  for (const file of NSS_FILES) {
    const content = await readFile(file).catch(() => undefined);
    if (!content) continue; // another libc layout: names then do not resolve in test images
    await mkdir(join(rootfs, dirname(file)), { recursive: true });
    await writeFile(join(rootfs, file), content, { mode: 0o755 });
  }
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'nsswitch.conf'), 'hosts: files dns\n');
}

async function writeContext(dir: string): Promise<void> {
  const bin = join(dir, 'rootfs', 'bin');
  await mkdir(bin, { recursive: true });
  await mkdir(join(dir, 'rootfs', 'tmp'), { recursive: true });
  await writeFile(join(bin, 'busybox'), await readFile(BUSYBOX));
  await chmod(join(bin, 'busybox'), 0o755);
  const { stdout } = await runOk(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((name) => /^[\w.[-]+$/.test(name))) {
    if (applet !== 'busybox') await symlink('busybox', join(bin, applet));
  }
  await copyNameResolution(join(dir, 'rootfs'));
  await writeFile(join(bin, 'serve'), SERVE_SCRIPT, { mode: 0o755 });
  await writeFile(join(bin, 'sleeper'), SLEEP_SCRIPT, { mode: 0o755 });
  for (const version of ['v1', 'v2']) {
    await mkdir(join(dir, `www-${version}`));
    await writeFile(join(dir, `www-${version}`, 'index.html'), version);
  }
  for (const spec of SPECS) {
    const dockerfile = [
      'FROM scratch',
      'COPY rootfs/ /',
      'ENV PATH=/bin',
      `LABEL ${TEST_LABEL}=1`,
      ...spec.lines,
    ];
    await writeFile(join(dir, `Dockerfile.${spec.key}`), `${dockerfile.join('\n')}\n`);
  }
}

let localBuild: Promise<void> | undefined;

/** Builds the images under local names once per process (the engine's cache makes reruns quick). */
export function buildLocalTestImages(): Promise<void> {
  localBuild ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdtest-images-'));
    try {
      await writeContext(dir);
      for (const spec of SPECS) {
        // No buildx plugin here: the legacy builder does FROM scratch builds fine.
        await dockerOk(
          [
            'build',
            '-q',
            '-f',
            `Dockerfile.${spec.key}`,
            '-t',
            `${LOCAL_PREFIX}/${spec.name}`,
            '.',
          ],
          {
            cwd: dir,
            env: { DOCKER_BUILDKIT: '0' },
          },
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  localBuild.catch(() => {
    localBuild = undefined;
  });
  return localBuild;
}

/**
 * Builds the busybox test images and pushes them to `registry`, logging in through a
 * temp DOCKER_CONFIG when it is private. Returns the full image references.
 */
export async function buildTestImages(
  registry: Pick<TestRegistry, 'host' | 'username' | 'password'>,
): Promise<TestImages> {
  await buildLocalTestImages();
  const config = await mkdtemp(join(tmpdir(), 'sdtest-docker-config-'));
  try {
    const env = { DOCKER_CONFIG: config };
    if (registry.username !== undefined && registry.password !== undefined) {
      await dockerOk(
        ['login', '--username', registry.username, '--password-stdin', registry.host],
        {
          env,
          input: registry.password,
        },
      );
    }
    const refs = {} as TestImages;
    await Promise.all(
      SPECS.map(async (spec) => {
        const ref = `${registry.host}/${spec.name}`;
        await dockerOk(['tag', `${LOCAL_PREFIX}/${spec.name}`, ref]);
        await dockerOk(['push', '--quiet', ref], { env });
        refs[spec.key] = ref;
      }),
    );
    return refs;
  } finally {
    await rm(config, { recursive: true, force: true });
  }
}

/** Removes the engine's local tags that point into a registry (e.g. once it is stopped). */
export async function removeRegistryTags(registryHost: string): Promise<void> {
  const { stdout } = await dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  const tags = stdout.split('\n').filter((tag) => tag.startsWith(`${registryHost}/`));
  if (tags.length > 0) await docker(['rmi', ...tags]);
}
