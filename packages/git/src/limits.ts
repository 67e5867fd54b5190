import * as fs from 'node:fs';
import git from 'isomorphic-git';
import { type GitErrorContext, gitError } from './errors';

/** How much a checkout may hold; a repository over any of them fails before files are written. */
export interface CheckoutLimits {
  /** Most files (blobs and symlinks) the checked-out commit may hold. */
  maxFiles: number;
  /** Most bytes the checked-out files may add up to. */
  maxBytes: number;
  /** Most path segments of a file: `a/b/c.txt` has 3. */
  maxDepth: number;
  /** Most bytes one HTTP response may carry: the packfile of a fetch, above all. */
  maxDownloadBytes: number;
}

/** Far above what a compose stack needs, low enough that a monorepo by mistake fails fast. */
export const DEFAULT_CHECKOUT_LIMITS: CheckoutLimits = {
  maxFiles: 10_000,
  maxBytes: 200 * 1024 * 1024,
  maxDepth: 32,
  maxDownloadBytes: 100 * 1024 * 1024,
};

export interface TreeStats {
  files: number;
  bytes: number;
}

/** What to do about any of the limits: an operator may raise them, a stack can only shrink. */
export const TOO_LARGE_FIX =
  "keep the stack's compose files in a smaller repository and point repo_url at it";

/**
 * Walks the tree of `commit` in the clone at `dir`, breadth first, and throws as soon as
 * it is over a limit: file count and depth from the tree objects alone, then the size
 * from the blobs. Nothing is written, so it runs between the fetch and the checkout.
 */
export async function assertTreeWithinLimits(input: {
  dir: string;
  commit: string;
  limits: Pick<CheckoutLimits, 'maxFiles' | 'maxBytes' | 'maxDepth'>;
  ctx: Pick<GitErrorContext, 'url' | 'redact'>;
  cache?: object;
}): Promise<TreeStats> {
  const { dir, commit, limits, ctx, cache = {} } = input;
  const where = `${ctx.url} at ${commit.slice(0, 12)}`;
  const over = (limit: keyof CheckoutLimits, value: number, message: string, extra = {}) =>
    gitError('VALIDATION', 'too_large', `${message}; ${TOO_LARGE_FIX}`, ctx, {
      limit,
      value,
      commit,
      ...extra,
    });

  const files: Array<{ path: string; oid: string }> = [];
  const trees = [{ oid: commit, prefix: '', depth: 0 }];
  // An index instead of shift(): a wide repository would make each shift costly.
  for (let i = 0; i < trees.length; i++) {
    const { oid, prefix, depth } = trees[i] as (typeof trees)[number];
    const { tree } = await git.readTree({ fs, dir, oid, cache });
    for (const entry of tree) {
      const path = `${prefix}${entry.path}`;
      if (depth + 1 > limits.maxDepth) {
        throw over(
          'maxDepth',
          limits.maxDepth,
          `the repository ${where} nests paths more than ${limits.maxDepth} levels deep (${path}), the limit for a checkout (maxDepth)`,
          { path },
        );
      }
      if (entry.type === 'tree') {
        trees.push({ oid: entry.oid, prefix: `${path}/`, depth: depth + 1 });
        // Submodules (type commit) are not checked out: they hold nothing here.
      } else if (entry.type === 'blob') {
        files.push({ path, oid: entry.oid });
        if (files.length > limits.maxFiles) {
          throw over(
            'maxFiles',
            limits.maxFiles,
            `the repository ${where} has more than ${limits.maxFiles} files, the limit for a checkout (maxFiles)`,
          );
        }
      }
    }
  }

  let bytes = 0;
  // The same content at several paths is written several times, but read once.
  const sizes = new Map<string, number>();
  for (const file of files) {
    let size = sizes.get(file.oid);
    if (size === undefined) {
      size = (await git.readBlob({ fs, dir, oid: file.oid, cache })).blob.byteLength;
      sizes.set(file.oid, size);
    }
    bytes += size;
    if (bytes > limits.maxBytes) {
      throw over(
        'maxBytes',
        limits.maxBytes,
        `the files of the repository ${where} add up to more than ${formatBytes(limits.maxBytes)}, the limit for a checkout (maxBytes)`,
      );
    }
  }
  return { files: files.length, bytes };
}

export const formatBytes = (n: number) =>
  n >= 1024 * 1024
    ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`
    : n >= 1024
      ? `${Math.round(n / 1024)} KiB`
      : `${n} bytes`;
