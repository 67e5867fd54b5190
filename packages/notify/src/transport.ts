import { createTransport } from 'nodemailer';
import type { HttpRequestOut, MailOut, Rendered } from './render';

/** What one attempt came to. `retryAfterMs` is the receiver's own Retry-After, if it sent one. */
export type SendResult =
  | { ok: true; status: number | null }
  | { ok: false; status: number | null; error: string; permanent: boolean; retryAfterMs?: number };

/** Sends a rendered delivery: fetch for the HTTP kinds, nodemailer for e-mail. A fake in unit tests. */
export interface Transport {
  send(out: Rendered, timeoutMs: number): Promise<SendResult>;
}

export const httpTransport: Transport = {
  send: (out, timeoutMs) =>
    out.type === 'http' ? sendHttp(out, timeoutMs) : sendMail(out, timeoutMs),
};

/** 4xx answers will not change by retrying, except these. */
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

async function sendHttp(out: HttpRequestOut, timeoutMs: number): Promise<SendResult> {
  let res: Response;
  try {
    res = await fetch(out.url, {
      method: 'POST',
      headers: out.headers,
      body: out.body,
      // A redirect could carry the signed body somewhere the operator did not name.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { ok: false, status: null, error: describeFetchError(error), permanent: false };
  }
  // Read (and bound) the answer so the connection is released.
  const text = (await res.text().catch(() => '')).slice(0, 300);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const permanent = res.status >= 300 && res.status < 500 && !RETRYABLE_4XX.has(res.status);
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  return {
    ok: false,
    status: res.status,
    error: `the receiver answered ${res.status}${text ? `: ${text.replace(/\s+/g, ' ').trim()}` : ''}`,
    permanent,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError')
    return 'the receiver did not answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `cannot reach the receiver (${cause.code})`;
  return `cannot reach the receiver (${error instanceof Error ? error.message : String(error)})`;
}

/** Seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function sendMail(out: MailOut, timeoutMs: number): Promise<SendResult> {
  const transport = createTransport({
    url: out.url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({
      from: out.from,
      to: out.to,
      subject: out.subject,
      text: out.text,
      headers: out.headers,
    });
    return { ok: true, status: null };
  } catch (error) {
    const e = error as { responseCode?: number; message?: string };
    // 5xx SMTP replies are permanent refusals (bad recipient, auth refused); 4xx are "try later".
    const code = typeof e.responseCode === 'number' ? e.responseCode : null;
    return {
      ok: false,
      status: code,
      error: `the SMTP server refused the mail: ${e.message ?? String(error)}`,
      permanent: code !== null && code >= 500,
    };
  } finally {
    transport.close();
  }
}
