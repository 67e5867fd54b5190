import { AppError, createRedactor } from '@simpledeploy/core';
import { Errors } from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { toGitError } from './errors';

const token = 'ghp_Sup3rSecretToken';
const ctx = {
  url: 'https://git.example.com/acme/app.git',
  hasCredentials: true,
  redact: createRedactor([token]),
};

function systemError(code: string, message = `connect ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('toGitError', () => {
  it('says authentication failed when the server refuses the credentials', () => {
    for (const error of [
      new Errors.UserCanceledError(),
      new Errors.HttpError(401, 'Unauthorized', ''),
    ]) {
      const e = toGitError(error, ctx);
      expect(e.code).toBe('VALIDATION');
      expect(e.message).toBe(
        'authentication failed for https://git.example.com/acme/app.git: check repo_username and repo_token',
      );
      expect(e.details).toMatchObject({ reason: 'auth_failed' });
    }
    expect(toGitError(new Errors.HttpError(403, 'Forbidden', ''), ctx).message).toContain(
      'authentication failed',
    );
  });

  it('says authentication is required when no credentials were given', () => {
    const e = toGitError(new Errors.UserCanceledError(), { ...ctx, hasCredentials: false });
    expect(e.message).toBe(
      'authentication required for https://git.example.com/acme/app.git: set repo_username and repo_token',
    );
    expect(e.details).toMatchObject({ reason: 'auth_required' });
  });

  it('says the repository was not found on a 404', () => {
    const e = toGitError(new Errors.HttpError(404, 'Not Found', 'nope'), ctx);
    expect(e.message).toMatch(
      /^repository not found at https:\/\/git\.example\.com\/acme\/app\.git/,
    );
    expect(e.details).toMatchObject({ reason: 'repo_not_found', status: 404 });
  });

  it('says which host cannot be reached on network errors', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']) {
      const e = toGitError(systemError(code), ctx);
      expect(e.code).toBe('UNAVAILABLE');
      expect(e.message).toBe(`cannot reach git.example.com: ${code}`);
    }
    expect(toGitError(new Error('Request timed out'), ctx).message).toBe(
      'cannot reach git.example.com: Request timed out',
    );
    expect(toGitError(systemError('CERT_HAS_EXPIRED'), ctx).message).toBe(
      'cannot reach git.example.com: TLS certificate problem (CERT_HAS_EXPIRED)',
    );
  });

  it('reports server errors as unavailable', () => {
    const e = toGitError(new Errors.HttpError(502, 'Bad Gateway', ''), ctx);
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.message).toBe('the git server at git.example.com answered HTTP 502; try again later');
  });

  it('explains a URL that is not a git repository', () => {
    const e = toGitError(new Errors.SmartHttpError('<html>', '<html>'), ctx);
    expect(e.message).toBe(
      'https://git.example.com/acme/app.git does not answer like a git repository (smart HTTP); check repo_url',
    );
  });

  it('never lets the token through, whatever the underlying message says', () => {
    const leaky = [
      new Error(`fatal: could not read from https://bob:${token}@git.example.com/acme/app.git`),
      new Error(`Authorization: Basic ${Buffer.from(`bob:${token}`).toString('base64')}`),
      new Error(`token=${encodeURIComponent(token)}`),
      systemError('ECONNREFUSED', `connect to ${token}`),
    ];
    for (const error of leaky) {
      const e = toGitError(error, ctx);
      const all = JSON.stringify({ message: e.message, details: e.details });
      expect(all).not.toContain(token);
      expect(all).not.toContain(Buffer.from(`bob:${token}`).toString('base64'));
    }
  });

  it('strips credentials from the URL it reports', () => {
    const e = toGitError(new Errors.HttpError(404, 'Not Found', ''), {
      ...ctx,
      url: `https://bob:${token}@git.example.com/acme/app.git`,
    });
    expect(e.message).not.toContain(token);
    expect(e.details.url).toBe('https://git.example.com/acme/app.git');
  });

  it('passes AppErrors through unchanged', () => {
    const original = new AppError('VALIDATION', 'branch or tag x not found');
    expect(toGitError(original, ctx)).toBe(original);
  });
});
