import type { NotificationEvent } from '@simpledeploy/core';

/** The event of a delivery: a subscribed event, or `notifier.test` from the test route. */
export type DeliveryEvent = NotificationEvent | 'notifier.test';

/**
 * A notification as stored in the outbox (already redacted) and as a webhook receives
 * it: the body of every kind is rendered from this.
 */
export interface NotificationMessage {
  /** The notification's id: the same for every notifier it went to. */
  notification_id: string;
  event: DeliveryEvent;
  /** ISO time the event was published. */
  at: string;
  title: string;
  message: string;
  stack: { id: string; name: string } | null;
  host: string | null;
  deployment_id: string | null;
  details: Record<string, unknown>;
  test: boolean;
}

const TITLES: Record<DeliveryEvent, string> = {
  'deployment.succeeded': 'deployment succeeded',
  'deployment.failed': 'deployment failed',
  'deployment.rolled_back': 'deployment rolled back',
  'deployment.canceled': 'deployment canceled',
  'drift.detected': 'drift detected',
  'update.available': 'image update available',
  'poll.failing': 'polling is failing',
  'host.unreachable': 'host unreachable',
  'notifier.test': 'test notification',
};

/** "web: deployment failed", "host edge-1: host unreachable", "test notification". */
export function titleFor(
  event: DeliveryEvent,
  stack: { name: string } | null,
  host: string | null,
): string {
  const what = TITLES[event];
  if (stack) return `${stack.name}: ${what}`;
  if (host) return `host ${host}: ${what}`;
  return what;
}

/** How bad an event is, for colours and priorities. */
export type Severity = 'good' | 'bad' | 'warn' | 'info';

export function severityOf(event: DeliveryEvent): Severity {
  switch (event) {
    case 'deployment.succeeded':
      return 'good';
    case 'deployment.failed':
    case 'host.unreachable':
      return 'bad';
    case 'deployment.rolled_back':
    case 'drift.detected':
    case 'poll.failing':
      return 'warn';
    case 'deployment.canceled':
    case 'update.available':
    case 'notifier.test':
      return 'info';
  }
}

/** Truncates to at most `max` characters (code points), marking the cut with an ellipsis. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Truncates to at most `max` UTF-8 bytes without splitting a character. */
export function clipBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let size = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (size + n > max - 3) break;
    out += ch;
    size += n;
  }
  return `${out}…`;
}

/** The details as "key: value" lines, for the plain-text kinds. */
export function detailLines(m: NotificationMessage): string[] {
  const lines: string[] = [];
  if (m.stack) lines.push(`stack: ${m.stack.name}`);
  if (m.host) lines.push(`host: ${m.host}`);
  if (m.deployment_id) lines.push(`deployment: ${m.deployment_id}`);
  for (const [k, v] of Object.entries(m.details)) {
    if (v === null || v === undefined) continue;
    lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}
