import { describe, expect, it } from 'vitest';
import { parseWebhook, pushTouches, relevantFiles, repoKey } from './webhook-parse';
import type { HeaderReader } from './webhook-verify';

const headers =
  (h: Record<string, string>): HeaderReader =>
  (name) =>
    Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const SHA = 'a'.repeat(40);

const githubPush = {
  ref: 'refs/heads/main',
  before: 'b'.repeat(40),
  after: SHA,
  deleted: false,
  repository: {
    full_name: 'o/r',
    default_branch: 'main',
    clone_url: 'https://github.com/o/r.git',
    html_url: 'https://github.com/o/r',
  },
  commits: [
    { id: SHA, added: ['docs/new.md'], modified: ['compose.yaml'], removed: [] },
    { id: SHA, added: [], modified: ['README.md'], removed: ['old.txt'] },
  ],
  head_commit: { id: SHA },
};

describe('parseWebhook', () => {
  it('reads a GitHub push: branch, commit, changed files, delivery id', () => {
    const e = parseWebhook(
      headers({ 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'd-1' }),
      body(githubPush),
    );
    expect(e).toEqual({
      host: 'github',
      event: 'push',
      kind: 'push',
      deliveryId: 'd-1',
      ref: 'refs/heads/main',
      branch: 'main',
      tag: undefined,
      commit: SHA,
      deleted: false,
      changedFiles: ['README.md', 'compose.yaml', 'docs/new.md', 'old.txt'],
      defaultBranch: 'main',
      repositories: ['github.com/o/r'],
    });
  });

  it('spells a repository one way whatever the URL form', () => {
    for (const u of [
      'https://GitHub.com/o/r.git',
      'https://u:tok@github.com/o/r/',
      'http://github.com/o/r',
    ]) {
      expect(repoKey(u)).toBe('github.com/o/r');
    }
    expect(repoKey('ssh://git@github.com/o/r.git')).toBeUndefined();
  });

  it('reads a GitHub ping', () => {
    expect(
      parseWebhook(headers({ 'X-GitHub-Event': 'ping' }), body({ zen: 'Keep it simple.' })).kind,
    ).toBe('ping');
  });

  it('reads a Gitea push even though it also sends the GitHub and Gogs headers', () => {
    const e = parseWebhook(
      headers({
        'X-Gitea-Event': 'push',
        'X-Gogs-Event': 'push',
        'X-GitHub-Event': 'push',
        'X-Gitea-Delivery': 'g-1',
      }),
      body({ ...githubPush, ref: 'refs/tags/v1.2' }),
    );
    expect(e).toMatchObject({ host: 'gitea', kind: 'push', deliveryId: 'g-1', tag: 'v1.2' });
    expect(e.branch).toBeUndefined();
  });

  it('reads a GitLab push: checkout_sha, event UUID, project default branch', () => {
    const e = parseWebhook(
      headers({ 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Event-UUID': 'u-1' }),
      body({
        object_kind: 'push',
        ref: 'refs/heads/dev',
        after: 'c'.repeat(40),
        checkout_sha: SHA,
        total_commits_count: 1,
        project: { default_branch: 'main' },
        commits: [{ added: [], modified: ['.env'], removed: [] }],
      }),
    );
    expect(e).toMatchObject({
      host: 'gitlab',
      kind: 'push',
      deliveryId: 'u-1',
      branch: 'dev',
      commit: SHA,
      changedFiles: ['.env'],
      defaultBranch: 'main',
    });
  });

  it('treats a GitLab push with more commits than listed as unknown files', () => {
    const e = parseWebhook(
      headers({ 'X-Gitlab-Event': 'Push Hook' }),
      body({
        ref: 'refs/heads/main',
        total_commits_count: 30,
        commits: [{ added: [], modified: ['x'], removed: [] }],
      }),
    );
    expect(e.changedFiles).toBeUndefined();
  });

  it('sees a deleted branch and other events', () => {
    expect(
      parseWebhook(
        headers({ 'X-GitHub-Event': 'push' }),
        body({ ref: 'refs/heads/x', after: '0'.repeat(40), deleted: true }),
      ),
    ).toMatchObject({ deleted: true, commit: undefined });
    expect(parseWebhook(headers({ 'X-GitHub-Event': 'issues' }), body({})).kind).toBe('other');
    expect(parseWebhook(headers({ 'X-Gitlab-Event': 'System Hook' }), body({})).kind).toBe('other');
  });

  it('takes a call without event headers and body as a generic push', () => {
    expect(parseWebhook(headers({}), new Uint8Array())).toMatchObject({
      host: 'generic',
      kind: 'push',
      ref: undefined,
    });
  });

  it('reads a form-encoded GitHub payload', () => {
    const form = `payload=${encodeURIComponent(JSON.stringify(githubPush))}`;
    expect(
      parseWebhook(headers({ 'X-GitHub-Event': 'push' }), new TextEncoder().encode(form)).branch,
    ).toBe('main');
  });

  it('refuses a body that is not JSON', () => {
    expect(() =>
      parseWebhook(headers({ 'X-GitHub-Event': 'push' }), new TextEncoder().encode('{nope')),
    ).toThrow(/not valid JSON/);
  });

  it.each([
    ['[]'],
    ['42'],
    ['"push"'],
    ['null'],
  ])('refuses a JSON body %s that is not an object', (text) => {
    expect(() =>
      parseWebhook(headers({ 'X-GitHub-Event': 'push' }), new TextEncoder().encode(text)),
    ).toThrow(/must be a JSON object/);
  });
});

describe('path filter', () => {
  const files = relevantFiles({ composeFiles: ['deploy/compose.yaml', 'deploy/extra.yaml'] });

  it('names the compose files, includes and the .env files compose reads', () => {
    expect([...files].sort()).toEqual([
      '.env',
      'deploy/.env',
      'deploy/compose.yaml',
      'deploy/extra.yaml',
    ]);
  });

  it('keeps a push that touches a compose file, an include or an .env', () => {
    expect(pushTouches(['README.md', 'deploy/extra.yaml'], files).relevant).toBe(true);
    expect(pushTouches(['deploy/.env'], files).relevant).toBe(true);
    expect(pushTouches(['.env'], files).relevant).toBe(true);
  });

  it('ignores a push that touches none of them, with the reason', () => {
    const res = pushTouches(['README.md', 'src/app.ts'], files);
    expect(res).toEqual({
      relevant: false,
      reason: expect.stringMatching(/changes none of the stack's files.*README\.md, src\/app\.ts/),
    });
  });

  it('keeps a push whose changed files are unknown', () => {
    expect(pushTouches(undefined, files).relevant).toBe(true);
  });
});
