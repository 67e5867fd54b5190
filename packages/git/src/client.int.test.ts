import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError, type LogFields, type Logger } from '@simpledeploy/core';
import {
  getFreePort,
  gitRepoStore,
  type RedirectingServer,
  type RepoFiles,
  runOk,
  startGitServer,
  startRedirectingServer,
  type TestGitServer,
  type TestRepo,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGitClient } from './client';
import { resolveGitSource } from './source';

const server = inject('gitServer');
const store = gitRepoStore(server);
const creds = { username: server.username, token: server.password };

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sd-git-int-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Repository names are unique per run: the global server is shared by every test file. */
const createRepo = (name: string, files: RepoFiles) =>
  store.createRepo(`git-client-${name}-${randomBytes(4).toString('hex')}`, files);

/** Tags with the git CLI: the harness has no tag helper. */
async function tag(repo: TestRepo, name: string, commit: string, annotated: boolean) {
  const args = annotated
    ? ['tag', '-a', name, '-m', `release ${name}`, commit]
    : ['tag', name, commit];
  await runOk('git', ['-C', repo.path, ...args], {
    env: {
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t.invalid',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  });
}

/** Captures what the client logs, to prove secrets stay out of it. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push(
      JSON.stringify({ level, msg, ...fields }, (_k, v) =>
        v instanceof Error ? { message: v.message, details: (v as AppError).details } : v,
      ),
    );
  };
  const logger: Logger & { lines: string[] } = {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('resolveRemote', () => {
  const git = createGitClient();

  it('finds the default branch and its commit when no ref is given', async () => {
    const repo = await createRepo('default', { 'compose.yaml': 'services: {}\n' });
    expect(await git.resolveRemote(repo.url, undefined, creds)).toEqual({
      ref: 'refs/heads/main',
      commit: await repo.headCommit(),
    });
  });

  it('resolves branches, and tags to the commit they point at', async () => {
    const repo = await createRepo('refs', { 'a.txt': 'a' });
    const first = await repo.headCommit();
    await repo.createBranch('main-old');
    const second = await repo.commit({ 'a.txt': 'b' }, 'second');
    await repo.createBranch('staging', first);
    await tag(repo, 'v1.0.0', first, true);
    await tag(repo, 'light', second, false);

    expect(await git.resolveRemote(repo.url, 'main', creds)).toEqual({
      ref: 'refs/heads/main',
      commit: second,
    });
    expect(await git.resolveRemote(repo.url, 'staging', creds)).toEqual({
      ref: 'refs/heads/staging',
      commit: first,
    });
    // Annotated: the commit, not the tag object.
    expect(await git.resolveRemote(repo.url, 'v1.0.0', creds)).toEqual({
      ref: 'refs/tags/v1.0.0',
      commit: first,
    });
    expect(await git.resolveRemote(repo.url, 'light', creds)).toEqual({
      ref: 'refs/tags/light',
      commit: second,
    });
    expect(await git.resolveRemote(repo.url, second, creds)).toEqual({
      ref: second,
      commit: second,
    });
  });

  it('says which branch is missing, without the credentials', async () => {
    const repo = await createRepo('missing-branch', { 'a.txt': 'a' });
    const error = await rejection(git.resolveRemote(repo.url, 'mai', creds));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toBe(`branch or tag 'mai' not found in ${repo.url}`);
  });

  it('refuses URLs that are not http(s) before any network access', async () => {
    for (const url of ['file:///etc', 'ssh://git@127.0.0.1/x.git', 'git@127.0.0.1:x.git']) {
      const error = await rejection(git.resolveRemote(url, undefined, creds));
      expect(error.message).toMatch(/^repo_url must be an http:\/\/ or https:\/\/ URL/);
    }
  });
});

describe('credentials and errors', () => {
  const logger = recordingLogger();
  const git = createGitClient({ logger });
  const wrongToken = `wrong-${randomBytes(8).toString('hex')}`;
  let repo: TestRepo;

  beforeAll(async () => {
    repo = await createRepo('auth', { 'compose.yaml': 'services: {}\n' });
  });

  it('says authentication failed for wrong credentials, without the token', async () => {
    const bad = { username: server.username, token: wrongToken };
    // Each started only when it is awaited: a listing refused while the next attempt's
    // directory was still being made was a rejection nobody handled yet (vitest fails the
    // run on it).
    for (const attempt of [
      () => git.resolveRemote(repo.url, 'main', bad),
      async () => git.checkout(repo.url, 'main', await tempDir(), bad),
    ]) {
      const error = await rejection(attempt());
      expect(error.message).toBe(
        `authentication failed for ${repo.url}: check repo_username and repo_token`,
      );
      expect(JSON.stringify({ m: error.message, d: error.details, s: error.stack })).not.toContain(
        wrongToken,
      );
    }
    expect(logger.lines.join('\n')).not.toContain(wrongToken);
    expect(logger.lines.join('\n')).not.toContain(server.password);
  });

  it('says authentication is required when the stack has no credentials', async () => {
    const error = await rejection(git.checkout(repo.url, undefined, await tempDir(), {}));
    expect(error.message).toBe(
      `authentication required for ${repo.url}: set repo_username and repo_token`,
    );
  });

  it('says the repository was not found', async () => {
    const error = await rejection(
      git.resolveRemote(
        `${server.url}/no-such-repo-${randomBytes(4).toString('hex')}.git`,
        'main',
        creds,
      ),
    );
    expect(error.message).toMatch(
      /^repository not found at http:\/\/127\.0\.0\.1:\d+\/no-such-repo/,
    );
  });

  it('says which host it cannot reach', async () => {
    const port = await getFreePort();
    const error = await rejection(
      git.checkout(`http://127.0.0.1:${port}/x.git`, 'main', await tempDir(), creds),
    );
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe(`cannot reach 127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('never writes the credentials into the clone', async () => {
    const dir = await tempDir();
    await git.checkout(repo.url, undefined, dir, creds);
    const config = await readFile(join(dir, '.git', 'config'), 'utf8');
    expect(config).toContain(`url = ${repo.url}`);
    expect(config).not.toContain(server.password);
    expect(logger.lines.join('\n')).not.toContain(server.password);
  });
});

describe('redirects', () => {
  const git = createGitClient();
  const servers: RedirectingServer[] = [];
  const start = async (...args: Parameters<typeof startRedirectingServer>) => {
    const started = await startRedirectingServer(...args);
    servers.push(started);
    return started;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** The origin that must never see credentials: it asks for them with a 401. */
  const elsewhere = () => start();
  const refusal = (from: RedirectingServer, to: RedirectingServer) =>
    `the git server at ${from.url} redirects to ${to.url}, another origin; credentials are only sent to the origin of repo_url: if the repository moved there, set repo_url to its address on ${to.url}`;

  for (const status of [301, 302, 307, 308]) {
    it(`keeps the credentials from another port that the ref discovery is sent to with a ${status}`, async () => {
      const repo = await createRepo(`redirect-discovery-${status}`, { 'a.txt': 'a' });
      const target = await elsewhere();
      const front = await start({
        redirect: ({ path }) => ({ status, location: `${target.url}${path}` }),
      });
      const url = `${front.url}/${repo.name}.git`;
      const expected = refusal(front, target);
      expect((await rejection(git.resolveRemote(url, 'main', creds))).message).toBe(expected);
      const dir = await tempDir();
      expect((await rejection(git.checkout(url, 'main', dir, creds))).message).toBe(expected);
      // The credentials went up front to the first server, never to the second one.
      expect(front.requests[0]).toMatchObject({
        path: `/${repo.name}.git/info/refs?service=git-upload-pack`,
        authorization: true,
      });
      expect(target.requests.filter((r) => r.authorization)).toEqual([]);
      expect(await readdir(dir)).toEqual([]);
    });

    it(`keeps the credentials from another port that the upload-pack POST is sent to with a ${status}`, async () => {
      const repo = await createRepo(`redirect-post-${status}`, { 'a.txt': 'a' });
      const target = await elsewhere();
      // Discovery passes through to the git server; only the fetch itself is redirected.
      const front = await start({
        upstream: server.url,
        redirect: ({ method, path }) =>
          method === 'POST' ? { status, location: `${target.url}${path}` } : undefined,
      });
      const url = `${front.url}/${repo.name}.git`;
      const dir = await tempDir();
      expect((await rejection(git.checkout(url, 'main', dir, creds))).message).toBe(
        refusal(front, target),
      );
      expect(front.requests).toContainEqual({
        method: 'POST',
        path: `/${repo.name}.git/git-upload-pack`,
        authorization: true,
      });
      expect(target.requests.filter((r) => r.authorization)).toEqual([]);
      expect(existsSync(join(dir, 'a.txt'))).toBe(false);
    });
  }

  it('follows redirects within the origin, discovery and upload-pack alike', async () => {
    const repo = await createRepo('redirect-same-origin', { 'a.txt': 'moved' });
    const front = await start({
      upstream: server.url,
      // Like a renamed repository: the old path answers with the new one.
      redirect: ({ method, path }) =>
        path.startsWith('/old/')
          ? { status: method === 'POST' ? 307 : 301, location: path.slice('/old'.length) }
          : undefined,
    });
    const dir = await tempDir();
    const result = await git.checkout(`${front.url}/old/${repo.name}.git`, 'main', dir, creds);
    expect(result.commit).toBe(await repo.headCommit());
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('moved');
    const redirected = front.requests.filter((r) => r.path.startsWith('/old/'));
    expect(redirected.map((r) => r.method)).toContain('POST');
    expect(redirected.map((r) => r.method)).toContain('GET');
  });
});

describe('checkout', () => {
  const git = createGitClient();

  it('makes a shallow checkout of the default branch', async () => {
    const repo = await createRepo('shallow', { 'compose.yaml': 'services: {}\n', 'a/b.txt': 'b' });
    const head = await repo.commit({ 'a/b.txt': 'b2' });
    const dir = await tempDir();
    const result = await git.checkoutWithStats(repo.url, undefined, dir, creds);
    expect(result).toMatchObject({ commit: head, dir, reused: false, fetched: true });
    expect(await readFile(join(dir, 'a/b.txt'), 'utf8')).toBe('b2');
    // Depth 1: the parent commit was not downloaded.
    expect((await readFile(join(dir, '.git', 'shallow'), 'utf8')).trim()).toBe(head);
  });

  it('checks out a tag, annotated or not, and a branch other than the default', async () => {
    const repo = await createRepo('tags', { 'v.txt': '1' });
    const one = await repo.headCommit();
    await tag(repo, 'v1', one, true);
    const two = await repo.commit({ 'v.txt': '2' });
    await tag(repo, 'v2-light', two, false);
    const three = await repo.commit({ 'v.txt': '3' }, 'on a branch', { branch: 'next' });
    await repo.commit({ 'v.txt': '4' });

    for (const [ref, commit, content] of [
      ['v1', one, '1'],
      ['v2-light', two, '2'],
      ['next', three, '3'],
    ] as const) {
      const dir = await tempDir();
      expect(await git.checkout(repo.url, ref, dir, creds)).toEqual({ commit, dir });
      expect(await readFile(join(dir, 'v.txt'), 'utf8')).toBe(content);
    }
  });

  it('checks out a commit by sha, also one that is no branch head', async () => {
    const repo = await createRepo('by-sha', { 'v.txt': '1' });
    const one = await repo.headCommit();
    await repo.commit({ 'v.txt': '2' });
    const dir = await tempDir();
    expect(await git.checkout(repo.url, one, dir, creds)).toEqual({ commit: one, dir });
    expect(await readFile(join(dir, 'v.txt'), 'utf8')).toBe('1');
  });

  it('finds a commit by short sha with a full fetch', async () => {
    const repo = await createRepo('short-sha', { 'v.txt': '1' });
    const one = await repo.headCommit();
    await repo.commit({ 'v.txt': '2' });
    const result = await git.checkoutWithStats(repo.url, one.slice(0, 10), await tempDir(), creds);
    expect(result).toMatchObject({ commit: one, deepFetch: true });
  });

  it('says so when a branch or commit does not exist', async () => {
    const repo = await createRepo('missing', { 'v.txt': '1' });
    expect((await rejection(git.checkout(repo.url, 'nope', await tempDir(), creds))).message).toBe(
      `branch or tag 'nope' not found in ${repo.url}`,
    );
    const sha = 'f'.repeat(40);
    expect((await rejection(git.checkout(repo.url, sha, await tempDir(), creds))).message).toBe(
      `commit ${sha} not found in ${repo.url}`,
    );
  });

  it('fetches into the existing clone after a new commit instead of cloning again', async () => {
    const repo = await createRepo('reuse', {
      'compose.yaml': 'services: {}\n',
      'old/config.txt': 'old',
      'keep.txt': 'v1',
    });
    const dir = await tempDir();
    const first = await git.checkoutWithStats(repo.url, 'main', dir, creds);
    expect(first.reused).toBe(false);
    const gitDirInode = (await stat(join(dir, '.git'))).ino;
    await writeFile(join(dir, '.git', 'sd-marker'), 'this clone');
    // What a container may write through a bind mount: git reset --hard keeps it.
    await writeFile(join(dir, 'data.db'), 'app data');
    // A tracked file changed in place is put back.
    await writeFile(join(dir, 'keep.txt'), 'edited on the host');

    await repo.removeFile('old/config.txt');
    const head = await repo.commit({ 'new.txt': 'new', 'keep.txt': 'v2' });
    const second = await git.checkoutWithStats(repo.url, 'main', dir, creds);
    expect(second).toMatchObject({ commit: head, reused: true, fetched: true });
    expect((await stat(join(dir, '.git'))).ino).toBe(gitDirInode);
    expect(await readFile(join(dir, '.git', 'sd-marker'), 'utf8')).toBe('this clone');
    expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('new');
    expect(await readFile(join(dir, 'keep.txt'), 'utf8')).toBe('v2');
    expect(existsSync(join(dir, 'old'))).toBe(false);
    expect(await readFile(join(dir, 'data.db'), 'utf8')).toBe('app data');
    const packs = (await readdir(join(dir, '.git', 'objects', 'pack'))).filter((f) =>
      f.endsWith('.pack'),
    );
    expect(packs).toHaveLength(2);

    // Nothing new upstream: nothing is downloaded.
    const third = await git.checkoutWithStats(repo.url, 'main', dir, creds);
    expect(third).toMatchObject({ commit: head, reused: true, fetched: false });

    // Going back to an older commit that the clone already has needs no fetch either.
    const back = await git.checkoutWithStats(repo.url, first.commit, dir, creds);
    expect(back).toMatchObject({ commit: first.commit, reused: true, fetched: false });
    expect(await readFile(join(dir, 'old/config.txt'), 'utf8')).toBe('old');
    expect(existsSync(join(dir, 'new.txt'))).toBe(false);
  });

  it('starts a new clone when the repository URL of the stack changed', async () => {
    const a = await createRepo('switch-a', { 'a.txt': 'a', 'shared.txt': 'a' });
    const b = await createRepo('switch-b', { 'b.txt': 'b', 'shared.txt': 'b' });
    const dir = await tempDir();
    await git.checkout(a.url, undefined, dir, creds);
    const result = await git.checkoutWithStats(b.url, undefined, dir, creds);
    expect(result).toMatchObject({ commit: await b.headCommit(), reused: false });
    expect(existsSync(join(dir, 'a.txt'))).toBe(false);
    expect(await readFile(join(dir, 'shared.txt'), 'utf8')).toBe('b');
  });

  it('clones afresh once the clone has gathered too many packfiles', async () => {
    const small = createGitClient({ maxPacks: 2 });
    const repo = await createRepo('packs', { 'n.txt': '0' });
    const dir = await tempDir();
    const reused: boolean[] = [];
    for (let i = 1; i <= 4; i++) {
      await repo.commit({ 'n.txt': String(i) });
      reused.push((await small.checkoutWithStats(repo.url, 'main', dir, creds)).reused);
    }
    expect(reused).toEqual([false, true, true, false]);
    expect(await readFile(join(dir, 'n.txt'), 'utf8')).toBe('4');
  });

  it('runs checkouts of the same directory one after the other', async () => {
    const repo = await createRepo('concurrent', { 'a.txt': 'a' });
    const dir = await tempDir();
    const results = await Promise.all([
      git.checkout(repo.url, 'main', dir, creds),
      git.checkout(repo.url, 'main', dir, creds),
      git.checkout(repo.url, 'main', dir, creds),
    ]);
    expect(new Set(results.map((r) => r.commit))).toEqual(new Set([await repo.headCommit()]));
  });
});

describe('checkout limits', () => {
  const entries = async (dir: string) => (await readdir(dir)).sort();

  it('refuses a repository with too many files before writing a working file', async () => {
    const files: RepoFiles = { 'compose.yaml': 'services: {}\n' };
    for (let i = 0; i < 12; i++) files[`conf/${i}.txt`] = String(i);
    const repo = await createRepo('limit-files', files);
    const dir = await tempDir();
    const error = await rejection(
      createGitClient({ limits: { maxFiles: 10 } }).checkout(repo.url, 'main', dir, creds),
    );
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toBe(
      `the repository ${repo.url} at ${(await repo.headCommit()).slice(0, 12)} has more than 10 files, the limit for a checkout (maxFiles); keep the stack's compose files in a smaller repository and point repo_url at it`,
    );
    // Fetched, never checked out: the clone holds the objects and nothing else was written.
    expect(await entries(dir)).toEqual(['.git']);
    expect(existsSync(join(dir, '.git', 'index'))).toBe(false);
  });

  it('refuses files that add up to more than maxBytes, and paths deeper than maxDepth', async () => {
    const big = await createRepo('limit-bytes', {
      'a.txt': 'a'.repeat(40_000),
      'b.txt': 'b'.repeat(40_000),
      'c.txt': 'c'.repeat(40_000),
    });
    const dir = await tempDir();
    const bytes = await rejection(
      createGitClient({ limits: { maxBytes: 100 * 1024 } }).checkout(big.url, 'main', dir, creds),
    );
    expect(bytes.message).toMatch(
      /add up to more than 100 KiB, the limit for a checkout \(maxBytes\)/,
    );
    expect(await entries(dir)).toEqual(['.git']);

    const deep = await createRepo('limit-depth', { 'a/b/c/d/e.txt': 'deep' });
    const deepDir = await tempDir();
    const depth = await rejection(
      createGitClient({ limits: { maxDepth: 4 } }).checkout(deep.url, 'main', deepDir, creds),
    );
    expect(depth.message).toMatch(/nests paths more than 4 levels deep \(a\/b\/c\/d\/e\.txt\)/);
    expect(await entries(deepDir)).toEqual(['.git']);
  });

  it('stops a download larger than maxDownloadBytes before writing the packfile', async () => {
    // Random text: the packfile cannot compress it below the limit.
    const repo = await createRepo('limit-download', {
      'blob.txt': randomBytes(300_000).toString('base64'),
    });
    const dir = await tempDir();
    const logger = recordingLogger();
    const error = await rejection(
      createGitClient({ logger, limits: { maxDownloadBytes: 64 * 1024 } }).checkout(
        repo.url,
        'main',
        dir,
        creds,
      ),
    );
    expect(error.message).toBe(
      `the git server sent more than 64 KiB for ${repo.url}, the limit for one download (maxDownloadBytes); keep the stack's compose files in a smaller repository and point repo_url at it`,
    );
    expect(error.details).toMatchObject({ limit: 'maxDownloadBytes', value: 64 * 1024 });
    expect(await readdir(join(dir, '.git', 'objects', 'pack'))).toEqual([]);
    expect(await entries(dir)).toEqual(['.git']);
    // A limit is no damaged clone: no second download was tried.
    expect(logger.lines.join('\n')).not.toContain('cloning again');
  });

  it('leaves the previous checkout in place when the new commit is over a limit', async () => {
    const repo = await createRepo('limit-update', { 'compose.yaml': 'v1', 'old.txt': 'old' });
    const git = createGitClient({ limits: { maxFiles: 5 } });
    const dir = await tempDir();
    const first = await git.checkoutWithStats(repo.url, 'main', dir, creds);
    expect(first).toMatchObject({ files: 2, bytes: 5 });

    const more: RepoFiles = { 'compose.yaml': 'v2', 'old.txt': null };
    for (let i = 0; i < 6; i++) more[`new/${i}.txt`] = String(i);
    await repo.commit(more);
    await rejection(git.checkout(repo.url, 'main', dir, creds));
    expect(await entries(dir)).toEqual(['.git', 'compose.yaml', 'old.txt']);
    expect(await readFile(join(dir, 'compose.yaml'), 'utf8')).toBe('v1');

    // The clone is still usable: with room for the files, the same commit checks out.
    const roomier = await createGitClient({ limits: { maxFiles: 10 } }).checkoutWithStats(
      repo.url,
      'main',
      dir,
      creds,
    );
    expect(roomier).toMatchObject({ commit: await repo.headCommit(), reused: true, files: 7 });
    expect(existsSync(join(dir, 'old.txt'))).toBe(false);
    expect(await readFile(join(dir, 'new/5.txt'), 'utf8')).toBe('5');
  });
});

describe('resolveGitSource against the git server', () => {
  // Compose interpolation syntax, not a JavaScript template.
  const compose = ['services:', '  web:', '    image: $' + '{IMAGE}', ''].join('\n');

  it('turns a branch into the desired state of a deploy', async () => {
    const repo = await createRepo('source', {
      'deploy/compose.yaml': compose,
      'deploy/.env': 'IMAGE=127.0.0.1:5000/web:v1\n',
      'README.md': 'docs\n',
    });
    const source = await resolveGitSource({
      git: createGitClient(),
      stack: {
        repoUrl: repo.url,
        composePath: 'deploy/compose.yaml',
        composeVariables: { IMAGE: '127.0.0.1:5000/web:v2' },
        serviceFilter: ['web'],
        credentials: creds,
      },
      workDir: await tempDir(),
    });
    expect(source.commit).toBe(await repo.headCommit());
    expect(source.state).toEqual({
      composeFiles: ['deploy/compose.yaml'],
      envFile: 'deploy/.env',
      variables: { IMAGE: '127.0.0.1:5000/web:v2' },
      services: ['web'],
      files: {
        'README.md': 'docs\n',
        'deploy/.env': 'IMAGE=127.0.0.1:5000/web:v1\n',
        'deploy/compose.yaml': compose,
      },
    });
  });
});

describe('a server that only knows the token', () => {
  let tokenServer: TestGitServer;
  beforeAll(async () => {
    tokenServer = await startGitServer({ username: 'x-access-token', password: 'tok-only-1234' });
  });
  afterAll(async () => {
    await tokenServer.close();
  });

  it('sends the token with a default username when repo_username is empty', async () => {
    const repo = await tokenServer.createRepo('token', { 'a.txt': 'a' });
    expect(
      await createGitClient().resolveRemote(repo.url, undefined, { token: 'tok-only-1234' }),
    ).toMatchObject({ commit: await repo.headCommit() });
  });

  it('lists refs without cloning in a handful of requests', async () => {
    const repo = await tokenServer.createRepo('cheap', { 'a.txt': 'a' });
    const before = tokenServer.requestCount;
    await createGitClient().resolveRemote(repo.url, 'main', { token: 'tok-only-1234' });
    // Credentials go with the first request (no 401 round-trip): the ref advertisement
    // (v2 capabilities) and ls-refs, no upload-pack.
    expect(tokenServer.requestCount - before).toBe(2);
  });
});
