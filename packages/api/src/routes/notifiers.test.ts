import { createRedactor, silentLogger } from '@simpledeploy/core';
import { createNotifications } from '@simpledeploy/notify';
import { describe, expect, it } from 'vitest';
import { createApi } from '../app';
import { testDomain } from '../test-domain';
import { type Json, json, TEST_KEY, testDeps } from '../test-helpers';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

function setup() {
  const domain = testDomain();
  const sent: unknown[] = [];
  const notifications = createNotifications({
    db: domain.db,
    clock: domain.clock,
    logger: silentLogger,
    secrets: domain.secrets,
    redact: createRedactor([TEST_KEY]),
    transport: {
      async send(out) {
        sent.push(out);
        return { ok: true, status: 204 };
      },
    },
  });
  const api = createApi(
    testDeps({ domain: { ...domain, notifiers: notifications.notifiers }, rateLimit: false }),
  );
  const call = (method: string, path: string, body?: unknown, key = TEST_KEY) =>
    api.app.request(path, {
      method,
      headers: {
        'X-API-KEY': key,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { domain, call, sent };
}

const slack = {
  name: 'team',
  kind: 'slack',
  url: 'https://hooks.slack.com/services/T0/B0/s3cr3tt0ken',
  events: ['deployment.failed', 'deployment.succeeded'],
};

describe('notifier routes', () => {
  it('creates, lists, reads, patches and deletes a notifier without ever showing its secret', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    const created = await t.call('POST', '/api/v1/notifiers', { ...slack, stacks: ['web'] });
    expect(created.status).toBe(201);
    const { notifier } = (await json(created)) as Json;
    expect(notifier).toMatchObject({
      name: 'team',
      kind: 'slack',
      url: 'https://hooks.slack.com/services/T0/B0/***',
      has_secret: false,
      stacks: ['web'],
      enabled: true,
    });
    for (const path of [
      '/api/v1/notifiers',
      `/api/v1/notifiers/${notifier.id}`,
      '/api/v1/notifiers/team',
    ]) {
      const text = await (await t.call('GET', path)).text();
      expect(text).toContain('"team"');
      expect(text).not.toContain('s3cr3tt0ken');
    }
    const patched = await t.call('PATCH', '/api/v1/notifiers/team', { events: ['drift.detected'] });
    expect(patched.status).toBe(200);
    expect((await json(patched)).notifier.events).toEqual(['drift.detected']);
    expect((await t.call('DELETE', '/api/v1/notifiers/team')).status).toBe(200);
    expect((await t.call('GET', '/api/v1/notifiers/team')).status).toBe(404);
  });

  it('answers 400 with a sentence per field, and 409 for a taken name', async () => {
    const t = setup();
    const bad = await t.call('POST', '/api/v1/notifiers', { ...slack, events: ['deploy.maybe'] });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/unknown event deploy.maybe/),
      details: { field: 'events' },
    });
    const unknownField = await t.call('POST', '/api/v1/notifiers', { ...slack, channel: '#x' });
    expect(unknownField.status).toBe(400);
    expect((await json(unknownField)).error.message).toMatch(/unknown field "channel"/);
    expect((await t.call('POST', '/api/v1/notifiers', slack)).status).toBe(201);
    expect((await t.call('POST', '/api/v1/notifiers', slack)).status).toBe(409);
  });

  it('sends a test and lists the delivery', async () => {
    const t = setup();
    await t.call('POST', '/api/v1/notifiers', slack);
    const tested = await t.call('POST', '/api/v1/notifiers/team/test');
    expect(tested.status).toBe(200);
    expect((await json(tested)).delivery).toMatchObject({
      status: 'delivered',
      attempts: 1,
      response_status: 204,
      event: 'notifier.test',
      test: true,
    });
    const list = await json(await t.call('GET', '/api/v1/notifiers/team/deliveries?limit=5'));
    expect(list.deliveries).toHaveLength(1);
    expect(t.sent).toHaveLength(1);
    expect((await t.call('GET', '/api/v1/notifiers/team/deliveries?limit=0')).status).toBe(400);
  });

  it('lets a viewer read but not change, test or delete notifiers', async () => {
    const t = setup();
    await t.call('POST', '/api/v1/notifiers', slack);
    const key = (await json(await t.call('POST', '/api/v1/keys', { name: 'ro', role: 'viewer' })))
      .key.secret as string;
    expect((await t.call('GET', '/api/v1/notifiers', undefined, key)).status).toBe(200);
    expect((await t.call('GET', '/api/v1/notifiers/team/deliveries', undefined, key)).status).toBe(
      200,
    );
    expect((await t.call('POST', '/api/v1/notifiers', { ...slack, name: 'x' }, key)).status).toBe(
      403,
    );
    expect((await t.call('PATCH', '/api/v1/notifiers/team', { enabled: false }, key)).status).toBe(
      403,
    );
    expect((await t.call('POST', '/api/v1/notifiers/team/test', undefined, key)).status).toBe(403);
    expect((await t.call('DELETE', '/api/v1/notifiers/team', undefined, key)).status).toBe(403);
  });

  it('records changes and tests in the audit log with the notifier as the target', async () => {
    const t = setup();
    await t.call('POST', '/api/v1/notifiers', slack);
    await t.call('POST', '/api/v1/notifiers/team/test');
    await t.call('DELETE', '/api/v1/notifiers/team');
    const { entries } = await json(await t.call('GET', '/api/v1/audit'));
    expect(entries.map((e: Json) => [e.action, e.target, e.result])).toEqual([
      ['notifier.delete', 'notifier team', 'ok'],
      ['notifier.test', 'notifier team', 'ok'],
      ['notifier.create', 'notifier team', 'ok'],
    ]);
  });
});
