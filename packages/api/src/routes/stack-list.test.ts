import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { matchesEtag } from '../stack-list';
import { testDomain } from '../test-domain';
import { type Json, json, TEST_KEY, testDeps } from '../test-helpers';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

function setup() {
  const domain = testDomain();
  const app = createApp(testDeps({ domain }));
  const call = (
    method: string,
    path: string,
    opts: { body?: unknown; key?: string; headers?: Record<string, string> } = {},
  ) =>
    app.request(path, {
      method,
      headers: {
        'X-API-KEY': opts.key ?? TEST_KEY,
        'content-type': 'application/json',
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    });
  const create = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '/api/v1/stacks', { body: { name, compose, ...extra } });
    expect(res.status).toBe(201);
  };
  const names = (body: Json) => (body.stacks as { name: string }[]).map((s) => s.name);
  return { app, call, create, domain, names };
}

describe('GET /api/v1/stacks: pages, summary, ETag', () => {
  it('answers every stack in name order without a limit, as before (no next_cursor)', async () => {
    const t = setup();
    for (const n of ['c', 'a', 'b']) await t.create(n);
    const body = await json(await t.call('GET', '/api/v1/stacks'));
    expect(Object.keys(body)).toEqual(['stacks']);
    expect(t.names(body)).toEqual(['a', 'b', 'c']);
    expect(body.stacks[0].compose).toContain('image:');
  });

  it('pages with limit and an opaque cursor, stable when stacks are created meanwhile', async () => {
    const t = setup();
    for (const n of ['s1', 's3', 's5', 's7', 's9']) await t.create(n);
    const first = await json(await t.call('GET', '/api/v1/stacks?limit=2'));
    expect(t.names(first)).toEqual(['s1', 's3']);
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(first.next_cursor).not.toContain('s3');

    // One created before the cursor and one after it: the next page neither repeats nor skips.
    await t.create('s0');
    await t.create('s4');
    const second = await json(
      await t.call('GET', `/api/v1/stacks?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`),
    );
    expect(t.names(second)).toEqual(['s4', 's5']);
    const third = await json(
      await t.call(
        'GET',
        `/api/v1/stacks?limit=2&cursor=${encodeURIComponent(second.next_cursor)}`,
      ),
    );
    expect(t.names(third)).toEqual(['s7', 's9']);
    expect(third.next_cursor).toBeNull();
  });

  it('refuses a limit out of range and a cursor it did not give', async () => {
    const t = setup();
    await t.create('a');
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=bm90LWpzb24', 'view=tiny']) {
      const res = await t.call('GET', `/api/v1/stacks?${q}`);
      expect(res.status, q).toBe(400);
      expect((await json(res)).error.code).toBe('VALIDATION');
    }
    const ok = await t.call('GET', '/api/v1/stacks?limit=1000');
    expect(ok.status).toBe(200);
  });

  it('sends only what the list shows with view=summary, the same values as the full view', async () => {
    const t = setup();
    await t.create('web', { docker_username: 'u', docker_password: 'registry-pw-9' });
    const full = (await json(await t.call('GET', '/api/v1/stacks'))).stacks[0];
    const res = await t.call('GET', '/api/v1/stacks?view=summary');
    const text = await res.text();
    expect(text).not.toContain('registry-pw-9');
    const summary = JSON.parse(text).stacks[0];
    expect(Object.keys(summary).sort()).toEqual(
      [
        'id',
        'uuid',
        'name',
        'source',
        'repo_url',
        'repo_branch',
        'status',
        'last_deployment',
        'current_version_id',
        'deployed_commit',
        'remote_commit',
        'behind',
        'auto_deploy',
        'auto_update',
        'image_updates',
        'reconcile_interval_seconds',
        'poll',
        'updated_at',
      ].sort(),
    );
    for (const [k, v] of Object.entries(summary)) expect(full[k], k).toEqual(v);
  });

  it('answers 304 to its own ETag until a stack or its status changes', async () => {
    const t = setup();
    await t.create('web');
    const first = await t.call('GET', '/api/v1/stacks');
    const etag = first.headers.get('ETag') ?? '';
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('Cache-Control')).toContain('no-cache');

    const same = await t.call('GET', '/api/v1/stacks', { headers: { 'If-None-Match': etag } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe('');
    expect(same.headers.get('ETag')).toBe(etag);
    // Weak form and lists are matched too.
    const weak = await t.call('GET', '/api/v1/stacks', {
      headers: { 'If-None-Match': `"other", W/${etag}` },
    });
    expect(weak.status).toBe(304);

    // Another view or page is another representation.
    const summary = await t.call('GET', '/api/v1/stacks?view=summary', {
      headers: { 'If-None-Match': etag },
    });
    expect(summary.status).toBe(200);

    // A change of the stack.
    expect(
      (await t.call('PATCH', '/api/v1/stacks/web', { body: { auto_rollback: false } })).status,
    ).toBe(200);
    const changed = await t.call('GET', '/api/v1/stacks', { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    const etag2 = changed.headers.get('ETag') ?? '';
    expect(etag2).not.toBe(etag);
    expect((await json(changed)).stacks[0].auto_rollback).toBe(false);

    // A change of its status: a deployment queued, then finished.
    const { deployment } = t.domain.deployer.deploy('web', { trigger: 'manual' });
    const deploying = await t.call('GET', '/api/v1/stacks', {
      headers: { 'If-None-Match': etag2 },
    });
    expect(deploying.status).toBe(200);
    const etag3 = deploying.headers.get('ETag') ?? '';
    expect((await json(deploying)).stacks[0].status).not.toBe('idle');
    await t.domain.deployer.waitFor(deployment.id);
    const done = await t.call('GET', '/api/v1/stacks', { headers: { 'If-None-Match': etag3 } });
    expect(done.status).toBe(200);
    const after = (await json(done)).stacks[0];
    expect(after.status).toBe('idle');
    expect(after.last_deployment).toMatchObject({ id: deployment.id, status: 'succeeded' });
  });

  it('gives a key limited to some stacks only those, page by page, under an ETag of its own', async () => {
    const t = setup();
    for (const n of ['a', 'b', 'c', 'd']) await t.create(n);
    const created = await t.call('POST', '/api/v1/keys', {
      body: { name: 'two', role: 'viewer', stacks: ['b', 'd'] },
    });
    const key = (await json(created)).key.secret as string;
    const page = await t.call('GET', '/api/v1/stacks?limit=1&view=summary', { key });
    const body = await json(page);
    expect(t.names(body)).toEqual(['b']);
    const rest = await json(
      await t.call(
        'GET',
        `/api/v1/stacks?limit=1&view=summary&cursor=${encodeURIComponent(body.next_cursor)}`,
        { key },
      ),
    );
    expect(t.names(rest)).toEqual(['d']);
    expect(rest.next_cursor).toBeNull();
    const admin = await t.call('GET', '/api/v1/stacks?limit=1&view=summary');
    expect(admin.headers.get('ETag')).not.toBe(page.headers.get('ETag'));
  });
});

describe('matchesEtag', () => {
  it('compares weakly, reads lists and *', () => {
    expect(matchesEtag(undefined, '"a"')).toBe(false);
    expect(matchesEtag('"a"', '"a"')).toBe(true);
    expect(matchesEtag('W/"a"', '"a"')).toBe(true);
    expect(matchesEtag('"b", "a"', '"a"')).toBe(true);
    expect(matchesEtag('*', '"a"')).toBe(true);
    expect(matchesEtag('"ab"', '"a"')).toBe(false);
  });
});
