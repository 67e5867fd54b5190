import { createHmac } from 'node:crypto';
import { createRedactor, createSecretBox, silentLogger } from '@simpledeploy/core';
import { createTestDb, insertStack, listNotificationDeliveries } from '@simpledeploy/db';
import { createFakeClock, flush } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createNotifications } from './notifications';
import type { Rendered } from './render';
import type { SendResult, Transport } from './transport';

const SECRET_KEY = 'unit-test-key';
const API_KEY = 'server-api-key-123';
const STACK_TOKEN = 'stack-token-abcdef';

function setup(answers: SendResult[] = [], opts: { keepDeliveries?: number } = {}) {
  const { db, sqlite } = createTestDb();
  const clock = createFakeClock();
  const box = createSecretBox(SECRET_KEY);
  const sent: Rendered[] = [];
  const transport: Transport = {
    async send(out) {
      sent.push(out);
      return answers.shift() ?? { ok: true, status: 200 };
    },
  };
  let n = 0;
  const notifications = createNotifications({
    db,
    clock,
    logger: silentLogger,
    secrets: box,
    // The server's redactor covers the API key and every stack's secrets.
    redact: createRedactor([API_KEY, STACK_TOKEN]),
    transport,
    retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000, timeoutMs: 1_000 },
    ids: (prefix) => `${prefix}-${String(++n).padStart(4, '0')}`,
    ...opts,
    random: () => 1,
  });
  const now = clock.now().toISOString();
  insertStack(db, { id: 'stack-1', name: 'web', createdAt: now, updatedAt: now });
  insertStack(db, { id: 'stack-2', name: 'db', createdAt: now, updatedAt: now });
  return { db, sqlite, clock, box, sent, notifications };
}

const hook = {
  name: 'ops',
  kind: 'webhook' as const,
  url: 'https://hooks.example/in?token=query-secret-1',
  secret: 'webhook-secret-0123456789',
  events: ['deployment.failed'],
};

describe('notifiers', () => {
  it('stores the url and secret encrypted and shows neither', () => {
    const { sqlite, notifications } = setup();
    const view = notifications.notifiers.create(hook);
    expect(view).toMatchObject({ name: 'ops', kind: 'webhook', has_secret: true });
    expect(view.url).toBe('https://hooks.example/in?token=***');
    expect(JSON.stringify(view)).not.toContain('webhook-secret');
    const raw = sqlite.prepare('select url_enc, secret_enc from notifiers').get() as Record<
      string,
      string
    >;
    expect(raw.url_enc).toMatch(/^enc:v1:/);
    expect(raw.secret_enc).toMatch(/^enc:v1:/);
    expect(JSON.stringify(raw)).not.toContain('query-secret-1');
  });

  it('masks the credential part of slack, discord, ntfy and smtp urls', () => {
    const { notifications } = setup();
    const n = notifications.notifiers;
    const events = ['deployment.succeeded'];
    expect(
      n.create({
        name: 's',
        kind: 'slack',
        url: 'https://hooks.slack.com/services/T1/B2/xyzsecret',
        events,
      }).url,
    ).toBe('https://hooks.slack.com/services/T1/B2/***');
    expect(
      n.create({
        name: 'd',
        kind: 'discord',
        url: 'https://discord.com/api/webhooks/123/tok',
        events,
      }).url,
    ).toBe('https://discord.com/api/webhooks/123/***');
    expect(
      n.create({ name: 'n', kind: 'ntfy', url: 'https://ntfy.sh/deploys-x1', events }).url,
    ).toBe('https://ntfy.sh/***');
    const mail = n.create({
      name: 'm',
      kind: 'email',
      url: 'smtps://me:pa55word@smtp.example:465',
      email_to: 'a@example.com, b@example.com',
      events,
    });
    expect(mail.url).toBe('smtps://me:***@smtp.example:465');
    expect(mail.email_to).toEqual(['a@example.com', 'b@example.com']);
  });

  it('refuses bad input with a message per field', () => {
    const { notifications } = setup();
    const create = (over: object) => () => notifications.notifiers.create({ ...hook, ...over });
    expect(create({ secret: undefined })).toThrow(/secret: a webhook notifier needs a secret/);
    expect(create({ events: ['deploy.done'] })).toThrow(/unknown event deploy.done/);
    expect(create({ events: [] })).toThrow(/events must name at least one/);
    expect(create({ url: 'ftp://x' })).toThrow(/url must be http/);
    expect(create({ stacks: ['nope'] })).toThrow(/stack 'nope' does not exist/);
    expect(create({ kind: 'slack', secret: 'x'.repeat(20) })).toThrow(
      /slack notifiers take no secret/,
    );
    expect(create({ kind: 'email', secret: null, url: 'https://x' })).toThrow(/smtp:\/\//);
    notifications.notifiers.create(hook);
    expect(create({})).toThrow(/a notifier named 'ops' exists/);
  });

  it('patches fields, keeps the rest, and removes a secret with null', () => {
    const { notifications } = setup();
    notifications.notifiers.create({
      ...hook,
      kind: 'ntfy',
      url: 'https://ntfy.example/t',
      secret: 'tk_123456',
    });
    const v = notifications.notifiers.update('ops', {
      events: ['drift.detected'],
      stacks: ['web'],
    });
    expect(v).toMatchObject({ events: ['drift.detected'], stacks: ['web'], has_secret: true });
    expect(notifications.notifiers.update('ops', { secret: null }).has_secret).toBe(false);
  });
});

describe('publish and the outbox', () => {
  it('queues one delivery per subscribed notifier, by event and stack, and delivers it', async () => {
    const { db, sent, notifications } = setup();
    const all = notifications.notifiers.create(hook);
    const webOnly = notifications.notifiers.create({ ...hook, name: 'web-only', stacks: ['web'] });
    notifications.notifiers.create({ ...hook, name: 'other-event', events: ['drift.detected'] });
    notifications.start();
    expect(notifications.publish({ event: 'deployment.failed', stack: 'db', message: 'no' })).toBe(
      1,
    );
    expect(
      notifications.publish({ event: 'deployment.failed', stack: 'stack-1', message: 'x' }),
    ).toBe(2);
    await flush();
    await flush();
    expect(sent).toHaveLength(3);
    expect(listNotificationDeliveries(db, all.id, 10).map((d) => d.status)).toEqual([
      'delivered',
      'delivered',
    ]);
    expect(listNotificationDeliveries(db, webOnly.id, 10)).toHaveLength(1);
    await notifications.stop();
  });

  it('redacts stack, server and notifier secrets from every payload', async () => {
    const { sent, notifications } = setup();
    notifications.notifiers.create(hook);
    notifications.start();
    notifications.publish({
      event: 'deployment.failed',
      stack: 'web',
      message: `pull failed with ${STACK_TOKEN} and ${API_KEY}`,
      details: { log: ['token=query-secret-1', `https://u:${STACK_TOKEN}@git.example/r.git`] },
    });
    await flush();
    const body = (sent[0] as { body: string }).body;
    expect(body).not.toContain(STACK_TOKEN);
    expect(body).not.toContain(API_KEY);
    expect(body).not.toContain('query-secret-1');
    expect(body).toContain('***');
    await notifications.stop();
  });

  it('signs the webhook body with the notifier secret', async () => {
    const { sent, notifications } = setup();
    notifications.notifiers.create(hook);
    notifications.start();
    notifications.publish({ event: 'deployment.failed', stack: 'web', message: 'boom' });
    await flush();
    const out = sent[0];
    if (out?.type !== 'http') throw new Error('expected an HTTP delivery');
    const mac = createHmac('sha256', hook.secret).update(out.body).digest('hex');
    expect(out.headers['x-simpledeploy-signature']).toBe(`sha256=${mac}`);
    expect(JSON.parse(out.body)).toMatchObject({
      event: 'deployment.failed',
      title: 'web: deployment failed',
      message: 'boom',
      stack: { id: 'stack-1', name: 'web' },
      delivery_id: out.headers['x-simpledeploy-delivery'],
    });
    await notifications.stop();
  });

  it('retries with growing delays and gives up after the last attempt', async () => {
    const down = {
      ok: false as const,
      status: null,
      error: 'cannot reach the receiver (ECONNREFUSED)',
      permanent: false,
    };
    const { db, clock, sent, notifications } = setup([down, down, down]);
    const n = notifications.notifiers.create(hook);
    notifications.start();
    notifications.publish({ event: 'deployment.failed', stack: 'web', message: 'x' });
    await flush();
    expect(sent).toHaveLength(1);
    let [row] = listNotificationDeliveries(db, n.id, 1);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: down.error });
    // random() = 1: the whole delay, 1 s then 2 s.
    expect(Date.parse(row?.nextAttemptAt ?? '') - clock.now().getTime()).toBe(1_000);
    await clock.advance(999);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent).toHaveLength(2);
    [row] = listNotificationDeliveries(db, n.id, 1);
    expect(Date.parse(row?.nextAttemptAt ?? '') - clock.now().getTime()).toBe(2_000);
    await clock.advance(2_000);
    expect(sent).toHaveLength(3);
    [row] = listNotificationDeliveries(db, n.id, 1);
    expect(row).toMatchObject({ status: 'failed', attempts: 3 });
    await clock.advance(60_000);
    expect(sent).toHaveLength(3);
    await notifications.stop();
  });

  it('does not retry a receiver that refuses with a 4xx', async () => {
    const { db, sent, notifications } = setup([
      { ok: false, status: 404, error: 'the receiver answered 404', permanent: true },
    ]);
    const n = notifications.notifiers.create(hook);
    notifications.start();
    notifications.publish({ event: 'deployment.failed', stack: 'web', message: 'x' });
    await flush();
    expect(sent).toHaveLength(1);
    expect(listNotificationDeliveries(db, n.id, 1)[0]).toMatchObject({
      status: 'failed',
      responseStatus: 404,
    });
    await notifications.stop();
  });

  it('delivers rows a previous process left pending once started', async () => {
    const { sent, notifications } = setup();
    notifications.notifiers.create(hook);
    notifications.publish({
      event: 'deployment.failed',
      stack: 'web',
      message: 'queued while stopped',
    });
    await flush();
    expect(sent).toHaveLength(0);
    notifications.start();
    await flush();
    expect(sent).toHaveLength(1);
    await notifications.stop();
  });

  it('prunes finished deliveries older than the retention, never pending ones', async () => {
    const { db, clock, notifications } = setup([
      { ok: false, status: null, error: 'down', permanent: false },
    ]);
    const n = notifications.notifiers.create(hook);
    notifications.start();
    notifications.publish({ event: 'deployment.failed', stack: 'web', message: 'a' });
    await flush();
    await clock.advance(1_000);
    notifications.publish({ event: 'deployment.failed', stack: 'web', message: 'b' });
    await flush();
    await notifications.stop();
    clock.set(clock.now().getTime() + 8 * 24 * 3600 * 1000);
    expect(notifications.prune()).toBe(2);
    expect(listNotificationDeliveries(db, n.id, 10)).toHaveLength(0);
  });

  it('test() sends at once and answers with the delivery', async () => {
    const { notifications, sent } = setup();
    notifications.notifiers.create(hook);
    notifications.start();
    const d = await notifications.notifiers.test('ops');
    expect(d).toMatchObject({
      status: 'delivered',
      attempts: 1,
      test: true,
      event: 'notifier.test',
    });
    expect(sent).toHaveLength(1);
    await notifications.stop();
  });

  it('publish never throws', () => {
    const { sqlite, notifications } = setup();
    sqlite.close();
    expect(notifications.publish({ event: 'drift.detected', message: 'x' })).toBe(0);
  });

  it('keeps at most keepDeliveries finished rows, the newest', async () => {
    const { db, clock, notifications } = setup([], { keepDeliveries: 3 });
    const n = notifications.notifiers.create(hook);
    notifications.start();
    for (const m of ['a', 'b', 'c', 'd', 'e']) {
      notifications.publish({ event: 'deployment.failed', stack: 'web', message: m });
      await flush();
      await clock.advance(1);
    }
    await notifications.stop();
    expect(notifications.prune()).toBe(2);
    expect(listNotificationDeliveries(db, n.id, 10).map((d) => d.payload.message)).toEqual([
      'e',
      'd',
      'c',
    ]);
  });

  it("stores a transport's error without the notifier's URL", async () => {
    const { db, notifications } = setup([
      {
        ok: false,
        status: null,
        error: 'Failed to parse URL from https://hooks.example/in?token=query-secret-1',
        permanent: false,
      },
    ]);
    const n = notifications.notifiers.create(hook);
    notifications.start();
    notifications.publish({ event: 'deployment.failed', stack: 'web', message: 'x' });
    await flush();
    const [row] = listNotificationDeliveries(db, n.id, 1);
    expect(row?.lastError).toContain('***');
    expect(row?.lastError).not.toContain('query-secret-1');
    await notifications.stop();
  });
});
