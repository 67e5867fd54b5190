import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner } from '@simpledeploy/core';
import { gitRepoStore, run, startRedirectingServer } from '@simpledeploy/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createGitClient } from './client';
import { resolveGitSource } from './source';

const server = inject('gitServer');
const store = gitRepoStore(server);
const creds = { username: server.username, token: server.password };

/** The real git CLI, recording every argv it is given. */
const calls: { args: readonly string[]; env: Record<string, string> }[] = [];
const runner: CommandRunner = {
  async run(file, args, options = {}) {
    const env = { ...(options.env ?? {}) } as Record<string, string>;
    calls.push({ args, env });
    const res = await run(file, args, { env, ...(options.cwd ? { cwd: options.cwd } : {}) });
    return { ...res, aborted: false };
  },
};
const cli = { runner, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
const git = createGitClient({ cli, requestTimeoutMs: 10_000 });

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'sd-git-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A repository with its compose in deploy/ and 50 files elsewhere. */
async function monorepo(extra: Record<string, string> = {}) {
  const files: Record<string, string> = {
    'deploy/compose.yaml': 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n',
    'deploy/config/app.conf': 'a=1\n',
    '.env': 'TAG=v1\n',
    ...extra,
  };
  for (let i = 0; i < 50; i++) files[`app/src/file-${i}.txt`] = `content ${i}\n`;
  return store.createRepo(`git-cli-${randomBytes(4).toString('hex')}`, files);
}

describe('checkout with the git CLI', () => {
  it('checks out only the root files and the asked directory, credentials never in argv or .git/config', async () => {
    const repo = await monorepo();
    const dir = await tempDir();
    calls.length = 0;
    const res = await git.checkoutWithStats(repo.url, 'main', dir, creds, { sparse: ['deploy'] });
    expect(res).toMatchObject({ commit: await repo.headCommit(), reused: false, fetched: true });
    expect(res.sparse).toEqual(['deploy']);
    expect(await readFile(join(dir, 'deploy/compose.yaml'), 'utf8')).toContain('web:v1');
    expect(existsSync(join(dir, 'deploy/config/app.conf'))).toBe(true);
    expect(existsSync(join(dir, '.env'))).toBe(true);
    expect(existsSync(join(dir, 'app'))).toBe(false);
    for (const c of calls) expect(c.args.join(' ')).not.toContain(server.password);
    expect(await readFile(join(dir, '.git/config'), 'utf8')).not.toContain(server.password);
    // Redirects are not followed and only http(s) is allowed.
    expect(calls[0]?.env).toMatchObject({
      GIT_ALLOW_PROTOCOL: 'http:https',
      GIT_TERMINAL_PROMPT: '0',
    });
    expect(Object.entries(calls[0]?.env ?? {})).toContainEqual(['GIT_CONFIG_VALUE_0', 'false']);
  });

  it('fetches into the same clone on the next checkout, only what changed', async () => {
    const repo = await monorepo();
    const dir = await tempDir();
    await git.checkoutWithStats(repo.url, 'main', dir, creds, { sparse: ['deploy'] });
    const again = await git.checkoutWithStats(repo.url, 'main', dir, creds, { sparse: ['deploy'] });
    expect(again).toMatchObject({ reused: true, fetched: false });
    const next = await repo.commit({
      'deploy/compose.yaml': 'services:\n  web:\n    image: w:v2\n',
    });
    const moved = await git.checkoutWithStats(repo.url, 'main', dir, creds, { sparse: ['deploy'] });
    expect(moved).toMatchObject({ commit: next, reused: true, fetched: true });
    expect(await readFile(join(dir, 'deploy/compose.yaml'), 'utf8')).toContain('w:v2');
    expect(existsSync(join(dir, 'app'))).toBe(false);
  });

  it('checks out the whole tree without sparse directories, and a tag', async () => {
    const repo = await monorepo();
    const dir = await tempDir();
    const res = await git.checkoutWithStats(repo.url, undefined, dir, creds);
    expect(res.sparse).toBeUndefined();
    expect(existsSync(join(dir, 'app/src/file-7.txt'))).toBe(true);
  });

  it('says so when the credentials are wrong, without them in the message', async () => {
    const repo = await monorepo();
    const error = await git
      .checkout(repo.url, 'main', await tempDir(), {
        username: server.username,
        token: 'nope-123456',
      })
      .catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ details: { reason: 'auth_failed' } });
    expect((error as Error).message).not.toContain('nope-123456');
  });

  it('refuses the file limit before writing a file', async () => {
    const repo = await monorepo();
    const dir = await tempDir();
    const small = createGitClient({ cli, limits: { maxFiles: 10 } });
    const error = await small
      .checkout(repo.url, 'main', dir, creds)
      .catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ details: { reason: 'too_large', limit: 'maxFiles' } });
    expect(existsSync(join(dir, 'deploy'))).toBe(false);
  });

  it('refuses a redirect to another origin before git runs (the ref listing sees it first)', async () => {
    const repo = await monorepo();
    const redirecting = await startRedirectingServer({
      redirect: ({ path }) => ({
        status: 302,
        location: `${server.url}/${repo.name}.git${path.replace(/^\/x\.git/, '')}`,
      }),
    });
    try {
      calls.length = 0;
      const error = await git
        .checkout(`${redirecting.url}/x.git`, 'main', await tempDir(), creds)
        .catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ details: { reason: 'redirected' } });
      expect(calls.some((c) => c.args.includes('fetch'))).toBe(false);
    } finally {
      await redirecting.close();
    }
  });
});

describe('without git installed', () => {
  it('checks out the whole tree with isomorphic-git', async () => {
    const repo = await monorepo();
    const missing: CommandRunner = {
      async run() {
        throw Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT' });
      },
    };
    const fallback = createGitClient({ cli: { runner: missing, env: {} } });
    const dir = await tempDir();
    const res = await fallback.checkoutWithStats(repo.url, 'main', dir, creds, {
      sparse: ['deploy'],
    });
    expect(res.sparse).toBeUndefined();
    expect(existsSync(join(dir, 'app/src/file-1.txt'))).toBe(true);
  });
});

describe('resolveGitSource with a sparse checkout', () => {
  const stack = (url: string, extra: Record<string, unknown> = {}) => ({
    repoUrl: url,
    repoBranch: 'main',
    composePath: 'deploy/compose.yaml',
    credentials: creds,
    ...extra,
  });

  it("keeps the compose file's directory and the root's files in the version", async () => {
    const repo = await monorepo();
    const src = await resolveGitSource({ git, stack: stack(repo.url), workDir: await tempDir() });
    expect(Object.keys(src.state.files).sort()).toEqual([
      '.env',
      'deploy/compose.yaml',
      'deploy/config/app.conf',
    ]);
    expect(src.state.composeFiles).toEqual(['deploy/compose.yaml']);
  });

  it('checks out the whole tree when the compose reaches out of its directory', async () => {
    const repo = await monorepo({
      'deploy/compose.yaml': 'services:\n  web:\n    build: ../app\n',
    });
    const src = await resolveGitSource({ git, stack: stack(repo.url), workDir: await tempDir() });
    expect(src.state.files['app/src/file-3.txt']).toBe('content 3\n');
  });
});
