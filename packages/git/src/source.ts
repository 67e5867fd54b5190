import * as fs from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  type DesiredState,
  type GitClient,
  type GitCredentials,
  stripUrlCredentials,
  validation,
} from '@simpledeploy/core';
import git from 'isomorphic-git';
import { formatBytes } from './limits';
import { assertRelativeInside, resolveInside } from './paths';

/** The names compose itself looks for, in its order (api.md: compose_path default). */
export const DEFAULT_COMPOSE_FILES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yaml',
  'docker-compose.yml',
] as const;

export interface SnapshotLimits {
  /** Most files a version may hold. */
  maxFiles: number;
  /** Most bytes (sum of file sizes) a version may hold. */
  maxBytes: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  maxFiles: 2000,
  maxBytes: 5 * 1024 * 1024,
};

/** The git-related fields of a stack, as stored (nullable columns welcome). */
export interface GitSourceStack {
  repoUrl: string;
  repoBranch?: string | null | undefined;
  composePath?: string | null | undefined;
  composeIncludes?: readonly string[] | null | undefined;
  composeVariables?: Record<string, string> | null | undefined;
  serviceFilter?: readonly string[] | null | undefined;
  credentials?: GitCredentials | undefined;
}

export interface ResolveGitSourceInput {
  git: GitClient;
  stack: GitSourceStack;
  /** Branch, tag or commit to deploy instead of the stack's repo_branch (deploy body `ref`). */
  ref?: string | null | undefined;
  /** The stack's clone directory: reused between deploys. */
  workDir: string;
  limits?: SnapshotLimits;
}

export interface GitSource {
  state: DesiredState;
  commit: string;
  /** Tracked files left out of `state.files` because they are not UTF-8 text. */
  skipped: string[];
}

/**
 * Checks out the stack's repository and turns it into the desired state of one deploy:
 * the compose files (compose_path or compose's default names, then compose_includes),
 * the env file compose should read, and a copy of every tracked text file so that the
 * version can be deployed again later without the git server.
 */
export async function resolveGitSource(input: ResolveGitSourceInput): Promise<GitSource> {
  const { stack } = input;
  const ref = input.ref || stack.repoBranch || undefined;
  const checkout = (sparse: string[]) =>
    input.git.checkout(stack.repoUrl, ref, input.workDir, stack.credentials ?? {}, { sparse });
  const wanted = sparseDirs(stack);
  let { commit, dir, sparse } = await checkout(wanted);
  // A sparse checkout holds the compose file's directory (and the includes'): a file that
  // reaches out of it (`..`, in a path or in a variable) needs the whole tree.
  if (sparse?.length && (await reachesOut(dir, stack, sparse))) {
    ({ commit, dir, sparse } = await checkout([]));
  }
  const where = `${stripUrlCredentials(stack.repoUrl)} at ${commit.slice(0, 12)}`;

  const composePath = await findComposeFile(dir, stack.composePath, where);
  const includes: string[] = [];
  for (const [i, include] of (stack.composeIncludes ?? []).entries()) {
    const field = `compose_includes[${i}]`;
    const rel = assertRelativeInside(include, field);
    if (!(await isFile(await resolveInside(dir, rel, field)))) {
      throw validation(`${field} ${rel} not found in ${where}`, { field, path: rel, commit });
    }
    includes.push(rel);
  }
  const envFile = await findEnvFile(dir, composePath);
  const { files, skipped } = await snapshotFiles(
    dir,
    commit,
    input.limits ?? DEFAULT_SNAPSHOT_LIMITS,
    sparse,
  );
  // A compose or env file that is not text would be missing on a redeploy from the version.
  for (const needed of [composePath, ...includes, ...(envFile ? [envFile] : [])]) {
    if (files[needed] === undefined) {
      throw validation(`${needed} in ${where} is not a UTF-8 text file`, { path: needed, commit });
    }
  }
  return {
    commit,
    skipped,
    state: {
      files,
      composeFiles: [composePath, ...includes],
      envFile,
      variables: { ...(stack.composeVariables ?? {}) },
      services: [...(stack.serviceFilter ?? [])],
    },
  };
}

/** Whether a tracked path is in the checkout: root files, and the sparse directories' files. */
function inSparse(path: string, sparse: string[] | undefined): boolean {
  return !sparse?.length || !path.includes('/') || sparse.some((d) => path.startsWith(`${d}/`));
}

/**
 * The directories a stack's compose needs: its compose file's and each include's. None
 * (the whole tree) when the compose file is at the root, since its directory is the
 * repository. The root's own files (its `.env`) always come.
 */
export function sparseDirs(stack: Pick<GitSourceStack, 'composePath' | 'composeIncludes'>) {
  const dirs = [stack.composePath ?? '', ...(stack.composeIncludes ?? [])].map((p) =>
    posix.dirname(posix.normalize(p.replace(/^\.\//, ''))),
  );
  if (!stack.composePath || dirs.some((d) => d === '.' || d === '/' || d.startsWith('..')))
    return [];
  return [...new Set(dirs)].sort();
}

const PARENT = /(^|[^.])\.\.([/\\]|$|[^.])/m;

/**
 * True when a file compose reads from the sparse checkout names `..` anywhere (a relative
 * path up, or a value that may become one), or a variable does: the directory alone may
 * not hold what the stack needs. Conservative by design: a false alarm costs a full
 * checkout, never a broken deploy.
 */
async function reachesOut(dir: string, stack: GitSourceStack, sparse: string[]): Promise<boolean> {
  if (Object.values(stack.composeVariables ?? {}).some((v) => v.includes('..'))) return true;
  for (const d of ['', ...sparse]) {
    // The root's subdirectories are outside the checkout: only its own files count there.
    const names = await readdir(join(dir, d), { recursive: Boolean(d) }).catch(
      () => [] as string[],
    );
    for (const name of names) {
      const rel = d ? `${d}/${name}` : name;
      if (!/(^|\/)(\.env|[^/]*\.ya?ml)$/.test(rel)) continue;
      const text = await readFile(join(dir, rel), 'utf8').catch(() => '');
      if (PARENT.test(text)) return true;
    }
  }
  return false;
}

async function findComposeFile(
  dir: string,
  composePath: string | null | undefined,
  where: string,
): Promise<string> {
  if (composePath) {
    const rel = assertRelativeInside(composePath, 'compose_path');
    if (!(await isFile(await resolveInside(dir, rel, 'compose_path')))) {
      throw validation(`compose_path ${rel} not found in ${where}`, { field: 'compose_path' });
    }
    return rel;
  }
  for (const name of DEFAULT_COMPOSE_FILES) {
    if (await isFile(await resolveInside(dir, name, 'compose file'))) return name;
  }
  throw validation(
    `no compose file found in ${where}: looked for ${DEFAULT_COMPOSE_FILES.join(', ')}; set compose_path`,
    { field: 'compose_path' },
  );
}

/** The `.env` next to the compose file, else the one at the repository root. */
async function findEnvFile(dir: string, composePath: string): Promise<string | undefined> {
  const candidates = [posix.join(posix.dirname(composePath), '.env'), '.env'];
  for (const candidate of new Set(candidates)) {
    if (await isFile(await resolveInside(dir, candidate, 'env file'))) return candidate;
  }
  return undefined;
}

async function isFile(path: string | undefined): Promise<boolean> {
  if (!path) return false;
  return (await stat(path)).isFile();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every tracked file at `commit` (untracked files, e.g. data a container wrote through a
 * bind mount, are not part of the desired state), read from the work tree. A symlink is
 * stored as the content of the file it points to, and one that leads outside the
 * repository fails the deploy: compose would read or mount the host's files through it.
 */
async function snapshotFiles(
  dir: string,
  commit: string,
  limits: SnapshotLimits,
  sparse: string[] | undefined,
): Promise<{ files: Record<string, string>; skipped: string[] }> {
  const tracked = (await git.listFiles({ fs, dir, ref: commit })).filter((p) =>
    inSparse(p, sparse),
  );
  const files: Record<string, string> = {};
  const skipped: string[] = [];
  let count = 0;
  let bytes = 0;
  for (const path of tracked) {
    try {
      assertRelativeInside(path, 'repository file');
    } catch {
      // Legal in git, unusable for compose (a backslash or control character in the name).
      skipped.push(path);
      continue;
    }
    const real = await resolveInside(dir, path, 'repository file');
    if (!real) continue;
    const info = await lstat(real);
    // Submodules and links to directories: their files are not blobs of this commit.
    if (!info.isFile()) continue;
    const content = await readFile(real);
    let text: string;
    try {
      if (content.includes(0)) throw new Error('binary');
      text = utf8.decode(content);
    } catch {
      skipped.push(path);
      continue;
    }
    count++;
    bytes += content.length;
    if (count > limits.maxFiles) {
      throw validation(
        `the repository has more than ${limits.maxFiles} text files; a deploy keeps a copy of every file for rollback, so keep the stack in a smaller repository`,
        { limit: limits.maxFiles },
      );
    }
    if (bytes > limits.maxBytes) {
      throw validation(
        `the repository holds more than ${formatBytes(limits.maxBytes)} of text files; a deploy keeps a copy of every file for rollback, so keep the stack in a smaller repository`,
        { limit: limits.maxBytes },
      );
    }
    files[path] = text;
  }
  return { files, skipped };
}
