import { describe, expect, it } from 'vitest';
import { commitStateOf, commitStatusTarget, statusRequest } from './commit-status';

const stack = (repoUrl: string, commitStatus = 'auto', commitStatusApiUrl: string | null = null) =>
  ({ repoUrl, commitStatus, commitStatusApiUrl }) as Parameters<typeof commitStatusTarget>[0];
const SHA = 'a'.repeat(40);

describe('commitStatusTarget', () => {
  it('infers github.com and gitlab.com from the repo URL with auto', () => {
    expect(commitStatusTarget(stack('https://github.com/acme/shop.git'))).toEqual({
      host: 'github',
      api: 'https://api.github.com',
      project: 'acme/shop',
    });
    expect(commitStatusTarget(stack('https://gitlab.com/acme/team/shop.git'))).toEqual({
      host: 'gitlab',
      api: 'https://gitlab.com/api/v4',
      project: 'acme/team/shop',
    });
    expect(commitStatusTarget(stack('https://codeberg.org/acme/shop'))?.host).toBe('gitea');
  });

  it('is off for an unknown host with auto, for off, and without a repo', () => {
    expect(commitStatusTarget(stack('https://git.example.com/acme/shop.git'))).toBeUndefined();
    expect(commitStatusTarget(stack('https://github.com/acme/shop.git', 'off'))).toBeUndefined();
    expect(
      commitStatusTarget({ repoUrl: null, commitStatus: 'github', commitStatusApiUrl: null }),
    ).toBeUndefined();
  });

  it('uses the usual API path of a self-hosted instance, or commit_status_api_url', () => {
    expect(commitStatusTarget(stack('https://git.example.com/acme/shop.git', 'gitea'))?.api).toBe(
      'https://git.example.com/api/v1',
    );
    expect(commitStatusTarget(stack('https://ghe.example.com/acme/shop.git', 'github'))?.api).toBe(
      'https://ghe.example.com/api/v3',
    );
    expect(
      commitStatusTarget(
        stack(
          'https://example.com/gitlab/grp/shop.git',
          'gitlab',
          'https://example.com/gitlab/api/v4/',
        ),
      ),
    ).toEqual({ host: 'gitlab', api: 'https://example.com/gitlab/api/v4', project: 'grp/shop' });
  });
});

describe('statusRequest', () => {
  const fields = {
    state: 'pending' as const,
    description: 'Deploying shop',
    context: 'simpledeploy/shop',
    targetUrl: 'https://deploy.example/#/deployments/dep_1',
    ref: 'main',
  };

  it('GitHub: POST /repos/{owner}/{repo}/statuses/{sha}, Bearer token, JSON body', () => {
    const r = statusRequest(
      { host: 'github', api: 'https://api.github.com', project: 'acme/shop' },
      'tok',
      SHA,
      fields,
    );
    expect(r.url).toBe(`https://api.github.com/repos/acme/shop/statuses/${SHA}`);
    expect(r.headers.Authorization).toBe('Bearer tok');
    expect(r.headers.Accept).toBe('application/vnd.github+json');
    expect(JSON.parse(r.body ?? '')).toEqual({
      state: 'pending',
      target_url: fields.targetUrl,
      description: 'Deploying shop',
      context: 'simpledeploy/shop',
    });
  });

  it('Gitea/Forgejo: the same path under /api/v1, "token" authorization', () => {
    const r = statusRequest(
      { host: 'gitea', api: 'https://git.example/api/v1', project: 'acme/shop' },
      'tok',
      SHA,
      {
        ...fields,
        state: 'failure',
      },
    );
    expect(r.url).toBe(`https://git.example/api/v1/repos/acme/shop/statuses/${SHA}`);
    expect(r.headers.Authorization).toBe('token tok');
    expect(JSON.parse(r.body ?? '').state).toBe('failure');
  });

  it("GitLab: the project's path URL-encoded, fields in the query, PRIVATE-TOKEN, GitLab's states", () => {
    const r = statusRequest(
      { host: 'gitlab', api: 'https://gitlab.com/api/v4', project: 'acme/team/shop' },
      'tok',
      SHA,
      fields,
    );
    const url = new URL(r.url);
    expect(url.pathname).toBe(`/api/v4/projects/acme%2Fteam%2Fshop/statuses/${SHA}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      state: 'running',
      name: 'simpledeploy/shop',
      description: 'Deploying shop',
      target_url: fields.targetUrl,
      ref: 'main',
    });
    expect(r.headers['PRIVATE-TOKEN']).toBe('tok');
    expect(r.body).toBeUndefined();
    const failed = statusRequest({ host: 'gitlab', api: 'x', project: 'a/b' }, 't', SHA, {
      ...fields,
      state: 'failure',
    });
    expect(new URL(failed.url, 'http://h').searchParams.get('state')).toBe('failed');
  });

  it('cuts the description at 140 characters', () => {
    const r = statusRequest({ host: 'github', api: 'a', project: 'o/r' }, 't', SHA, {
      ...fields,
      description: 'x'.repeat(300),
    });
    expect(JSON.parse(r.body ?? '').description).toHaveLength(140);
  });
});

describe('commitStateOf', () => {
  it('pending while running, then how the deployment ended', () => {
    expect(commitStateOf('queued')).toBeUndefined();
    expect(commitStateOf('running')).toBe('pending');
    expect(commitStateOf('succeeded')).toBe('success');
    expect(commitStateOf('failed')).toBe('failure');
    expect(commitStateOf('rolled_back')).toBe('failure');
    expect(commitStateOf('canceled')).toBe('error');
  });
});
