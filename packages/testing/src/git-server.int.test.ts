import * as fs from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gitRepoStore, startGitServer, type TestGitServer } from './index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sdtest-clone-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the global git server', () => {
  const server = inject('gitServer');
  const store = gitRepoStore(server);
  const onAuth = () => ({ username: server.username, password: server.password });

  it('clones over smart HTTP with the right credentials', async () => {
    const repo = await store.createRepo('clone-ok', {
      'compose.yaml': 'services: {}\n',
      'a/b.txt': 'b',
    });
    const dir = await tempDir();
    await git.clone({ fs, http, dir, url: repo.url, onAuth, singleBranch: true, depth: 1 });
    expect(await readFile(join(dir, 'compose.yaml'), 'utf8')).toBe('services: {}\n');
    expect(await readFile(join(dir, 'a/b.txt'), 'utf8')).toBe('b');
    expect(await git.resolveRef({ fs, dir, ref: 'HEAD' })).toBe(await repo.headCommit());
  });

  it('answers 401 without credentials or with a wrong password', async () => {
    const repo = await store.createRepo('clone-denied', { 'x.txt': 'x' });
    const noAuth = git.clone({ fs, http, dir: await tempDir(), url: repo.url });
    await expect(noAuth).rejects.toMatchObject({ code: 'HttpError', data: { statusCode: 401 } });
    const wrong = git.clone({
      fs,
      http,
      dir: await tempDir(),
      url: repo.url,
      onAuth: () => ({ username: server.username, password: 'wrong' }),
      // Without this, isomorphic-git would ask onAuth again forever.
      onAuthFailure: () => ({ cancel: true }),
    });
    await expect(wrong).rejects.toThrow(/401|cancel/i);
  });

  it('shows commits, branches and removals made by the harness to listServerRefs', async () => {
    const repo = await store.createRepo('refs', { 'app.txt': 'one', 'old.txt': 'old' });
    const first = await repo.headCommit();
    const second = await repo.commit({ 'app.txt': 'two' }, 'second');
    expect(second).not.toBe(first);
    const feature = await repo.createBranch('feature');
    expect(feature).toBe(second);
    const removed = await repo.removeFile('old.txt');

    const refs = await git.listServerRefs({ http, url: repo.url, onAuth, prefix: 'refs/heads/' });
    const byName = Object.fromEntries(refs.map((ref) => [ref.ref, ref.oid]));
    expect(byName).toEqual({ 'refs/heads/main': removed, 'refs/heads/feature': second });

    const dir = await tempDir();
    await git.clone({ fs, http, dir, url: repo.url, onAuth, ref: 'main', singleBranch: true });
    expect(await readFile(join(dir, 'app.txt'), 'utf8')).toBe('two');
    expect(fs.existsSync(join(dir, 'old.txt'))).toBe(false);
  });

  it('accepts pushes over HTTP', async () => {
    const repo = await store.createRepo('push', { 'a.txt': 'a' });
    const dir = await tempDir();
    await git.clone({ fs, http, dir, url: repo.url, onAuth });
    await writeFile(join(dir, 'a.txt'), 'pushed');
    await git.add({ fs, dir, filepath: 'a.txt' });
    const sha = await git.commit({
      fs,
      dir,
      message: 'push',
      author: { name: 't', email: 't@t.invalid' },
    });
    const result = await git.push({ fs, http, dir, url: repo.url, onAuth, ref: 'main' });
    expect(result.ok).toBe(true);
    expect(await repo.headCommit()).toBe(sha);
  });
});

describe('a git server of its own', () => {
  let server: TestGitServer;
  beforeAll(async () => {
    server = await startGitServer({ username: 'u', password: 'p' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('stops serving and comes back on the same port', async () => {
    const repo = await server.createRepo('restart', { 'a.txt': 'a' }, { branch: 'trunk' });
    const onAuth = () => ({ username: 'u', password: 'p' });
    const list = () => git.listServerRefs({ http, url: repo.url, onAuth, prefix: 'refs/heads/' });
    expect((await list()).map((ref) => ref.ref)).toEqual(['refs/heads/trunk']);

    await server.stop();
    expect(server.running).toBe(false);
    await expect(list()).rejects.toThrow(/ECONNREFUSED|fetch failed|socket/i);

    const sha = await repo.commit({ 'a.txt': 'offline change' });
    await server.start();
    expect(server.running).toBe(true);
    expect(await list()).toEqual([{ ref: 'refs/heads/trunk', oid: sha }]);
    expect(server.requestCount).toBeGreaterThanOrEqual(2);
  });
});
