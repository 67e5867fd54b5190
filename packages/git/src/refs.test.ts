import { describe, expect, it } from 'vitest';
import { assertRefName } from './refs';

describe('assertRefName', () => {
  it.each([
    'main',
    'feature/login-form',
    'release-1.2',
    'v1.2.3',
    'refs/heads/main',
    'refs/tags/v1',
    'a1b2c3d',
    'e'.repeat(40),
    'deps/@scope',
  ])('accepts %s', (ref) => {
    expect(assertRefName(ref)).toBe(ref);
  });

  it.each([
    ['', 'must be a branch, tag or commit name'],
    ['main branch', 'spaces'],
    ['main\nwant 1234', 'control characters'],
    ['HEAD~1', '~'],
    ['main^{commit}', '^'],
    ['a:b', ':'],
    ['feat*', '*'],
    ['feat[1]', '['],
    ['a\\b', '\\'],
    ['-main', 'must not start with -'],
    ['--upload-pack=touch', 'must not start with -'],
    ['@', '@ and @{'],
    ['main@{1}', '@ and @{'],
    ['../main', '.. is not allowed'],
    ['a..b', '.. is not allowed'],
    ['/main', 'start or end with /'],
    ['main/', 'start or end with /'],
    ['a//b', '//'],
    ['main.', 'must not end with .'],
    ['.hidden', 'start with .'],
    ['feature/.x', 'start with .'],
    ['main.lock', 'end with .lock'],
  ])('rejects %j (%s)', (ref, why) => {
    expect(() => assertRefName(ref)).toThrow(why);
  });

  it('rejects values that are not strings and names the field', () => {
    expect(() => assertRefName(undefined, 'ref')).toThrow(
      'ref must be a branch, tag or commit name',
    );
    expect(() => assertRefName(42)).toThrow(/^repo_branch /);
  });
});
