import { constants } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  open,
  realpath,
  rm,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type DesiredState, type RegistryCredential, validation } from '@simpledeploy/core';
import { assertRelativeInside } from '@simpledeploy/git';

/**
 * Makes `root/<parts>` a real directory, never following a symlink: a container that
 * bind-mounts the stack directory can plant `data -> /`; the link is removed and a
 * directory made in its place, so nothing is written through it.
 */
async function ensureDir(root: string, parts: string[]): Promise<void> {
  let cur = root;
  for (const part of parts) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) await rm(cur, { recursive: false, force: true });
    await mkdir(cur, { mode: 0o755 });
  }
}

/**
 * Writes one file without following a symlink at its place: whatever is there is
 * unlinked, then the file is created exclusively (O_EXCL never follows a link, and
 * O_NOFOLLOW refuses one that raced in).
 */
async function writeNoFollow(path: string, content: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory()) await rm(path, { recursive: true, force: true });
  else if (st) await unlink(path);
  const fh = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

/** Where compose finds a version's files: absolute, under the directory's real path. */
export interface MaterializedFiles {
  /** The real path of the directory (symlinks in the data dir resolved), compose's root. */
  dir: string;
  /** Compose files in `-f` order. */
  files: string[];
  /** The repository's env file, if the version has one. */
  envFile?: string | undefined;
}

/**
 * Writes a version's files into a stack directory. The deploy dir is stable across
 * versions and never wiped, so data a compose file keeps in a relative bind mount survives
 * upgrades; since containers can write there, no write follows a symlink.
 */
export async function materialize(dir: string, state: DesiredState): Promise<MaterializedFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const root = await realpath(resolve(dir));
  for (const [rel, content] of Object.entries(state.files)) {
    const target = resolve(root, assertRelativeInside(rel, 'file'));
    if (!target.startsWith(root + sep))
      throw validation(`file ${rel} would be written outside the stack directory`);
    const parts = relative(root, target).split(sep);
    await ensureDir(root, parts.slice(0, -1));
    await writeNoFollow(target, content);
  }
  return {
    dir: root,
    files: state.composeFiles.map((f) => join(root, assertRelativeInside(f, 'compose file'))),
    envFile: state.envFile
      ? join(root, assertRelativeInside(state.envFile, 'env file'))
      : undefined,
  };
}

/** Hostnames as docker's config.json keys them: Docker Hub keeps its historic URL. */
const registryKey = (r: string) => r.replace(/^https?:\/\//, '').replace(/\/+$/, '') || r;

/**
 * Encodes interpolation variables as a compose env file: double quotes with `\`, `"`, `$`
 * and line breaks escaped, so every value reaches compose exactly as given and is never
 * interpolated again.
 */
export function encodeEnvFile(vars: Record<string, string>): string {
  const quote = (v: string) =>
    `"${v
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(/\$/g, '\\$')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')}"`;
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${quote(v)}\n`)
    .join('');
}

/**
 * A private directory (0700) under the server's run dir for one compose session: the
 * Docker CLI config holding only this stack's registry logins, and the variables as an
 * env file. It lives under the data directory, which start-up clears, so not even a
 * `kill -9` leaves credentials behind for long; the caller disposes of it when done.
 */
export async function createSessionDir(
  runDir: string,
  logins: RegistryCredential[],
  variables: Record<string, string>,
): Promise<{ dir: string; variablesFile: string; dispose: () => Promise<void> }> {
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(runDir, 'session-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
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
    const variablesFile = join(dir, 'variables.env');
    await writeFile(variablesFile, encodeEnvFile(variables), { mode: 0o600 });
    return { dir, variablesFile, dispose };
  } catch (err) {
    // The dir may already hold credentials: never leave it behind.
    await dispose();
    throw err;
  }
}

/** Removes every session a previous process left (it was killed before disposing of them). */
export async function clearRunDir(runDir: string): Promise<void> {
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true, mode: 0o700 });
}
