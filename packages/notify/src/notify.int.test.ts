import { createRedactor, createSecretBox, silentLogger, systemClock } from '@simpledeploy/core';
import { createTestDb, insertStack, listNotificationDeliveries } from '@simpledeploy/db';
import {
  discordPayloadProblems,
  type HttpReceiver,
  ntfyRequestProblems,
  type SmtpReceiver,
  slackPayloadProblems,
  startHttpReceiver,
  startSmtpReceiver,
  webhookSignatureValid,
} from '@simpledeploy/testing/receivers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifications } from './notifications';

// Every kind against a real local receiver on 127.0.0.1, through the real transport
// (fetch, nodemailer): what arrives must be what each service documents.

const STACK_TOKEN = 'stack-registry-password-42';
let http: HttpReceiver;
let smtp: SmtpReceiver;

beforeAll(async () => {
  http = await startHttpReceiver();
  smtp = await startSmtpReceiver({ username: 'mailer', password: 'smtp-pa55word' });
});
afterAll(async () => {
  await http.close();
  await smtp.close();
});

function setup() {
  const { db } = createTestDb();
  const now = systemClock.now().toISOString();
  insertStack(db, { id: 'stk_1', name: 'web', createdAt: now, updatedAt: now });
  const notifications = createNotifications({
    db,
    clock: systemClock,
    logger: silentLogger,
    secrets: createSecretBox('notify-int'),
    redact: createRedactor([STACK_TOKEN]),
    retry: { maxAttempts: 6, baseDelayMs: 300, maxDelayMs: 2_000, timeoutMs: 3_000 },
  });
  notifications.start();
  return { db, notifications };
}

const requestsTo = (path: string) => http.requests.filter((r) => r.path === path);

async function untilDelivered(
  db: ReturnType<typeof setup>['db'],
  notifierId: string,
  count: number,
  ms = 15_000,
) {
  const end = Date.now() + ms;
  for (;;) {
    const rows = listNotificationDeliveries(db, notifierId, 100);
    if (rows.filter((r) => r.status !== 'pending').length >= count) return rows;
    if (Date.now() > end) throw new Error(`deliveries not finished: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const failed = {
  event: 'deployment.failed' as const,
  stack: 'web',
  deployment: 'dep_123',
  message: `Deployment of web failed: pull access denied (password ${STACK_TOKEN})`,
  details: { trigger: 'webhook', git_commit: 'a'.repeat(40) },
};

describe('notification kinds against real receivers', () => {
  it('webhook: signed JSON with a delivery id and timestamp, the same id on every retry', async () => {
    const { db, notifications } = setup();
    const secret = 'whsec-0123456789abcdef';
    const n = notifications.notifiers.create({
      name: 'hook',
      kind: 'webhook',
      url: `${http.url}/hook`,
      secret,
      events: ['deployment.failed'],
    });
    http.answer = 500;
    notifications.publish(failed);
    await http.waitFor(2, 10_000);
    http.answer = 200;
    await untilDelivered(db, n.id, 1);
    const got = requestsTo('/hook');
    expect(got.length).toBeGreaterThanOrEqual(2);
    for (const req of got) {
      expect(webhookSignatureValid(req, secret)).toBe(true);
      expect(webhookSignatureValid(req, 'another-secret-0000')).toBe(false);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['x-simpledeploy-event']).toBe('deployment.failed');
      expect(req.headers['x-simpledeploy-timestamp']).toMatch(/^\d{10}$/);
    }
    // Receivers dedupe by the delivery id: a retry carries the same one.
    expect(new Set(got.map((r) => r.headers['x-simpledeploy-delivery'])).size).toBe(1);
    const body = JSON.parse(got.at(-1)?.body ?? '');
    expect(Object.keys(body).sort()).toEqual(
      [
        'at',
        'delivery_id',
        'deployment_id',
        'details',
        'event',
        'host',
        'message',
        'notification_id',
        'stack',
        'test',
        'title',
      ].sort(),
    );
    expect(body).toMatchObject({
      delivery_id: got[0]?.headers['x-simpledeploy-delivery'],
      event: 'deployment.failed',
      title: 'web: deployment failed',
      stack: { id: 'stk_1', name: 'web' },
      deployment_id: 'dep_123',
      host: null,
      test: false,
      details: { trigger: 'webhook' },
    });
    expect(body.message).toBe('Deployment of web failed: pull access denied (password ***)');
    expect(JSON.stringify(got)).not.toContain(STACK_TOKEN);
    await notifications.stop();
  });

  it('slack: an incoming-webhook body with text and blocks within their limits', async () => {
    const { db, notifications } = setup();
    const n = notifications.notifiers.create({
      name: 'slack',
      kind: 'slack',
      url: `${http.url}/services/T000/B000/slacktoken`,
      events: ['deployment.failed'],
    });
    notifications.publish({ ...failed, message: `<@here> ${'x'.repeat(5000)}` });
    await untilDelivered(db, n.id, 1);
    const [req] = requestsTo('/services/T000/B000/slacktoken');
    if (!req) throw new Error('slack got nothing');
    expect(slackPayloadProblems(req)).toEqual([]);
    const body = JSON.parse(req.body);
    expect(body.text).toMatch(/^web: deployment failed: &lt;@here&gt; x+/);
    expect(body.blocks.map((b: { type: string }) => b.type)).toEqual([
      'header',
      'section',
      'context',
    ]);
    expect(body.blocks[0].text).toEqual({
      type: 'plain_text',
      text: 'web: deployment failed',
      emoji: true,
    });
    await notifications.stop();
  });

  it('discord: content and one embed within Discord limits, mentions off, even for a huge message', async () => {
    const { db, notifications } = setup();
    const n = notifications.notifiers.create({
      name: 'discord',
      kind: 'discord',
      url: `${http.url}/api/webhooks/42/discordtoken`,
      events: ['deployment.failed'],
    });
    const details = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`detail_${i}`, 'y'.repeat(1500)]),
    );
    notifications.publish({ ...failed, message: 'z'.repeat(9000), details });
    notifications.publish(failed);
    await untilDelivered(db, n.id, 2);
    const reqs = requestsTo('/api/webhooks/42/discordtoken');
    expect(reqs).toHaveLength(2);
    for (const req of reqs) expect(discordPayloadProblems(req)).toEqual([]);
    const small = reqs
      .map((r) => JSON.parse(r.body))
      .find((b) => b.embeds[0].description.length < 200);
    expect(small).toMatchObject({
      content: 'web: deployment failed',
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: 'web: deployment failed',
          description: 'Deployment of web failed: pull access denied (password ***)',
          color: expect.any(Number),
          footer: { text: 'simpledeploy · deployment.failed' },
        },
      ],
    });
    expect(small.embeds[0].fields.slice(0, 2)).toEqual([
      { name: 'stack', value: 'web', inline: true },
      { name: 'deployment', value: 'dep_123', inline: true },
    ]);
    await notifications.stop();
  });

  it('ntfy: the message as the body, Title, Priority and Tags headers, the token as Bearer', async () => {
    const { db, notifications } = setup();
    const n = notifications.notifiers.create({
      name: 'ntfy',
      kind: 'ntfy',
      url: `${http.url}/deploys-topic`,
      secret: 'tk_ntfytoken123',
      events: ['deployment.failed', 'drift.detected'],
    });
    notifications.publish(failed);
    await untilDelivered(db, n.id, 1);
    const [req] = requestsTo('/deploys-topic');
    if (!req) throw new Error('ntfy got nothing');
    expect(ntfyRequestProblems(req, 'tk_ntfytoken123')).toEqual([]);
    expect(req.headers.title).toBe('web: deployment failed');
    expect(req.headers.priority).toBe('5');
    expect(req.headers.tags).toBe('rotating_light,simpledeploy,deployment_failed');
    expect(req.body.split('\n')[0]).toBe(
      'Deployment of web failed: pull access denied (password ***)',
    );
    expect(req.body).toContain('deployment: dep_123');
    await notifications.stop();
  });

  it('email: a mail through a real SMTP server with AUTH, and a refused login ends failed', async () => {
    const { db, notifications } = setup();
    const n = notifications.notifiers.create({
      name: 'mail',
      kind: 'email',
      url: smtp.url,
      email_to: 'ops@example.test, dev@example.test',
      email_from: 'Deploys <deploys@example.test>',
      events: ['deployment.failed'],
    });
    const before = smtp.messages.length;
    notifications.publish(failed);
    await untilDelivered(db, n.id, 1);
    const mail = smtp.messages[before];
    expect(mail).toMatchObject({
      user: 'mailer',
      from: 'deploys@example.test',
      to: ['ops@example.test', 'dev@example.test'],
      subject: '[simpledeploy] web: deployment failed',
    });
    expect(mail?.text).toContain('Deployment of web failed: pull access denied (password ***)');
    expect(mail?.text).toContain('deployment: dep_123');
    expect(mail?.raw).not.toContain(STACK_TOKEN);

    const bad = notifications.notifiers.create({
      name: 'badmail',
      kind: 'email',
      url: smtp.url.replace('smtp-pa55word', 'wrong-password'),
      email_to: 'ops@example.test',
      events: ['deployment.failed'],
    });
    const sent = await notifications.notifiers.test('badmail');
    expect(sent.status).toBe('failed');
    expect(sent.response_status).toBe(535);
    expect(sent.last_error).not.toContain('wrong-password');
    expect(listNotificationDeliveries(db, bad.id, 5)).toHaveLength(1);
    await notifications.stop();
  });

  it('a receiver that is down gets the message once it is back, after retries with growing delays', async () => {
    const receiver = await startHttpReceiver();
    const { db, notifications } = setup();
    const n = notifications.notifiers.create({
      name: 'later',
      kind: 'slack',
      url: `${receiver.url}/services/T/B/later`,
      events: ['deployment.failed'],
    });
    await receiver.down();
    notifications.publish(failed);
    // How long each failed attempt set the next one off: base 300 ms doubling, with jitter.
    const delays = new Map<number, number>();
    const end = Date.now() + 10_000;
    while (delays.size < 3 && Date.now() < end) {
      const row = listNotificationDeliveries(db, n.id, 1)[0];
      if (row && row.attempts > 0 && !delays.has(row.attempts))
        delays.set(row.attempts, Date.parse(row.nextAttemptAt) - Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(delays.get(1)).toBeLessThanOrEqual(300);
    expect(delays.get(3)).toBeGreaterThan(500);
    const row = listNotificationDeliveries(db, n.id, 1)[0];
    expect(row).toMatchObject({ status: 'pending', attempts: 3 });
    expect(row?.lastError).toMatch(/ECONNREFUSED/);
    expect(receiver.requests).toHaveLength(0);
    await receiver.up();
    const [req] = await receiver.waitFor(1, 10_000);
    if (!req) throw new Error('nothing arrived');
    expect(slackPayloadProblems(req)).toEqual([]);
    const [done] = await untilDelivered(db, n.id, 1);
    expect(done).toMatchObject({ status: 'delivered', attempts: 4, responseStatus: 200 });
    await notifications.stop();
    await receiver.close();
  });
});
