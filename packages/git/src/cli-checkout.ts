import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { CommandRunner, RunResult } from '@simpledeploy/core';
import { type GitErrorContext, gitError } from './errors';
import { type CheckoutLimits, formatBytes, TOO_LARGE_FIX } from './limits';

/** The git CLI, for partial and sparse checkouts isomorphic-git cannot do. */
export interface GitCli {
  runner: CommandRunner;
  /** The git executable. Default `git`. */
  file?: string;
  /** The CLI's base environment (PATH above all); nothing else of the server's reaches it. */
  env: Record<string, string>;
}

export interface CliCheckoutInput {
  url: string;
  /** The commit to check out (already resolved with a ref listing). */
  commit: string;
  /** What to fetch: the ref's full name, or the commit itself. */
  want: string;
  dir: string;
  /** `Basic …` for the git server, or undefined. */
  authorization: string | undefined;
  /** Directories to check out besides the root's own files (cone mode); empty for all. */
  sparse: string[];
  limits: CheckoutLimits;
  timeoutMs: number;
  ctx: GitErrorContext;
}

/**
 * The environment of one git run. Credentials go in as an `http.extraHeader` through
 * GIT_CONFIG_COUNT/KEY/VALUE, never in argv or the URL (both visible to `ps`), and never
 * into .git/config. Redirects are not followed at all (the header would go along), only
 * http(s) transports are allowed, and no system or user config, prompt or helper is read.
 */
function gitEnv(cli: GitCli, authorization: string | undefined): Record<string, string> {
  const config: [string, string][] = [
    ['http.followRedirects', 'false'],
    ['protocol.version', '2'],
    ['credential.helper', ''],
    ['core.hooksPath', '/dev/null'],
    ['advice.detachedHead', 'false'],
    ...(authorization
      ? [['http.extraHeader', `Authorization: ${authorization}`] as [string, string]]
      : []),
  ];
  const env: Record<string, string> = {
    ...cli.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Bytes under .git/objects/pack, the packs being written included. */
async function packBytes(dir: string): Promise<number> {
  const pack = join(dir, '.git', 'objects', 'pack');
  const names = await readdir(pack).catch(() => [] as string[]);
  let total = 0;
  for (const name of names)
    total += (await stat(join(pack, name)).catch(() => undefined))?.size ?? 0;
  return total;
}

/**
 * A shallow, blobless, sparse checkout with the git CLI: `init`, `sparse-checkout set
 * --cone <dirs>`, `fetch --depth 1 --filter=blob:none` of the one commit (trees only), the
 * limits judged on the tree's paths, then `checkout`, which fetches just the blobs of the
 * sparse paths. A later checkout into the same clone fetches the new commit's trees and
 * the blobs that changed. Downloads are watched: past maxDownloadBytes git is stopped.
 */
export async function cliCheckout(
  cli: GitCli,
  input: CliCheckoutInput,
): Promise<{ reused: boolean; fetched: boolean; files: number; bytes: number }> {
  const { dir, ctx, limits } = input;
  const env = gitEnv(cli, input.authorization);
  const controller = new AbortController();
  let tooLarge = false;
  const watch = setInterval(() => {
    void packBytes(dir).then((bytes) => {
      if (bytes > limits.maxDownloadBytes) {
        tooLarge = true;
        controller.abort();
      }
    });
  }, 100);
  const deadline = setTimeout(() => controller.abort(), input.timeoutMs);
  const git = async (args: string[], what: string): Promise<RunResult> => {
    const res = await cli.runner.run(cli.file ?? 'git', ['-C', dir, ...args], {
      env,
      signal: controller.signal,
    });
    if (tooLarge) {
      throw gitError(
        'VALIDATION',
        'too_large',
        `the git server sent more than ${formatBytes(limits.maxDownloadBytes)} for ${ctx.url}, the limit for one download (maxDownloadBytes); ${TOO_LARGE_FIX}`,
        ctx,
        { limit: 'maxDownloadBytes', value: limits.maxDownloadBytes },
      );
    }
    if (res.aborted) {
      throw gitError('UNAVAILABLE', 'unreachable', `git ${what} of ${ctx.url} timed out`, ctx);
    }
    if (res.exitCode !== 0) throw cliFailure(res, what, ctx);
    return res;
  };
  try {
    const origin = await cli.runner.run(
      cli.file ?? 'git',
      ['-C', dir, 'config', '--get', 'remote.origin.url'],
      { env },
    );
    const reused =
      origin.exitCode === 0 &&
      origin.stdout.trim() === input.url &&
      (await lstat(join(dir, '.git', 'shallow')).then(
        () => true,
        () => false,
      ));
    if (!reused) {
      await rm(join(dir, '.git'), { recursive: true, force: true });
      await git(['init', '--quiet', '--initial-branch=main'], 'init');
      await git(['config', 'remote.origin.url', input.url], 'config');
    }
    await git(
      input.sparse.length
        ? ['sparse-checkout', 'set', '--cone', '--', ...input.sparse]
        : ['sparse-checkout', 'disable'],
      'sparse-checkout',
    );
    // Not `cat-file -e`: in a partial clone it fetches a missing object by itself.
    const head = reused
      ? await cli.runner.run(
          cli.file ?? 'git',
          ['-C', dir, 'rev-parse', '--verify', '-q', 'HEAD'],
          {
            env,
          },
        )
      : undefined;
    const fetched = head?.stdout.trim() !== input.commit;
    if (fetched) {
      await git(
        [
          'fetch',
          '--quiet',
          '--no-tags',
          '--depth',
          '1',
          '--filter=blob:none',
          'origin',
          input.want,
        ],
        'fetch',
      );
    }
    const files = await assertPathsWithinLimits(git, input);
    await git(['checkout', '--quiet', '--force', '--detach', input.commit], 'checkout');
    const bytes = await checkedOutBytes(dir, files);
    if (bytes > limits.maxBytes) {
      throw gitError(
        'VALIDATION',
        'too_large',
        `the files of ${ctx.url} at ${input.commit.slice(0, 12)} add up to more than ${formatBytes(limits.maxBytes)} (maxBytes); ${TOO_LARGE_FIX}`,
        ctx,
        { limit: 'maxBytes', value: limits.maxBytes, commit: input.commit },
      );
    }
    return { reused, fetched, files: files.length, bytes };
  } finally {
    clearInterval(watch);
    clearTimeout(deadline);
  }
}

/** The paths the sparse checkout will write, from the tree alone: file count and depth limits. */
async function assertPathsWithinLimits(
  git: (args: string[], what: string) => Promise<RunResult>,
  input: CliCheckoutInput,
): Promise<string[]> {
  const { limits, ctx, commit } = input;
  const listed = await git(['ls-tree', '-r', '-z', '--name-only', commit], 'ls-tree');
  const inSparse = (path: string) =>
    !input.sparse.length ||
    !path.includes('/') ||
    input.sparse.some((d) => path.startsWith(`${d}/`));
  const paths = listed.stdout.split('\0').filter(Boolean).filter(inSparse);
  const over = (limit: keyof CheckoutLimits, value: number, message: string) =>
    gitError('VALIDATION', 'too_large', `${message}; ${TOO_LARGE_FIX}`, ctx, {
      limit,
      value,
      commit,
    });
  if (paths.length > limits.maxFiles) {
    throw over(
      'maxFiles',
      limits.maxFiles,
      `${ctx.url} at ${commit.slice(0, 12)} has more than ${limits.maxFiles} files to check out (maxFiles)`,
    );
  }
  const deep = paths.find((p) => p.split('/').length > limits.maxDepth);
  if (deep) {
    throw over(
      'maxDepth',
      limits.maxDepth,
      `${ctx.url} at ${commit.slice(0, 12)} has a path deeper than ${limits.maxDepth} directories (maxDepth)`,
    );
  }
  return paths;
}

async function checkedOutBytes(dir: string, files: string[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    const st = await lstat(join(dir, ...f.split(posix.sep))).catch(() => undefined);
    if (st?.isFile()) total += st.size;
  }
  return total;
}

/** A failed git run as the error the API answers, without git's output (it may name the URL). */
function cliFailure(res: RunResult, what: string, ctx: GitErrorContext) {
  const text = res.stderr;
  if (
    /Authentication failed|HTTP 401|HTTP 403|could not read Username|terminal prompts disabled/i.test(
      text,
    )
  ) {
    return gitError(
      'VALIDATION',
      ctx.hasCredentials ? 'auth_failed' : 'auth_required',
      ctx.hasCredentials
        ? `authentication failed for ${ctx.url}: check repo_username and repo_token`
        : `authentication required for ${ctx.url}: set repo_username and repo_token`,
      ctx,
    );
  }
  if (/HTTP 30\d|redirect/i.test(text)) {
    return gitError(
      'VALIDATION',
      'redirected',
      `the git server at ${ctx.url} redirected; redirects are not followed with credentials: check repo_url`,
      ctx,
    );
  }
  if (/not found|does not appear to be a git repository|HTTP 404/i.test(text)) {
    return gitError(
      'VALIDATION',
      'repo_not_found',
      `repository not found at ${ctx.url}: check repo_url`,
      ctx,
    );
  }
  const last = ctx.redact(text.trim().split('\n').slice(-1)[0] ?? '');
  return gitError('UNAVAILABLE', 'failed', `git ${what} of ${ctx.url} failed: ${last}`, ctx);
}
