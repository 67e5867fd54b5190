import { spawnSync } from 'node:child_process';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, dockerOk } from '../exec.js';
import { TEST_LABEL } from '../images.js';

/** On every container and network of a set of test hosts. */
export const TEST_HOST_LABEL = 'simpledeploy.test-host';
/** The name prefix the set was started with. */
export const TEST_HOST_PREFIX_LABEL = 'simpledeploy.test-host.prefix';
/** The pid of the process that started the set: it is a leftover once that process is gone. */
export const TEST_HOST_OWNER_LABEL = 'simpledeploy.test-host.owner';

/** Labels for a container or network of a set started by this process. */
export function ownerLabels(prefix: string, container: boolean): string[] {
  const labels = [
    `${TEST_HOST_LABEL}=1`,
    `${TEST_HOST_PREFIX_LABEL}=${prefix}`,
    `${TEST_HOST_OWNER_LABEL}=${process.pid}`,
  ];
  // scripts/test.sh removes every container with this label at the end of a run.
  if (container) labels.push(`${TEST_LABEL}=1`);
  return labels.flatMap((label) => ['--label', label]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listed(kind: 'ps' | 'network', prefix: string): Promise<string[]> {
  const name = kind === 'ps' ? '{{.Names}}' : '{{.Name}}';
  const filter = ['--filter', `label=${TEST_HOST_PREFIX_LABEL}=${prefix}`];
  const format = ['--format', `${name}\t{{.Label "${TEST_HOST_OWNER_LABEL}"}}`];
  const args =
    kind === 'ps' ? ['ps', '-a', ...filter, ...format] : ['network', 'ls', ...filter, ...format];
  const { stdout } = await dockerOk(args);
  return stdout
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      const owner = Number(line.split('\t')[1]);
      return !Number.isInteger(owner) || owner <= 0 || !alive(owner);
    })
    .map((line) => line.split('\t')[0]!);
}

/**
 * Removes the containers and networks of sets with this prefix whose starting process is
 * gone (a test file that crashed). Sets of live processes, including other test runs on the
 * same engine, are left alone.
 */
export async function removeLeftoverHosts(prefix: string): Promise<void> {
  const containers = await listed('ps', prefix);
  if (containers.length > 0) await docker(['rm', '-f', '-v', ...containers]);
  await removeInnerCgroups(containers);
  const networks = await listed('network', prefix);
  if (networks.length > 0) await docker(['network', 'rm', ...networks]);
  // Their temp dirs (keys, certificates) are `<tmpdir>/<network name>-XXXXXX`.
  const temp = await readdir(tmpdir()).catch(() => []);
  await Promise.all(
    temp
      .filter((entry) => networks.some((network) => entry.startsWith(`${network}-`)))
      .map((entry) => rm(join(tmpdir(), entry), { recursive: true, force: true })),
  );
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * The hosts' engines put their containers under `/<host name>` of the machine's cgroup
 * hierarchy (dockerd --cgroup-parent): once a host is gone those groups are empty, and
 * removing them leaves the machine as it was. Best effort (cgroup v1 and v2 layouts).
 */
export async function removeInnerCgroups(hostNames: readonly string[]): Promise<void> {
  if (hostNames.length === 0) return;
  const roots = [CGROUP_ROOT];
  const subsystems = await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => []);
  for (const entry of subsystems) {
    if (entry.isDirectory()) roots.push(join(CGROUP_ROOT, entry.name));
  }
  await Promise.all(
    roots.flatMap((root) =>
      hostNames.map(async (name) => {
        const dir = join(root, name);
        const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const child of children) {
          if (child.isDirectory()) await rmdir(join(dir, child.name)).catch(() => {});
        }
        await rmdir(dir).catch(() => {});
      }),
    ),
  );
}

/** Synchronous removal for process exit, when no promise can run any more. */
export function removeHostsNow(containers: readonly string[], network: string): void {
  if (containers.length > 0) {
    spawnSync('docker', ['rm', '-f', '-v', ...containers], { stdio: 'ignore' });
  }
  spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
}
