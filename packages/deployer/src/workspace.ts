import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import type { ComposeTarget } from '@simpledeploy/compose';
import { type DesiredState, type RegistryCredential, validation } from '@simpledeploy/core';
import { assertRelativeInside } from '@simpledeploy/git';

/**
 * Writes a version's files into the stack's deploy dir. The dir is stable across versions
 * and never wiped, so data a compose file keeps in a relative bind mount survives upgrades.
 */
export async function materialize(
  dir: string,
  state: DesiredState,
): Promise<ComposeTarget & { dir: string }> {
  await mkdir(dir, { recursive: true });
  const root = resolve(dir);
  for (const [rel, content] of Object.entries(state.files)) {
    const target = resolve(root, assertRelativeInside(rel, 'file'));
    if (!target.startsWith(root + sep))
      throw validation(`file ${rel} would be written outside the stack directory`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return {
    dir: root,
    project: '',
    files: state.composeFiles.map((f) => join(root, assertRelativeInside(f, 'compose file'))),
    envFile: state.envFile
      ? join(root, assertRelativeInside(state.envFile, 'env file'))
      : undefined,
  };
}

/** Hostnames as docker's config.json keys them: Docker Hub keeps its historic URL. */
const registryKey = (r: string) => r.replace(/^https?:\/\//, '').replace(/\/+$/, '') || r;

/**
 * A fresh DOCKER_CONFIG dir (0700) holding only this stack's registry logins. The caller
 * removes it when the deploy ends; it never appears in a log.
 */
export async function createDockerConfig(
  logins: RegistryCredential[],
): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sd-docker-'));
  try {
    await chmod(dir, 0o700);
    const auths: Record<string, { auth: string }> = {};
    for (const l of logins) {
      const key = l.registry.includes('index.docker.io')
        ? 'https://index.docker.io/v1/'
        : registryKey(l.registry);
      auths[key] = { auth: Buffer.from(`${l.username}:${l.password}`).toString('base64') };
    }
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths }), { mode: 0o600 });
  } catch (err) {
    // The dir may already hold credentials: never leave it behind.
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}
