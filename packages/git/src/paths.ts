import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { validation } from '@simpledeploy/core';

const MAX_PATH_LENGTH = 1024;
// Control characters have no business in a file name and make messages and logs ambiguous.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Checks a user-given repository path (`compose_path`, an entry of `compose_includes`)
 * without touching the disk, and returns it normalized (`./a//b.yaml` → `a/b.yaml`).
 * Rejects empty, absolute, escaping (`..`), backslash and control-character paths and
 * anything inside `.git`, with a message naming `field`.
 */
export function assertRelativeInside(path: unknown, field: string): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw validation(`${field} must be a non-empty path inside the repository`, { field });
  }
  if (path.length > MAX_PATH_LENGTH) {
    throw validation(`${field} is longer than ${MAX_PATH_LENGTH} characters`, { field });
  }
  if (CONTROL_CHARS.test(path)) {
    throw validation(`${field} must not contain control characters`, { field });
  }
  // A backslash is an ordinary character on Linux but a separator to anyone reading
  // `..\\..\\etc`: refusing it keeps what the user meant and what we check the same.
  if (path.includes('\\')) {
    throw validation(`${field} must use forward slashes`, { field });
  }
  if (isAbsolute(path) || /^[a-zA-Z]:/.test(path)) {
    throw validation(`${field} must be a path relative to the repository root`, { field });
  }
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    throw validation(`${field} must stay inside the repository`, { field });
  }
  if (normalized === '.' || normalized === '') {
    throw validation(`${field} must name a file, not the repository root`, { field });
  }
  if (normalized === '.git' || normalized.startsWith('.git/')) {
    throw validation(`${field} must not point inside .git`, { field });
  }
  return normalized;
}

/** True when `target` is `root` itself or below it (both absolute, already resolved). */
function isWithin(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Resolves `relPath` inside `rootDir` at deploy time, following symlinks, and returns
 * the real absolute path, or undefined when nothing exists there. Throws a VALIDATION
 * AppError when the path, or any symlink on the way, leads outside the repository:
 * compose would otherwise read (or bind-mount) files of the host.
 */
export async function resolveInside(
  rootDir: string,
  relPath: string,
  field = 'path',
): Promise<string | undefined> {
  const normalized = assertRelativeInside(relPath, field);
  const root = await realpath(rootDir);
  const lexical = resolve(root, normalized);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await assertMissingPathInside(root, lexical, normalized, field);
    return undefined;
  }
  if (!isWithin(root, real)) {
    throw validation(`${field} ${normalized} is a symlink that leads outside the repository`, {
      field,
      path: normalized,
    });
  }
  // .git is not part of the content (and holds the remote's configuration).
  if (isWithin(join(root, '.git'), real)) {
    throw validation(`${field} ${normalized} is a symlink into .git`, { field, path: normalized });
  }
  return real;
}

/**
 * Nothing exists at `lexical`: still refuse when the part that does exist (an ancestor
 * directory, or a dangling link) leads outside, since the target may appear later.
 */
async function assertMissingPathInside(
  root: string,
  lexical: string,
  normalized: string,
  field: string,
): Promise<void> {
  const outside = () =>
    validation(`${field} ${normalized} is a symlink that leads outside the repository`, {
      field,
      path: normalized,
    });
  const stat = await lstat(lexical).catch(() => undefined);
  if (stat?.isSymbolicLink()) {
    const target = resolve(dirname(lexical), await readlink(lexical));
    if (!isWithin(root, target)) throw outside();
  }
  for (let probe = dirname(lexical); isWithin(root, probe) && probe !== root; ) {
    try {
      if (!isWithin(root, await realpath(probe))) throw outside();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      probe = dirname(probe);
    }
  }
}
