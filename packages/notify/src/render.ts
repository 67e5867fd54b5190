import { createHmac } from 'node:crypto';
import {
  clip,
  clipBytes,
  detailLines,
  type NotificationMessage,
  type Severity,
  severityOf,
} from './message';

export const NOTIFIER_KINDS = ['webhook', 'slack', 'discord', 'ntfy', 'email'] as const;
export type NotifierKind = (typeof NOTIFIER_KINDS)[number];

/** A notifier with its secrets decrypted: only the worker and the renderer see this. */
export interface NotifierTarget {
  kind: NotifierKind;
  url: string;
  secret: string | null;
  emailTo: string[];
  emailFrom: string;
}

export interface HttpRequestOut {
  type: 'http';
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface MailOut {
  type: 'mail';
  url: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
}

export type Rendered = HttpRequestOut | MailOut;

/** What every receiver can use to drop a delivery it already has (retries resend the same id). */
export interface DeliveryMeta {
  deliveryId: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
}

const USER_AGENT = 'simpledeploy-notify/1';

/** `sha256=<hex HMAC-SHA256 of the raw body>` with the notifier's secret. */
export const signBody = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The request or mail for one delivery of a message to one notifier. */
export function render(t: NotifierTarget, m: NotificationMessage, meta: DeliveryMeta): Rendered {
  switch (t.kind) {
    case 'webhook':
      return renderWebhook(t, m, meta);
    case 'slack':
      return json(t.url, slackBody(m), meta);
    case 'discord':
      return json(t.url, discordBody(m), meta);
    case 'ntfy':
      return renderNtfy(t, m, meta);
    case 'email':
      return renderMail(t, m, meta);
  }
}

function json(url: string, payload: unknown, meta: DeliveryMeta): HttpRequestOut {
  return {
    type: 'http',
    url,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-simpledeploy-delivery': meta.deliveryId,
    },
    body: JSON.stringify(payload),
  };
}

/** The message itself as JSON, with the delivery's id, signed with the notifier's secret. */
function renderWebhook(
  t: NotifierTarget,
  m: NotificationMessage,
  meta: DeliveryMeta,
): HttpRequestOut {
  const body = JSON.stringify({ delivery_id: meta.deliveryId, ...m });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-simpledeploy-event': m.event,
    'x-simpledeploy-delivery': meta.deliveryId,
    'x-simpledeploy-timestamp': String(meta.timestamp),
  };
  if (t.secret) headers['x-simpledeploy-signature'] = signBody(t.secret, body);
  return { type: 'http', url: t.url, headers, body };
}

// Slack: `text` is the notification fallback; a header block is plain text of at most
// 150 characters, a section's mrkdwn at most 3000, a context element at most 2000.
const slackEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SLACK_ICON: Record<Severity, string> = {
  good: ':white_check_mark:',
  bad: ':x:',
  warn: ':warning:',
  info: ':information_source:',
};

export function slackBody(m: NotificationMessage) {
  const context = detailLines(m).join(' · ');
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(m.title, 150), emoji: true } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`${SLACK_ICON[severityOf(m.event)]} ${slackEscape(m.message)}`, 3000),
      },
    },
  ];
  if (context) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(slackEscape(context), 2000) }],
    });
  }
  return { text: clip(slackEscape(`${m.title}: ${m.message}`), 3000), blocks };
}

// Discord: content ≤ 2000; per embed title ≤ 256, description ≤ 4096, ≤ 25 fields of
// name ≤ 256 and value ≤ 1024, footer ≤ 2048, and all of an embed's text ≤ 6000.
const DISCORD_COLOR: Record<Severity, number> = {
  good: 0x2eb67d,
  bad: 0xe01e5a,
  warn: 0xecb22e,
  info: 0x36c5f0,
};

export function discordBody(m: NotificationMessage) {
  const fields: { name: string; value: string; inline: boolean }[] = [];
  if (m.stack) fields.push({ name: 'stack', value: m.stack.name, inline: true });
  if (m.host) fields.push({ name: 'host', value: m.host, inline: true });
  if (m.deployment_id) fields.push({ name: 'deployment', value: m.deployment_id, inline: true });
  for (const [k, v] of Object.entries(m.details)) {
    if (v === null || v === undefined || fields.length >= 25) continue;
    const value = typeof v === 'string' ? v : JSON.stringify(v);
    if (value === '') continue;
    fields.push({ name: clip(k, 256), value: clip(value, 1024), inline: false });
  }
  const title = clip(m.title, 256);
  const footer = `simpledeploy · ${m.event}`;
  // Fields are dropped from the end until the embed fits Discord's 6000-character total.
  let budget = 6000 - title.length - footer.length;
  const description = clip(m.message, Math.min(4096, Math.max(1, budget - 1)));
  budget -= description.length;
  const kept: typeof fields = [];
  for (const f of fields) {
    const size = f.name.length + f.value.length;
    if (size > budget) break;
    kept.push(f);
    budget -= size;
  }
  return {
    content: clip(m.title, 2000),
    // Nobody is pinged by text in a deploy log (an "@everyone" in a commit message).
    allowed_mentions: { parse: [] as string[] },
    embeds: [
      {
        title,
        description,
        color: DISCORD_COLOR[severityOf(m.event)],
        timestamp: m.at,
        fields: kept,
        footer: { text: footer },
      },
    ],
  };
}

// ntfy: the body is the message (over 4096 bytes ntfy turns it into an attachment);
// Title, Priority (1-5) and Tags (emoji short codes) as headers; a token as Bearer.
const NTFY_PRIORITY: Record<Severity, string> = { good: '3', bad: '5', warn: '4', info: '3' };
const NTFY_TAGS: Record<Severity, string> = {
  good: 'white_check_mark',
  bad: 'rotating_light',
  warn: 'warning',
  info: 'information_source',
};

/** Header values must be Latin-1 for fetch; anything else becomes "?". */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

function renderNtfy(t: NotifierTarget, m: NotificationMessage, meta: DeliveryMeta): HttpRequestOut {
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'user-agent': USER_AGENT,
    'x-simpledeploy-delivery': meta.deliveryId,
    title: headerSafe(clip(m.title, 250)),
    priority: NTFY_PRIORITY[severityOf(m.event)],
    tags: [NTFY_TAGS[severityOf(m.event)], 'simpledeploy', m.event.replace(/\./g, '_')].join(','),
  };
  if (t.secret) headers.authorization = `Bearer ${t.secret}`;
  const body = clipBytes([m.message, '', ...detailLines(m)].join('\n').trim(), 4096);
  return { type: 'http', url: t.url, headers, body };
}

function renderMail(t: NotifierTarget, m: NotificationMessage, meta: DeliveryMeta): MailOut {
  return {
    type: 'mail',
    url: t.url,
    from: t.emailFrom,
    to: t.emailTo,
    subject: `[simpledeploy] ${clip(m.title, 200)}`,
    text: [m.message, '', ...detailLines(m), '', `event: ${m.event}`, `at: ${m.at}`].join('\n'),
    headers: { 'X-Simpledeploy-Delivery': meta.deliveryId, 'X-Simpledeploy-Event': m.event },
  };
}
