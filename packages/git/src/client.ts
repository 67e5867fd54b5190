import * as fs from 'node:fs';
import { lstat, mkdir, readdir, realpath, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type AppError,
  createRedactor,
  type GitCheckout,
  type GitClient,
  type GitCredentials,
  isAppError,
  type Logger,
  type Redact,
  silentLogger,
} from '@simpledeploy/core';
import git, { type GitAuth, type HttpClient } from 'isomorphic-git';
import { cliCheckout, type GitCli } from './cli-checkout';
import { type GitErrorContext, gitError, toGitError } from './errors';
import { type GuardedHttp, guardedHttp } from './http';
import { createKeepAliveHttp } from './keepalive-http';
import { assertTreeWithinLimits, type CheckoutLimits, DEFAULT_CHECKOUT_LIMITS } from './limits';
import { listRemoteRefs, type ProtocolMemo, type RemoteRef } from './ls-refs';
import { resolveInside } from './paths';
import { assertRefName } from './refs';
import { assertRepoUrl } from './url';

/** Username sent with a token when none is given: GitHub, Gitea and Forgejo accept any. */
export const DEFAULT_TOKEN_USERNAME = 'x-access-token';

const FULL_SHA = /^[0-9a-f]{40}$/i;
/** Listing sessions kept, at most (one per repository and credentials polled). */
const SESSIONS_LIMIT = 10_000;
const SHORT_SHA = /^[0-9a-f]{7,39}$/i;

export interface GitClientOptions {
  logger?: Logger;
  /** Idle timeout of one HTTP request, in ms: a silent server fails instead of hanging a deploy. */
  requestTimeoutMs?: number;
  /** A clone holding more packfiles than this is fetched again from scratch (each fetch adds one). */
  maxPacks?: number;
  /**
   * How much a checkout may hold (DEFAULT_CHECKOUT_LIMITS for what is not given): a
   * download stops past maxDownloadBytes, and a commit over the file, size or depth
   * limit fails after the fetch, before any working file is written.
   */
  limits?: Partial<CheckoutLimits>;
  /**
   * HTTP transport; one that keeps connections to each git host open by default
   * (createKeepAliveHttp). It must hand redirects back (it gets simple-get's
   * `fetchOptions.followRedirects: false`): the client follows them itself so that
   * credentials never leave the origin of repo_url.
   */
  http?: HttpClient;
  /**
   * The git CLI: when given, checkouts are shallow, blobless and sparse with it (only the
   * blobs of the asked directories are downloaded); isomorphic-git remains for a short sha.
   */
  cli?: GitCli | undefined;
}

/** What was done by the last checkout, for logs and tests. */
export interface CheckoutStats {
  /** An existing clone in `dir` was fetched into rather than created. */
  reused: boolean;
  /** Objects were downloaded (false when the commit was already present). */
  fetched: boolean;
  /** A commit had to be found with a full fetch because the server refused it by sha. */
  deepFetch: boolean;
  /** Files of the checked-out commit. */
  files: number;
  /** Their total size in bytes. */
  bytes: number;
  /** The directories checked out besides the root's files, when the checkout was sparse. */
  sparse?: string[] | undefined;
}

export interface SimpleDeployGitClient extends GitClient {
  /** Like checkout, also telling whether the clone was reused and whether it fetched. */
  checkoutWithStats(
    url: string,
    ref: string | undefined,
    dir: string,
    creds: GitCredentials,
    options?: { sparse?: string[] | undefined },
  ): Promise<GitCheckout & CheckoutStats>;
}

type Target =
  | { kind: 'ref'; fullRef: string; commit: string }
  | { kind: 'commit'; commit: string }
  | { kind: 'short'; prefix: string };

interface Session extends GitErrorContext {
  /** The transport for this repository: it keeps the credentials with its origin. */
  http: GuardedHttp;
  /** `Basic …` for the ref listing, sent without waiting for the 401. */
  basic: string | undefined;
  auth: {
    onAuth: (url: string, auth: GitAuth) => GitAuth;
    onAuthFailure: () => GitAuth;
  };
}

/**
 * GitClient on isomorphic-git over http(s): ref listing with protocol v2 (no clone) and
 * shallow checkouts that reuse the clone in `dir`. Credentials are only ever handed to
 * isomorphic-git through onAuth, so they are never written to .git/config, and every
 * error message passes a redactor that knows the token.
 */
export function createGitClient(options: GitClientOptions = {}): SimpleDeployGitClient {
  const logger = options.logger ?? silentLogger;
  const timeout = options.requestTimeoutMs ?? 30_000;
  const maxPacks = options.maxPacks ?? 20;
  const baseHttp = options.http ?? createKeepAliveHttp();
  // Which repositories speak protocol v2: their polls skip the discovery request.
  const protocols: ProtocolMemo = new Map();
  const limits: CheckoutLimits = { ...DEFAULT_CHECKOUT_LIMITS, ...options.limits };
  // Set once the git CLI could not be started: isomorphic-git does every checkout then.
  let cliMissing = false;
  // One checkout at a time per directory: two fetches into one clone would corrupt it.
  const locks = new Map<string, Promise<unknown>>();

  function session(url: string, creds: GitCredentials): Session {
    const token = creds.token || undefined;
    const username = creds.username || (token ? DEFAULT_TOKEN_USERNAME : undefined);
    const hasCredentials = Boolean(username || token);
    const redact: Redact = createRedactor([token]);
    const context = { url, hasCredentials, redact };
    return {
      ...context,
      http: guardedHttp(baseHttp, {
        timeoutMs: timeout,
        maxRedirects: 5,
        maxResponseBytes: limits.maxDownloadBytes,
        context,
      }),
      basic: hasCredentials
        ? `Basic ${Buffer.from(`${username ?? ''}:${token ?? ''}`).toString('base64')}`
        : undefined,
      auth: {
        // Give credentials once, when asked; canceling otherwise turns a 401 into a
        // UserCanceledError instead of isomorphic-git retrying the same credentials.
        onAuth: () => (hasCredentials ? { username, password: token ?? '' } : { cancel: true }),
        onAuthFailure: () => ({ cancel: true }),
      },
    };
  }

  // Sessions of ref listings by repository and credentials: a poller lists the same
  // repositories every interval, and building a session (its redactor, its transport)
  // per poll was a tenth of the poll's CPU. Checkouts build their own (their transport
  // remembers a failed download).
  const listingSessions = new Map<string, Session>();
  function listingSession(url: string, creds: GitCredentials): Session {
    const key = `${url}\0${creds.username ?? ''}\0${creds.token ?? ''}`;
    let s = listingSessions.get(key);
    if (!s) {
      s = session(url, creds);
      if (listingSessions.size >= SESSIONS_LIMIT) listingSessions.clear();
      listingSessions.set(key, s);
    }
    return s;
  }

  function listRefs(s: Session, prefixes: string[]): Promise<RemoteRef[]> {
    // Polling is this call on a timer: sending the credentials up front saves the 401
    // round-trip on every poll.
    const headers: Record<string, string> = s.basic ? { authorization: s.basic } : {};
    return listRemoteRefs(s.http, s.url, { prefixes, headers, ctx: s }, protocols);
  }

  /** Resolves a branch or tag name (or full ref) on the remote; undefined when it is neither. */
  async function lookupRef(
    s: Session,
    ref: string,
  ): Promise<{ fullRef: string; commit: string } | undefined> {
    const candidates = ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
    // One request for both: ref-prefix is a prefix (`main` also matches `refs/heads/main-old`),
    // so only exact names count, a branch before a tag of the same name.
    const refs = await listRefs(s, candidates);
    for (const fullRef of candidates) {
      const hit = refs.find((r) => r.ref === fullRef);
      if (hit) return { fullRef, commit: hit.peeled ?? hit.oid };
    }
    return undefined;
  }

  const refNotFound = (s: Session, ref: string) =>
    gitError('VALIDATION', 'ref_not_found', `branch or tag '${ref}' not found in ${s.url}`, s, {
      ref,
    });

  async function resolveDefault(s: Session): Promise<{ fullRef: string; commit: string }> {
    const refs = await listRefs(s, ['HEAD']);
    const head = refs.find((r) => r.ref === 'HEAD');
    if (!head) {
      throw gitError(
        'VALIDATION',
        'empty_repository',
        `the repository at ${s.url} has no default branch (is it empty?); set repo_branch`,
        s,
      );
    }
    return { fullRef: head.target ?? 'HEAD', commit: head.oid };
  }

  async function resolveRemote(url: string, ref: string | undefined, creds: GitCredentials) {
    const clean = assertRepoUrl(url);
    if (ref !== undefined) assertRefName(ref, 'ref');
    const s = listingSession(clean, creds);
    const started = performance.now();
    try {
      if (ref && FULL_SHA.test(ref)) return { ref, commit: ref.toLowerCase() };
      const found = ref ? await lookupRef(s, ref) : await resolveDefault(s);
      if (!found) throw refNotFound(s, ref ?? 'HEAD');
      logger.debug('resolved remote ref', {
        url: clean,
        ref: found.fullRef,
        commit: found.commit,
        ms: Math.round(performance.now() - started),
      });
      return { ref: found.fullRef, commit: found.commit };
    } catch (error) {
      throw appError(error, s);
    }
  }

  async function planTarget(s: Session, ref: string | undefined): Promise<Target> {
    if (ref && FULL_SHA.test(ref)) return { kind: 'commit', commit: ref.toLowerCase() };
    const found = ref ? await lookupRef(s, ref) : await resolveDefault(s);
    if (found) return { kind: 'ref', ...found };
    // Branch and tag names win; a short sha can only be found in the full history.
    if (ref && SHORT_SHA.test(ref)) return { kind: 'short', prefix: ref.toLowerCase() };
    throw refNotFound(s, ref ?? 'HEAD');
  }

  async function checkoutWithStats(
    url: string,
    ref: string | undefined,
    dir: string,
    creds: GitCredentials,
    opts: { sparse?: string[] | undefined } = {},
  ): Promise<GitCheckout & CheckoutStats> {
    const clean = assertRepoUrl(url);
    if (ref !== undefined) assertRefName(ref, 'ref');
    const workDir = resolve(dir);
    const s = session(clean, creds);
    const previous = locks.get(workDir) ?? Promise.resolve();
    const run = previous
      .catch(() => {})
      .then(async () => {
        const started = performance.now();
        try {
          const result = await checkoutLocked(s, ref, workDir, opts.sparse ?? []);
          logger.info('git checkout', {
            url: clean,
            ref: ref ?? 'HEAD',
            commit: result.commit,
            reused: result.reused,
            fetched: result.fetched,
            files: result.files,
            bytes: result.bytes,
            ms: Math.round(performance.now() - started),
          });
          return result;
        } catch (error) {
          const failure = appError(error, s);
          logger.warn('git checkout failed', { url: clean, ref: ref ?? 'HEAD', error: failure });
          throw failure;
        }
      });
    locks.set(workDir, run);
    try {
      return await run;
    } finally {
      if (locks.get(workDir) === run) locks.delete(workDir);
    }
  }

  async function checkoutLocked(
    s: Session,
    ref: string | undefined,
    dir: string,
    sparse: string[],
  ): Promise<GitCheckout & CheckoutStats> {
    const target = await planTarget(s, ref);
    await mkdir(dir, { recursive: true });
    if (options.cli && !cliMissing && target.kind !== 'short') {
      const done = await cliCheckout(options.cli, {
        url: s.url,
        commit: target.commit,
        want: target.kind === 'ref' ? target.fullRef : target.commit,
        dir,
        authorization: s.basic,
        sparse,
        limits,
        timeoutMs: timeout * 10,
        ctx: s,
      }).catch((error: unknown) => {
        // The CommandRunner rejects only when the program cannot start: no git here.
        const e = error as { code?: string; message?: string };
        if (isAppError(error) || !(e.code === 'ENOENT' || /spawn .*ENOENT/.test(e.message ?? '')))
          throw error;
        cliMissing = true;
        logger.warn('the git CLI cannot be started; checking out with isomorphic-git', {
          error,
        });
        return undefined;
      });
      if (done)
        return {
          dir,
          commit: target.commit,
          deepFetch: false,
          ...done,
          sparse: sparse.length ? sparse : undefined,
        };
    }
    // Files the old commit tracked: those missing from the new one are removed after
    // checkout, even when .git had to be recreated in between.
    const tracked = await trackedFiles(dir);
    const reused = await usableClone(dir, s.url);
    if (!reused) await initClone(dir, s.url);
    const fetchAndCheckout = async () => {
      const result = await fetchTarget(s, dir, target);
      const cache = {};
      // Read from the objects alone: a commit over a limit leaves the work tree as it was.
      const tree = await assertTreeWithinLimits({
        dir,
        commit: result.commit,
        limits,
        ctx: s,
        cache,
      });
      await resetWorkTree(dir, result.commit, tracked, cache);
      return { ...result, ...tree };
    };
    try {
      const result = await fetchAndCheckout();
      // A full fetch starts from an empty object store: nothing of the old clone was kept.
      return { dir, reused: reused && !result.deepFetch, ...result };
    } catch (error) {
      // A damaged clone is worth one fresh try; a remote refusal or a limit is not.
      if (!reused || isRemoteFailure(error, s)) throw error;
      logger.warn('git clone unusable, cloning again', { url: s.url, error: appError(error, s) });
      await initClone(dir, s.url);
      return { dir, reused: false, ...(await fetchAndCheckout()) };
    }
  }

  async function fetchTarget(
    s: Session,
    dir: string,
    target: Target,
  ): Promise<{ commit: string; fetched: boolean; deepFetch: boolean }> {
    const cache = {};
    if (target.kind !== 'short' && (await hasCommit(dir, target.commit, cache))) {
      return { commit: target.commit, fetched: false, deepFetch: false };
    }
    if (target.kind === 'ref') {
      const { fetchHead } = await shallowFetch(s, dir, cache, target.fullRef);
      if (!fetchHead) throw gitError('VALIDATION', 'empty_repository', `${s.url} is empty`, s);
      return { commit: await peel(dir, fetchHead, cache), fetched: true, deepFetch: false };
    }
    if (target.kind === 'commit') {
      try {
        await shallowFetch(s, dir, cache, target.commit);
        if (await hasCommit(dir, target.commit, cache)) {
          return { commit: target.commit, fetched: true, deepFetch: false };
        }
      } catch (error) {
        if (isRemoteFailure(error, s)) throw error;
        // Servers without uploadpack.allowReachableSHA1InWant refuse a want by sha.
        logger.debug('fetch by sha refused, fetching full history', {
          url: s.url,
          error: appError(error, s),
        });
      }
    }
    return deepFetch(s, dir, target);
  }

  /** Depth-1 fetch of one ref or commit into an existing clone. */
  function shallowFetch(s: Session, dir: string, cache: object, remoteRef: string) {
    return git.fetch({
      fs,
      http: s.http,
      dir,
      cache,
      url: s.url,
      // Local 'HEAD' makes the current commit the "have", so only new objects come.
      ref: 'HEAD',
      remoteRef,
      singleBranch: true,
      depth: 1,
      tags: false,
      ...s.auth,
    });
  }

  /** Full history of every branch and tag, for a commit the server won't serve by sha. */
  async function deepFetch(
    s: Session,
    dir: string,
    target: Target,
  ): Promise<{ commit: string; fetched: boolean; deepFetch: boolean }> {
    // A shallow clone would keep its boundaries: start from an empty object store.
    await initClone(dir, s.url);
    const cache = {};
    await git.fetch({
      fs,
      http: s.http,
      dir,
      cache,
      url: s.url,
      ref: 'HEAD',
      remoteRef: 'HEAD',
      singleBranch: false,
      tags: true,
      ...s.auth,
    });
    const wanted =
      target.kind === 'short' ? target.prefix : target.kind === 'commit' ? target.commit : '';
    let commit: string | undefined;
    try {
      commit = await git.expandOid({ fs, dir, cache, oid: wanted });
      commit = await peel(dir, commit, cache);
    } catch {
      commit = undefined;
    }
    if (!commit || !(await hasCommit(dir, commit, cache))) {
      throw gitError('VALIDATION', 'ref_not_found', `commit ${wanted} not found in ${s.url}`, s, {
        ref: wanted,
      });
    }
    return { commit, fetched: true, deepFetch: true };
  }

  async function usableClone(dir: string, url: string): Promise<boolean> {
    try {
      const origin = await git.getConfig({ fs, dir, path: 'remote.origin.url' });
      if (origin !== url) return false;
      const packs = await readdir(join(dir, '.git', 'objects', 'pack'));
      return packs.filter((f) => f.endsWith('.pack')).length <= maxPacks;
    } catch {
      return false;
    }
  }

  async function initClone(dir: string, url: string): Promise<void> {
    // Only .git is ours to delete: the work tree may hold files the stack's containers
    // wrote through bind mounts, and tracked files are replaced by the checkout anyway.
    await rm(join(dir, '.git'), { recursive: true, force: true });
    await git.init({ fs, dir, defaultBranch: 'main' });
    // The URL without credentials: they are given per request through onAuth only.
    await git.setConfig({ fs, dir, path: 'remote.origin.url', value: url });
    // isomorphic-git refuses to fetch into a remote without a refspec.
    await git.setConfig({
      fs,
      dir,
      path: 'remote.origin.fetch',
      value: '+refs/heads/*:refs/remotes/origin/*',
    });
  }

  async function trackedFiles(dir: string): Promise<string[]> {
    try {
      return await git.listFiles({ fs, dir });
    } catch {
      return [];
    }
  }

  /** `git reset --hard <commit>`: tracked files as in the commit, untracked files left alone. */
  async function resetWorkTree(
    dir: string,
    commit: string,
    before: string[],
    cache: object,
  ): Promise<void> {
    await git.checkout({ fs, dir, cache, ref: commit, force: true });
    const now = new Set(await git.listFiles({ fs, dir, cache, ref: commit }));
    for (const file of before) {
      if (!now.has(file)) await removeStale(dir, file);
    }
  }

  function isRemoteFailure(error: unknown, s: Session): boolean {
    return appError(error, s).code !== 'INTERNAL';
  }

  /** The AppError for what went wrong, preferring the transport's own (a limit) over its fallout. */
  function appError(error: unknown, s: Session): AppError {
    return s.http.failure ?? toGitError(error, s);
  }

  return {
    resolveRemote,
    checkoutWithStats,
    async checkout(url, ref, dir, creds, opts) {
      const res = await checkoutWithStats(url, ref, dir, creds, opts);
      return { commit: res.commit, dir: res.dir, sparse: res.sparse };
    },
  };
}

async function hasCommit(dir: string, oid: string, cache: object): Promise<boolean> {
  try {
    await git.readCommit({ fs, dir, oid, cache });
    return true;
  } catch {
    return false;
  }
}

/** The commit an annotated tag (or a chain of them) points at. */
async function peel(dir: string, oid: string, cache: object): Promise<string> {
  let current = oid;
  for (let depth = 0; depth < 10; depth++) {
    const { type, object } = await git.readObject({ fs, dir, oid: current, cache });
    if (type !== 'tag') return current;
    current = (object as { object: string }).object;
  }
  return current;
}

/** Removes a file the new commit no longer has, without following symlinks out of the tree. */
async function removeStale(dir: string, file: string): Promise<void> {
  const root = await realpath(dir);
  let parent: string | undefined;
  try {
    parent = dirname(file) === '.' ? root : await resolveInside(root, dirname(file));
  } catch {
    return;
  }
  // A parent reached through a symlink is not the directory git meant: leave it be.
  if (!parent || parent !== resolve(root, dirname(file))) return;
  const path = join(parent, file.split('/').pop() ?? '');
  const stat = await lstat(path).catch(() => undefined);
  if (stat?.isDirectory()) return;
  if (stat) await unlink(path);
  // Leave no empty directories behind, like git does.
  for (let d = dirname(file); d !== '.'; d = dirname(d)) {
    try {
      await rmdir(join(root, d));
    } catch {
      break;
    }
  }
}
