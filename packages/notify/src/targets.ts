import type { SecretBox } from '@simpledeploy/core';
import type { NotifierRow } from '@simpledeploy/db';
import type { NotifierKind, NotifierTarget } from './render';

/** Without an e-mail notifier's own from address. */
export const DEFAULT_EMAIL_FROM = 'simpledeploy <simpledeploy@localhost>';

export const splitAddresses = (s: string | null | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);

/** The row with its URL and secret decrypted, for the renderer. */
export function targetOf(row: NotifierRow, box: SecretBox): NotifierTarget {
  return {
    kind: row.kind as NotifierKind,
    url: box.decrypt(row.urlEnc),
    secret: row.secretEnc ? box.decrypt(row.secretEnc) : null,
    emailTo: splitAddresses(row.emailTo),
    emailFrom: row.emailFrom ?? DEFAULT_EMAIL_FROM,
  };
}

/** Every secret a notifier holds, for the redactor: no notification carries another's credential. */
export function notifierSecrets(t: NotifierTarget): string[] {
  const out = [t.url];
  if (t.secret) out.push(t.secret);
  try {
    const u = new URL(t.url);
    if (u.password) out.push(decodeURIComponent(u.password), u.password);
    if (t.kind !== 'webhook' && t.kind !== 'email') {
      const last = u.pathname.split('/').filter(Boolean).at(-1);
      if (last) out.push(last);
    }
    for (const v of u.searchParams.values()) if (v) out.push(v);
  } catch {
    // An unparsable URL is still redacted whole.
  }
  return out;
}

export const MASK = '***';

/**
 * The URL as it may be shown: a password and query values masked, and for Slack,
 * Discord and ntfy the last path segment too (the webhook token or the topic, which
 * is the credential there).
 */
export function maskUrl(kind: NotifierKind, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  if (u.password) u.password = MASK;
  for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, MASK);
  if (kind === 'slack' || kind === 'discord' || kind === 'ntfy') {
    const parts = u.pathname.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      if (parts[i]) {
        parts[i] = MASK;
        break;
      }
    }
    u.pathname = parts.join('/');
  }
  // URL encodes the mask inside the path and query; show it as typed.
  return u.toString().replace(/%2A/gi, '*');
}
