import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AppError, createRedactor } from '@simpledeploy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { assertTreeWithinLimits, type CheckoutLimits, formatBytes } from './limits';

const URL = 'https://git.example.com/acme/app.git';
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A repository with one commit of `files`; its work tree is deleted so only objects remain. */
async function repoWith(files: Record<string, string>, links: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sd-limits-'));
  dirs.push(dir);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV })
      .toString()
      .trim();
  git('init', '--quiet');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  for (const [path, target] of Object.entries(links)) await symlink(target, join(dir, path));
  git('add', '-A');
  git('commit', '--quiet', '-m', 'fixture');
  const commit = git('rev-parse', 'HEAD');
  // The walk must work from the objects alone, as between a fetch and the checkout.
  for (const path of [...Object.keys(files), ...Object.keys(links)]) {
    await rm(join(dir, path.split('/')[0] ?? path), { recursive: true, force: true });
  }
  return { dir, commit };
}

const roomy: CheckoutLimits = {
  maxFiles: 1000,
  maxBytes: 1024 * 1024,
  maxDepth: 10,
  maxDownloadBytes: 1024 * 1024,
};

async function check(repo: { dir: string; commit: string }, limits: Partial<CheckoutLimits>) {
  return assertTreeWithinLimits({
    ...repo,
    limits: { ...roomy, ...limits },
    ctx: { url: URL, redact: createRedactor([]) },
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('assertTreeWithinLimits', () => {
  it('counts every file of the commit, symlinks and repeated contents included', async () => {
    const repo = await repoWith(
      { 'compose.yaml': 'services: {}\n', 'a/b/one.txt': 'same', 'a/two.txt': 'same' },
      { 'link.txt': 'a/two.txt' },
    );
    expect(await check(repo, {})).toEqual({
      files: 4,
      bytes: 'services: {}\n'.length + 4 + 4 + 'a/two.txt'.length,
    });
    // Exactly at every limit still fits.
    expect(await check(repo, { maxFiles: 4, maxBytes: 30, maxDepth: 3 })).toEqual({
      files: 4,
      bytes: 30,
    });
  });

  it('refuses more files than maxFiles, saying the limit and what to do', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`dir${i % 2}/f${i}.txt`] = String(i);
    const repo = await repoWith(files);
    const error = await rejection(check(repo, { maxFiles: 5 }));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toBe(
      `the repository ${URL} at ${repo.commit.slice(0, 12)} has more than 5 files, the limit for a checkout (maxFiles); keep the stack's compose files in a smaller repository and point repo_url at it`,
    );
    expect(error.details).toMatchObject({
      reason: 'too_large',
      limit: 'maxFiles',
      value: 5,
      commit: repo.commit,
      url: URL,
    });
  });

  it('refuses files that add up to more than maxBytes', async () => {
    const repo = await repoWith({ 'a.bin': 'x'.repeat(1500), 'b.bin': 'y'.repeat(1500) });
    const error = await rejection(check(repo, { maxBytes: 2048 }));
    expect(error.message).toBe(
      `the files of the repository ${URL} at ${repo.commit.slice(0, 12)} add up to more than 2 KiB, the limit for a checkout (maxBytes); keep the stack's compose files in a smaller repository and point repo_url at it`,
    );
    expect(error.details).toMatchObject({ limit: 'maxBytes', value: 2048 });
  });

  it('refuses paths nested deeper than maxDepth and names one', async () => {
    const repo = await repoWith({ 'ok.txt': '1', 'a/b/c/d.txt': '2' });
    expect(await check(repo, { maxDepth: 4 })).toMatchObject({ files: 2 });
    const error = await rejection(check(repo, { maxDepth: 3 }));
    expect(error.message).toBe(
      `the repository ${URL} at ${repo.commit.slice(0, 12)} nests paths more than 3 levels deep (a/b/c/d.txt), the limit for a checkout (maxDepth); keep the stack's compose files in a smaller repository and point repo_url at it`,
    );
    expect(error.details).toMatchObject({ limit: 'maxDepth', value: 3, path: 'a/b/c/d.txt' });
  });
});

describe('formatBytes', () => {
  it('speaks in bytes, KiB or MiB', () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(100 * 1024 * 1024)]).toEqual([
      '512 bytes',
      '2 KiB',
      '100 MiB',
    ]);
  });
});
