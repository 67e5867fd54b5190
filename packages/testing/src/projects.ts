import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compose, docker, dockerOk, type RunOptions, type RunResult } from './exec.js';
import { TEST_LABEL } from './images.js';

const PROJECT_LABEL = 'com.docker.compose.project';

/** Prefix of every compose project tests create; scripts/test.sh removes leftovers by it. */
export const TEST_PROJECT_PREFIX = 'sdtest';

/** A compose project name no other test uses: `<prefix>-<time>-<random>`, lower case. */
export function uniqueProjectName(prefix = TEST_PROJECT_PREFIX): string {
  const stamp = Date.now().toString(36);
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');
}

async function ids(args: string[]): Promise<string[]> {
  const { stdout } = await dockerOk(args);
  return stdout.split('\n').filter(Boolean);
}

/**
 * Removes every container (with its anonymous volumes), network and volume compose
 * made for a project, found by its label, without needing the compose files.
 */
export async function cleanupProject(project: string): Promise<void> {
  const filter = `label=${PROJECT_LABEL}=${project}`;
  const containers = await ids(['ps', '-aq', '--filter', filter]);
  if (containers.length > 0) await dockerOk(['rm', '-f', '-v', ...containers]);
  const networks = await ids(['network', 'ls', '-q', '--filter', filter]);
  if (networks.length > 0) await dockerOk(['network', 'rm', ...networks]);
  const volumes = await ids(['volume', 'ls', '-q', '--filter', filter]);
  if (volumes.length > 0) await dockerOk(['volume', 'rm', '-f', ...volumes]);
}

/** What is left of a project: ids of its containers, networks and volumes. */
export async function projectResources(
  project: string,
): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filter = `label=${PROJECT_LABEL}=${project}`;
  const [containers, networks, volumes] = await Promise.all([
    ids(['ps', '-aq', '--filter', filter]),
    ids(['network', 'ls', '-q', '--filter', filter]),
    ids(['volume', 'ls', '-q', '--filter', filter]),
  ]);
  return { containers, networks, volumes };
}

/**
 * Removes what any test left behind: containers of the test images (they carry the
 * `simpledeploy.test` label) and every compose project named `<prefix>-…`.
 */
export async function cleanupTestResources(prefix = TEST_PROJECT_PREFIX): Promise<void> {
  const labelled = await ids(['ps', '-aq', '--filter', `label=${TEST_LABEL}=1`]);
  if (labelled.length > 0) await docker(['rm', '-f', '-v', ...labelled]);
  const projects = new Set<string>();
  for (const kind of [
    ['ps', '-a'],
    ['network', 'ls'],
    ['volume', 'ls'],
  ]) {
    const { stdout } = await dockerOk([
      ...kind,
      '--filter',
      `label=${PROJECT_LABEL}`,
      '--format',
      `{{.Label "${PROJECT_LABEL}"}}`,
    ]);
    for (const name of stdout.split('\n')) if (name.startsWith(`${prefix}-`)) projects.add(name);
  }
  for (const project of projects) await cleanupProject(project);
}

/**
 * Writes `<dir>/config.json` with registry credentials the way `docker login` stores
 * them, for use as DOCKER_CONFIG. Returns dir.
 */
export async function writeDockerConfig(
  dir: string,
  auths: Record<string, { username: string; password: string }>,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, { username, password }]) => [
      host,
      { auth: Buffer.from(`${username}:${password}`).toString('base64') },
    ]),
  );
  await writeFile(join(dir, 'config.json'), `${JSON.stringify({ auths: entries }, null, 2)}\n`);
  return dir;
}

export interface DockerStatus {
  serverVersion: string;
  apiVersion: string;
  composeVersion: string;
}

/**
 * Checks that the engine answers and compose is v2; throws an error that says how to
 * provision them otherwise. Integration tests must fail, never skip, without them.
 */
export async function checkDocker(): Promise<DockerStatus> {
  const fix =
    'Run scripts/provision-docker.sh (as root on Debian it installs and starts everything).';
  let info: Awaited<ReturnType<typeof docker>>;
  try {
    info = await docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], {
      timeoutMs: 20_000,
    });
  } catch (error) {
    throw new Error(`the docker CLI cannot be run (${(error as Error).message}). ${fix}`);
  }
  if (info.exitCode !== 0) {
    throw new Error(
      `no Docker engine answers: ${info.stderr.trim() || info.stdout.trim()}. ${fix}`,
    );
  }
  const [serverVersion = '', apiVersion = ''] = info.stdout.trim().split(' ');
  const composeResult = await docker(['compose', 'version', '--short'], { timeoutMs: 20_000 });
  const composeVersion = composeResult.stdout.trim().replace(/^v/, '');
  if (composeResult.exitCode !== 0 || !composeVersion.startsWith('2.')) {
    throw new Error(
      `'docker compose' v2 is required, found: ${composeVersion || composeResult.stderr.trim() || 'none'}. ${fix}`,
    );
  }
  return { serverVersion, apiVersion, composeVersion };
}

/** A compose file in a temp dir with a unique project name. */
export interface ComposeProject {
  name: string;
  dir: string;
  /** Path of the compose file. */
  file: string;
  /** `docker compose -p <name> -f <file> <args>`, with DOCKER_CONFIG set when one was given. */
  compose(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Removes the project's containers, networks and volumes, and the temp dir. */
  cleanup(): Promise<void>;
}

/**
 * Writes `composeYaml` to a temp dir under a unique project name. Pass `dockerConfig`
 * (a dir made with writeDockerConfig) to pull from a private registry.
 */
export async function createComposeProject(
  composeYaml: string,
  { prefix = TEST_PROJECT_PREFIX, dockerConfig }: { prefix?: string; dockerConfig?: string } = {},
): Promise<ComposeProject> {
  const name = uniqueProjectName(prefix);
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const file = join(dir, 'compose.yaml');
  await writeFile(file, composeYaml);
  return {
    name,
    dir,
    file,
    compose: (args, options = {}) =>
      compose(['-p', name, '-f', file, ...args], {
        cwd: dir,
        ...options,
        env: { ...(dockerConfig ? { DOCKER_CONFIG: dockerConfig } : {}), ...options.env },
      }),
    async cleanup() {
      await cleanupProject(name);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
