import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GitClient, GitCredentials } from '@simpledeploy/core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveGitSource } from './source';

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

interface Fixture {
  files?: Record<string, string | Buffer>;
  /** Link path → target, committed as symlinks. */
  links?: Record<string, string>;
  /** Written to the work tree after the commit, so not tracked. */
  untracked?: Record<string, string>;
}

/** A real work tree with one commit, standing in for what GitClient.checkout produced. */
async function workTree({ files = {}, links = {}, untracked = {} }: Fixture) {
  const base = await mkdtemp(join(tmpdir(), 'sd-source-'));
  dirs.push(base);
  const dir = join(base, 'repo');
  await mkdir(dir);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV })
      .toString()
      .trim();
  git('init', '--quiet');
  const write = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  };
  for (const [path, content] of Object.entries(files)) await write(path, content);
  for (const [path, target] of Object.entries(links)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await symlink(target, join(dir, path));
  }
  git('add', '-A');
  git('commit', '--quiet', '--allow-empty', '-m', 'fixture');
  for (const [path, content] of Object.entries(untracked)) await write(path, content);
  return { base, dir, commit: git('rev-parse', 'HEAD') };
}

function fakeGit(dir: string, commit: string) {
  const calls: Array<{ url: string; ref: string | undefined; dir: string; creds: GitCredentials }> =
    [];
  const client: GitClient = {
    resolveRemote: async () => ({ ref: 'refs/heads/main', commit }),
    checkout: async (url, ref, workDir, creds) => {
      calls.push({ url, ref, dir: workDir, creds });
      return { commit, dir };
    },
  };
  return { client, calls };
}

async function resolveFixture(
  fixture: Fixture,
  stack: Partial<Parameters<typeof resolveGitSource>[0]['stack']> = {},
  extra: Partial<Parameters<typeof resolveGitSource>[0]> = {},
) {
  const tree = await workTree(fixture);
  const { client, calls } = fakeGit(tree.dir, tree.commit);
  const run = () =>
    resolveGitSource({
      git: client,
      stack: { repoUrl: URL, ...stack },
      workDir: tree.dir,
      ...extra,
    });
  return { tree, calls, run };
}

describe('resolveGitSource', () => {
  it('finds the compose file in the order compose uses', async () => {
    const { run } = await resolveFixture({
      files: {
        'docker-compose.yml': 'services: {}\n',
        'docker-compose.yaml': 'services: {}\n',
        'compose.yml': 'services: {}\n',
      },
    });
    expect((await run()).state.composeFiles).toEqual(['compose.yml']);
  });

  it('builds the desired state from compose_path, includes, variables and the filter', async () => {
    const { run, tree, calls } = await resolveFixture(
      {
        files: {
          'deploy/compose.yaml': 'services:\n  web:\n    image: x\n',
          'deploy/override.yaml': 'services: {}\n',
          'deploy/.env': 'TAG=1\n',
          '.env': 'ROOT=1\n',
          'README.md': '# app\n',
          'config/nginx.conf': 'server {}\n',
        },
        untracked: { 'data/db.sqlite': 'written by a container', 'notes.txt': 'x' },
      },
      {
        repoBranch: 'main',
        composePath: './deploy/compose.yaml',
        composeIncludes: ['deploy/override.yaml'],
        composeVariables: { TAG: '2' },
        serviceFilter: ['web'],
        credentials: { username: 'bob', token: 'tok' },
      },
      { ref: 'v1.2.0' },
    );
    const source = await run();
    expect(calls).toEqual([
      { url: URL, ref: 'v1.2.0', dir: tree.dir, creds: { username: 'bob', token: 'tok' } },
    ]);
    expect(source.commit).toBe(tree.commit);
    expect(source.state).toEqual({
      composeFiles: ['deploy/compose.yaml', 'deploy/override.yaml'],
      envFile: 'deploy/.env',
      variables: { TAG: '2' },
      services: ['web'],
      files: {
        '.env': 'ROOT=1\n',
        'README.md': '# app\n',
        'config/nginx.conf': 'server {}\n',
        'deploy/.env': 'TAG=1\n',
        'deploy/compose.yaml': 'services:\n  web:\n    image: x\n',
        'deploy/override.yaml': 'services: {}\n',
      },
    });
  });

  it("tracks the stack's branch when no ref is given", async () => {
    const { run, calls } = await resolveFixture(
      { files: { 'compose.yaml': 'services: {}\n' } },
      { repoBranch: 'production' },
    );
    await run();
    expect(calls[0]?.ref).toBe('production');
  });

  it("uses the root .env when there is none next to the compose file, and none when there's neither", async () => {
    const withRoot = await resolveFixture(
      { files: { 'deploy/compose.yaml': 'services: {}\n', '.env': 'A=1\n' } },
      { composePath: 'deploy/compose.yaml' },
    );
    expect((await withRoot.run()).state.envFile).toBe('.env');
    const without = await resolveFixture({ files: { 'compose.yaml': 'services: {}\n' } });
    expect((await without.run()).state.envFile).toBeUndefined();
  });

  it('says where it looked when there is no compose file', async () => {
    const { run, tree } = await resolveFixture({ files: { 'README.md': 'hi' } });
    await expect(run()).rejects.toMatchObject({
      code: 'VALIDATION',
      message: `no compose file found in ${URL} at ${tree.commit.slice(0, 12)}: looked for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml; set compose_path`,
    });
  });

  it('fails when compose_path or an include does not exist at that commit', async () => {
    const files = { 'compose.yaml': 'services: {}\n' };
    const path = await resolveFixture({ files }, { composePath: 'prod.yaml' });
    await expect(path.run()).rejects.toThrow(/^compose_path prod\.yaml not found in https:/);
    const include = await resolveFixture({ files }, { composeIncludes: ['extra.yaml'] });
    await expect(include.run()).rejects.toThrow(
      /^compose_includes\[0\] extra\.yaml not found in https:/,
    );
  });

  it('refuses paths that leave the repository', async () => {
    const files = { 'compose.yaml': 'services: {}\n' };
    const up = await resolveFixture({ files }, { composePath: '../x/compose.yaml' });
    await expect(up.run()).rejects.toThrow('compose_path must stay inside the repository');
    const abs = await resolveFixture({ files }, { composeIncludes: ['/etc/passwd'] });
    await expect(abs.run()).rejects.toThrow('compose_includes[0] must be a path relative');
  });

  it('refuses a compose file that is a symlink out of the repository', async () => {
    const { run, tree } = await resolveFixture({
      links: { 'compose.yaml': '../outside.yaml' },
    });
    await writeFile(join(tree.base, 'outside.yaml'), 'services: {}\n');
    await expect(run()).rejects.toThrow(
      'compose file compose.yaml is a symlink that leads outside the repository',
    );
  });

  it('refuses any tracked symlink that leads out, since compose could mount through it', async () => {
    const { run } = await resolveFixture({
      files: { 'compose.yaml': 'services: {}\n' },
      links: { data: '/etc', 'conf/app.conf': '../../../etc/hostname' },
    });
    await expect(run()).rejects.toThrow(/is a symlink that leads outside the repository/);
  });

  it('stores a symlink inside the repository as the content it points to', async () => {
    const { run } = await resolveFixture({
      files: { 'deploy/compose.yaml': 'services: {}\n' },
      links: { 'compose.yaml': 'deploy/compose.yaml', current: 'deploy' },
    });
    const { state } = await run();
    expect(state.composeFiles).toEqual(['compose.yaml']);
    expect(state.files['compose.yaml']).toBe('services: {}\n');
    expect(Object.keys(state.files).sort()).toEqual(['compose.yaml', 'deploy/compose.yaml']);
  });

  it('leaves binary files out and says which', async () => {
    const { run } = await resolveFixture({
      files: {
        'compose.yaml': 'services: {}\n',
        'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]),
        'latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9]),
        'utf8.txt': 'café ☕',
      },
    });
    const source = await run();
    expect(source.skipped.sort()).toEqual(['latin1.txt', 'logo.png']);
    expect(source.state.files['utf8.txt']).toBe('café ☕');
  });

  it('fails when a compose file itself is not text', async () => {
    const { run } = await resolveFixture({
      files: { 'compose.yaml': Buffer.from([0x73, 0x00, 0x01]) },
    });
    await expect(run()).rejects.toThrow(/compose\.yaml in .* is not a UTF-8 text file/);
  });

  it('refuses repositories beyond the snapshot limits with a clear message', async () => {
    const files: Record<string, string> = { 'compose.yaml': 'services: {}\n' };
    for (let i = 0; i < 5; i++) files[`f${i}.txt`] = 'x'.repeat(1000);
    const many = await resolveFixture({ files }, {}, { limits: { maxFiles: 3, maxBytes: 1e6 } });
    await expect(many.run()).rejects.toThrow(
      'the repository has more than 3 text files; a deploy keeps a copy of every file for rollback',
    );
    const big = await resolveFixture({ files }, {}, { limits: { maxFiles: 100, maxBytes: 2048 } });
    await expect(big.run()).rejects.toThrow('the repository holds more than 2 KiB of text files');
    const fits = await resolveFixture({ files }, {}, { limits: { maxFiles: 6, maxBytes: 6000 } });
    expect(Object.keys((await fits.run()).state.files)).toHaveLength(6);
  });
});
