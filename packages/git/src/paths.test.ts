import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '@simpledeploy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRelativeInside, resolveInside } from './paths';

function rejection(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

describe('assertRelativeInside', () => {
  it.each([
    ['compose.yaml', 'compose.yaml'],
    ['./compose.yaml', 'compose.yaml'],
    ['deploy//prod/compose.yml', 'deploy/prod/compose.yml'],
    ['deploy/../compose.yaml', 'compose.yaml'],
    ['a/b/../../c.yaml', 'c.yaml'],
    ['..compose.yaml', '..compose.yaml'],
    ['dir/..hidden/x.yaml', 'dir/..hidden/x.yaml'],
    ['.env', '.env'],
    ['.github/compose.yaml', '.github/compose.yaml'],
    ['with space.yaml', 'with space.yaml'],
    ['%2e%2e/x.yaml', '%2e%2e/x.yaml'],
  ])('accepts %j as %j', (input, expected) => {
    expect(assertRelativeInside(input, 'compose_path')).toBe(expected);
  });

  it.each([
    ['..', 'must stay inside the repository'],
    ['../x.yaml', 'must stay inside the repository'],
    ['../../etc/passwd', 'must stay inside the repository'],
    ['a/../../x.yaml', 'must stay inside the repository'],
    ['./../x.yaml', 'must stay inside the repository'],
    ['a/b/../../../x', 'must stay inside the repository'],
    ['/etc/passwd', 'relative to the repository root'],
    ['//server/share/x', 'relative to the repository root'],
    ['C:/Windows/x.yaml', 'relative to the repository root'],
    ['c:x.yaml', 'relative to the repository root'],
    ['..\\..\\etc\\passwd', 'forward slashes'],
    ['deploy\\compose.yaml', 'forward slashes'],
    ['compose.yaml\u0000.png', 'control characters'],
    ['compose\n.yaml', 'control characters'],
    ['', 'non-empty'],
    ['   ', 'non-empty'],
    ['.', 'must name a file'],
    ['./', 'must name a file'],
    ['a/..', 'must name a file'],
    ['.git/config', 'inside .git'],
    ['.git', 'inside .git'],
    ['./.git/hooks/post-checkout', 'inside .git'],
  ])('rejects %j (%s)', (input, message) => {
    const error = rejection(() => assertRelativeInside(input, 'compose_path'));
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toContain(message);
    expect(error.message).toMatch(/^compose_path /);
    expect(error.details).toMatchObject({ field: 'compose_path' });
  });

  it('rejects a path longer than 1024 characters', () => {
    expect(rejection(() => assertRelativeInside('x'.repeat(1025), 'compose_path')).message).toBe(
      'compose_path is longer than 1024 characters',
    );
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 42, ['compose.yaml'], { path: 'x' }]) {
      expect(rejection(() => assertRelativeInside(value, 'compose_includes[0]')).message).toBe(
        'compose_includes[0] must be a non-empty path inside the repository',
      );
    }
  });
});

describe('resolveInside', () => {
  let base: string;
  let root: string;
  let outside: string;

  beforeAll(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'sd-paths-')));
    root = join(base, 'repo');
    outside = join(base, 'outside');
    await mkdir(join(root, 'deploy', 'prod'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(root, 'compose.yaml'), 'services: {}\n');
    await writeFile(join(root, 'deploy', 'prod', 'compose.yml'), 'services: {}\n');
    await writeFile(join(outside, 'secret.yaml'), 'secret');
    await symlink('deploy/prod/compose.yml', join(root, 'inner-link.yml'));
    await symlink('../outside/secret.yaml', join(root, 'relative-out.yml'));
    await symlink(join(outside, 'secret.yaml'), join(root, 'absolute-out.yml'));
    await symlink('/etc', join(root, 'etc'));
    await symlink('../../outside', join(root, 'deploy', 'out-dir'));
    await symlink('prod', join(root, 'deploy', 'current'));
    await symlink('../outside/not-yet.yaml', join(root, 'dangling-out.yml'));
    await symlink('deploy/not-yet.yaml', join(root, 'dangling-in.yml'));
    await symlink('loop-b', join(root, 'loop-a'));
    await mkdir(join(root, '.git'));
    await writeFile(join(root, '.git', 'config'), '[remote "origin"]');
    await symlink('.git/config', join(root, 'git-config.yml'));
    await symlink('loop-a', join(root, 'loop-b'));
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('returns the real path of a file inside the repository', async () => {
    expect(await resolveInside(root, 'compose.yaml')).toBe(join(root, 'compose.yaml'));
    expect(await resolveInside(root, './deploy/prod/compose.yml')).toBe(
      join(root, 'deploy/prod/compose.yml'),
    );
  });

  it('follows symlinks that stay inside', async () => {
    expect(await resolveInside(root, 'inner-link.yml')).toBe(join(root, 'deploy/prod/compose.yml'));
    expect(await resolveInside(root, 'deploy/current/compose.yml')).toBe(
      join(root, 'deploy/prod/compose.yml'),
    );
  });

  it('returns undefined for a path that does not exist', async () => {
    expect(await resolveInside(root, 'missing.yaml')).toBeUndefined();
    expect(await resolveInside(root, 'deploy/missing/compose.yaml')).toBeUndefined();
    expect(await resolveInside(root, 'dangling-in.yml')).toBeUndefined();
  });

  it.each([
    'relative-out.yml',
    'absolute-out.yml',
    'etc/passwd',
    'etc',
    'deploy/out-dir/secret.yaml',
    'deploy/out-dir/missing.yaml',
    'dangling-out.yml',
  ])('rejects %s, which leads outside through a symlink', async (path) => {
    const error = await resolveInside(root, path, 'compose_path').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION');
    expect((error as AppError).message).toMatch(
      /^compose_path .* is a symlink that leads outside the repository$/,
    );
  });

  it('rejects a symlink into .git', async () => {
    await expect(resolveInside(root, 'git-config.yml', 'compose_path')).rejects.toThrow(
      'compose_path git-config.yml is a symlink into .git',
    );
  });

  it('applies the lexical checks before touching the disk', async () => {
    await expect(resolveInside(root, '../outside/secret.yaml', 'compose_path')).rejects.toThrow(
      'compose_path must stay inside the repository',
    );
    await expect(resolveInside(root, join(outside, 'secret.yaml'))).rejects.toThrow(
      'relative to the repository root',
    );
  });

  it('fails on a symlink loop instead of hanging', async () => {
    await expect(resolveInside(root, 'loop-a')).rejects.toThrow();
  });

  it('works when the root itself is reached through a symlink', async () => {
    const alias = join(base, 'alias');
    await symlink(root, alias);
    expect(await resolveInside(alias, 'inner-link.yml')).toBe(
      join(root, 'deploy/prod/compose.yml'),
    );
    await expect(resolveInside(alias, 'relative-out.yml')).rejects.toThrow('leads outside');
  });
});
