import { AppError } from '@simpledeploy/core';
import { describe, expect, it } from 'vitest';
import { assertRepoUrl, splitUrlCredentials } from './url';

function rejection(value: unknown): AppError {
  try {
    assertRepoUrl(value);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION');
    return error as AppError;
  }
  throw new Error(`expected ${String(value)} to be rejected`);
}

describe('assertRepoUrl', () => {
  it.each([
    ['https://github.com/acme/app.git', 'https://github.com/acme/app.git'],
    ['https://github.com/acme/app', 'https://github.com/acme/app'],
    ['http://127.0.0.1:3000/app.git', 'http://127.0.0.1:3000/app.git'],
    ['HTTPS://Git.Example.com/a/b.git/', 'https://git.example.com/a/b.git'],
    ['https://git.example.com/group/sub/app.git', 'https://git.example.com/group/sub/app.git'],
    ['https://[::1]:8443/app.git', 'https://[::1]:8443/app.git'],
  ])('accepts %s', (input, normalized) => {
    expect(assertRepoUrl(input)).toBe(normalized);
  });

  it.each([
    'file:///etc/passwd',
    'file:///srv/repos/app.git',
    'ssh://git@github.com/acme/app.git',
    'git@github.com:acme/app.git',
    'git://github.com/acme/app.git',
    'ext::sh -c touch% /tmp/pwned',
    'ext::ssh -o ProxyCommand=x',
    'ftp://example.com/app.git',
    '/srv/repos/app.git',
    './app',
    'github.com/acme/app',
    'javascript:alert(1)',
  ])('rejects the transport of %s', (input) => {
    expect(rejection(input).message).toBe(
      'repo_url must be an http:// or https:// URL; ssh, git@host:path, file and other transports are not supported',
    );
  });

  it.each([
    undefined,
    null,
    '',
    '   ',
    42,
  ])('rejects an empty or non-string value (%j)', (input) => {
    expect(rejection(input).message).toBe(
      'repo_url must be an http:// or https:// URL of a git repository',
    );
  });

  it('rejects credentials inside the URL without repeating them', () => {
    for (const url of [
      'https://bob:ghp_s3cretTokenValue@github.com/acme/app.git',
      'https://ghp_s3cretTokenValue@github.com/acme/app.git',
      'https://bob:@github.com/acme/app.git',
    ]) {
      const error = rejection(url);
      expect(error.message).toBe(
        'repo_url must not contain credentials: give them as repo_username and repo_token instead',
      );
      expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('s3cret');
    }
  });

  it.each([
    ['https://github.com/acme/app.git?ref=main', 'query string or fragment'],
    ['https://github.com/acme/app.git#main', 'query string or fragment'],
    ['https://github.com', 'must name a repository'],
    ['https://github.com/', 'must name a repository'],
    ['https://git hub.com/app.git', 'spaces or control characters'],
    ['https://github.com/acme/app.git\n', 'spaces or control characters'],
    ['https://exa\u0000mple.com/app.git', 'spaces or control characters'],
    ['https://:443/app.git', 'not a valid URL'],
  ])('rejects %s (%s)', (input, message) => {
    expect(rejection(input).message).toContain(message);
  });

  it('rejects a URL longer than 2048 characters', () => {
    expect(rejection(`https://example.com/${'a'.repeat(2100)}`).message).toBe(
      'repo_url is longer than 2048 characters',
    );
  });

  it('names the field it checks', () => {
    expect(() => assertRepoUrl('ssh://x/y', 'REPO_URL')).toThrow(/^REPO_URL must be/);
  });
});

describe('splitUrlCredentials', () => {
  it('moves user and token out of the URL', () => {
    expect(splitUrlCredentials('https://bob:t%40ken@git.example.com/a.git')).toEqual({
      url: 'https://git.example.com/a.git',
      username: 'bob',
      token: 't@ken',
    });
  });

  it('leaves a URL without credentials alone', () => {
    expect(splitUrlCredentials('https://git.example.com/a.git')).toEqual({
      url: 'https://git.example.com/a.git',
    });
    expect(splitUrlCredentials('git@host:x.git')).toEqual({ url: 'git@host:x.git' });
  });

  it('keeps a token given as the only user part', () => {
    expect(splitUrlCredentials('https://ghp_abc@github.com/a.git')).toEqual({
      url: 'https://github.com/a.git',
      username: 'ghp_abc',
    });
  });
});
