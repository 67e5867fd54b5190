import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { sub } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApi } from '../app';
import { testDomain } from '../test-domain';
import { type Json, json, TEST_KEY, testDeps } from '../test-helpers';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

function setup() {
  const domain = testDomain();
  const api = createApi(testDeps({ domain, rateLimit: false }));
  const call = (method: string, path: string, key: string | undefined, body?: unknown) =>
    api.app.request(path, {
      method,
      headers: {
        ...(key ? { 'X-API-KEY': key } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const createKey = async (body: unknown) => {
    const res = await call('POST', '/api/v1/keys', TEST_KEY, body);
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    return (await json(res)).key as Json;
  };
  return { domain, api, call, createKey };
}

/** Reads an SSE body as text until `until` matches or the stream ends; returns what came. */
async function readUntil(body: ReadableStream<Uint8Array>, until?: RegExp) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text, ended: true, reader };
    text += decoder.decode(value, { stream: true });
    if (until?.test(text)) return { text, ended: false, reader };
  }
}

describe('API keys', () => {
  it('shows a new key once, stores only its hash and lists keys without key material', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    const key = await t.createKey({ name: 'ci', role: 'deployer', stacks: ['web'] });
    expect(key).toMatchObject({
      id: expect.stringMatching(/^key_/),
      name: 'ci',
      role: 'deployer',
      stacks: ['web'],
      created_at: expect.any(String),
      last_used_at: null,
      secret: expect.stringMatching(/^sdk_[A-Za-z0-9_-]{43}$/),
    });
    const listed = await (await t.call('GET', '/api/v1/keys', TEST_KEY)).text();
    expect(listed).not.toContain(key.secret);
    expect(listed).not.toContain('secret');
    expect(listed).not.toContain('hash');
    expect(JSON.parse(listed).keys).toEqual([
      expect.objectContaining({ name: 'environment', role: 'admin', from_environment: true }),
      expect.objectContaining({ id: key.id, name: 'ci', stacks: ['web'] }),
    ]);
    const dump = JSON.stringify(t.domain.sqlite.prepare('select * from api_keys').all());
    expect(dump).not.toContain(key.secret);
  });

  it('says who is signed in, with the role and stacks, and records when the key was used', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    const key = await t.createKey({ name: 'viewer', role: 'viewer', stacks: ['web'] });
    const self = await json(await t.call('GET', '/api/v1/keys/self', key.secret));
    expect(self.key).toMatchObject({ name: 'viewer', role: 'viewer', stacks: ['web'] });
    expect(self.key.last_used_at).toEqual(expect.any(String));
    expect(self.key.secret).toBeUndefined();
    const env = await json(await t.call('GET', '/api/v1/keys/self', TEST_KEY));
    expect(env.key).toMatchObject({ name: 'environment', role: 'admin', stacks: [] });
  });

  it.each([
    [{ name: 'x', role: 'root' }, 400, /role must be one of viewer, deployer, admin/],
    [{ name: '', role: 'viewer' }, 400, /name must be/],
    [{ name: 'x', role: 'viewer', colour: 1 }, 400, /unknown field "colour"/],
    [{ name: 'x', role: 'admin', stacks: ['web'] }, 400, /admin key acts on every stack/],
    [{ name: 'x', role: 'viewer', stacks: ['nope'] }, 400, /stack 'nope' does not exist/],
    [{ name: 'environment', role: 'viewer' }, 400, /SIMPLEDEPLOY_API_KEY/],
    [{ name: 'taken', role: 'viewer' }, 409, /already exists/],
  ])('refuses %j with %i', async (body, status, message) => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    await t.createKey({ name: 'taken', role: 'viewer' });
    const res = await t.call('POST', '/api/v1/keys', TEST_KEY, body);
    expect(res.status).toBe(status);
    expect((await json(res)).error.message).toMatch(message);
  });

  it('revokes a key: its next request is a 401', async () => {
    const t = setup();
    const key = await t.createKey({ name: 'gone', role: 'admin' });
    expect((await t.call('GET', '/api/v1/stacks', key.secret)).status).toBe(200);
    const res = await t.call('DELETE', `/api/v1/keys/${key.id}`, TEST_KEY);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ deleted: true, key: { id: key.id, name: 'gone' } });
    expect((await t.call('GET', '/api/v1/stacks', key.secret)).status).toBe(401);
    expect((await t.call('DELETE', `/api/v1/keys/${key.id}`, TEST_KEY)).status).toBe(404);
    expect((await t.call('DELETE', '/api/v1/keys/environment', TEST_KEY)).status).toBe(409);
  });

  it('ends the event streams a key opened when it is revoked', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    const key = await t.createKey({ name: 'watcher', role: 'viewer' });
    const other = await t.createKey({ name: 'other', role: 'viewer' });
    const open = async (path: string, secret: string) => {
      const res = await t.call('GET', path, secret);
      expect(res.status).toBe(200);
      return res.body!;
    };
    // A deployment that is still running keeps its log follow open.
    let release = () => {};
    t.domain.runner.on(sub('up'), {
      until: new Promise<void>((r) => {
        release = r;
      }),
    });
    const running = t.domain.deployer.deploy('web', { trigger: 'manual' });
    const events = await open('/api/v1/events', key.secret);
    const follow = await open('/api/v1/stacks/web/logs?follow=true', key.secret);
    const kept = await open('/api/v1/events', other.secret);
    await t.call('DELETE', `/api/v1/keys/${key.id}`, TEST_KEY);
    expect((await readUntil(events)).ended).toBe(true);
    expect((await readUntil(follow)).ended).toBe(true);
    // Another key's stream goes on: it still gets what happens next.
    release();
    await t.domain.deployer.waitFor(running.deployment.id);
    const still = await readUntil(kept, /succeeded/);
    expect(still.ended).toBe(false);
    await still.reader.cancel();
  });

  it('closes the WebSockets a key opened when it is revoked (1008)', async () => {
    const t = setup();
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: t.api.app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
        resolve(s as Server),
      ) as Server;
    });
    t.api.injectWebSocket(server);
    try {
      const key = await t.createKey({ name: 'browser', role: 'viewer' });
      const port = (server.address() as AddressInfo).port;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events/ws?token=${key.secret}`);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<[number, string]>((resolve) =>
        ws.once('close', (code, reason) => resolve([code, String(reason)])),
      );
      await t.call('DELETE', `/api/v1/keys/${key.id}`, TEST_KEY);
      expect(await closed).toEqual([1008, 'the API key was revoked']);
    } finally {
      for (const ws of t.api.wss.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("pushes a key limited to some stacks only its stacks' changes", async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    await t.domain.stacks.create({ name: 'other', compose });
    const key = await t.createKey({ name: 'ci', role: 'viewer', stacks: ['web'] });
    const res = await t.call('GET', '/api/v1/events', key.secret);
    const hidden = t.domain.deployer.deploy('other', { trigger: 'manual' });
    await t.domain.deployer.waitFor(hidden.deployment.id);
    const shown = t.domain.deployer.deploy('web', { trigger: 'manual' });
    await t.domain.deployer.waitFor(shown.deployment.id);
    const got = await readUntil(res.body!, new RegExp(`${shown.deployment.id}.*succeeded`, 's'));
    await got.reader.cancel();
    expect(got.text).toContain(shown.deployment.id);
    expect(got.text).not.toContain(hidden.deployment.id);
  });
});

describe('the audit log', () => {
  it('records every change and refused attempt: who, what, target, request id, result', async () => {
    const t = setup();
    const created = await t.call('POST', '/api/v1/stacks', TEST_KEY, {
      name: 'web',
      compose,
      webhook_secret: 'audit-hook-secret-1',
      compose_variables: { PASSWORD: 'audit-variable-secret-1' },
    });
    expect(created.status).toBe(201);
    await t.domain.stacks.create({ name: 'other', compose });
    const ci = await t.createKey({ name: 'ci', role: 'deployer', stacks: ['web'] });
    const deploy = await t.call('POST', '/api/v1/stacks/web/deploy', ci.secret);
    expect(deploy.status).toBe(202);
    expect((await t.call('POST', '/api/v1/stacks/other/deploy', ci.secret)).status).toBe(403);
    expect((await t.call('PATCH', '/api/v1/stacks/web', ci.secret, { compose })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/stacks/other/logs', ci.secret)).status).toBe(403);
    expect((await t.call('POST', '/api/v1/stacks/web/deploy', 'wrong-key')).status).toBe(401);
    // Reads that are allowed are not audited.
    expect((await t.call('GET', '/api/v1/stacks/web', ci.secret)).status).toBe(200);

    const res = await t.call('GET', '/api/v1/audit', TEST_KEY);
    const text = await res.text();
    for (const secret of ['audit-hook-secret-1', 'audit-variable-secret-1', ci.secret, TEST_KEY])
      expect(text).not.toContain(secret);
    const { entries } = JSON.parse(text);
    const rows = entries.map((e: Json) => [e.key_name, e.action, e.target, e.result, e.status]);
    expect(rows).toEqual([
      [null, 'stack.deploy', 'stack web', 'unauthorized', 401],
      ['ci', 'GET /api/v1/stacks/:stack/logs', 'stack other', 'forbidden', 403],
      ['ci', 'stack.update', 'stack web', 'forbidden', 403],
      ['ci', 'stack.deploy', 'stack other', 'forbidden', 403],
      ['ci', 'stack.deploy', 'stack web', 'ok', 202],
      ['environment', 'key.create', 'key ci', 'ok', 201],
      ['environment', 'stack.create', 'stack web', 'ok', 201],
    ]);
    expect(entries[4]).toMatchObject({
      at: expect.any(String),
      via: 'key',
      stack_name: 'web',
      request_id: deploy.headers.get('x-request-id'),
    });

    const byKey = await json(await t.call('GET', '/api/v1/audit?key=ci&limit=2', TEST_KEY));
    expect(byKey.entries.map((e: Json) => e.status)).toEqual([403, 403]);
    const byStack = await json(await t.call('GET', '/api/v1/audit?stack=other', TEST_KEY));
    expect(byStack.entries).toHaveLength(2);
    // A key limited to some stacks reads only their entries.
    const own = await json(await t.call('GET', '/api/v1/audit', ci.secret));
    expect(new Set(own.entries.map((e: Json) => e.stack_name))).toEqual(new Set(['web']));
    expect((await t.call('GET', '/api/v1/audit?limit=0', TEST_KEY)).status).toBe(400);
  });

  it('records deployments nobody asked for over HTTP as the system', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    const { deployment } = t.domain.deployer.deploy('web', { trigger: 'poll' });
    const { entries } = await json(await t.call('GET', '/api/v1/audit?stack=web', TEST_KEY));
    expect(entries).toEqual([
      expect.objectContaining({
        key_name: null,
        via: 'system',
        action: 'stack.deploy.poll',
        target: `deployment ${deployment.id}`,
        result: 'ok',
      }),
    ]);
  });

  it('forgets entries older than the retention', async () => {
    const t = setup();
    await t.call('POST', '/api/v1/stacks/web/deploy', 'wrong-key');
    t.domain.clock.advance(31 * 24 * 3600 * 1000);
    await t.call('POST', '/api/v1/stacks/web/deploy', 'wrong-again');
    expect(t.domain.audit.prune(30)).toBe(1);
    expect(t.domain.audit.list()).toHaveLength(1);
    expect(t.domain.audit.prune(0)).toBe(0);
  });
});
