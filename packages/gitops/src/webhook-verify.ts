import { createHmac } from 'node:crypto';
import { safeEqual } from '@simpledeploy/core';

/** Reads a request header by name, case-insensitively (Hono's `c.req.header`). */
export type HeaderReader = (name: string) => string | undefined;

export type SignatureMethod = 'github' | 'gitea' | 'gogs' | 'gitlab';

const hmacHex = (secret: string, body: Uint8Array) =>
  createHmac('sha256', secret).update(body).digest('hex');

/**
 * Checks a git host's webhook authentication against the stack's secret, over the raw
 * body bytes: GitHub `X-Hub-Signature-256: sha256=<hex>`, Gitea/Forgejo
 * `X-Gitea-Signature` (or `X-Forgejo-Signature`), Gogs `X-Gogs-Signature` (hex
 * HMAC-SHA256), GitLab `X-Gitlab-Token: <secret>`. Every header present is checked and
 * every comparison is constant-time, so timing tells nothing about which one matched.
 * Returns the method that matched, or undefined.
 */
export function verifyWebhookSignature(
  header: HeaderReader,
  body: Uint8Array,
  secret: string,
): SignatureMethod | undefined {
  let matched: SignatureMethod | undefined;
  let expected: string | undefined;
  const hex = () => {
    expected ??= hmacHex(secret, body);
    return expected;
  };
  const github = header('x-hub-signature-256')?.trim();
  if (github) {
    const given = /^sha256=([0-9a-fA-F]+)$/.exec(github)?.[1]?.toLowerCase() ?? '';
    if (safeEqual(given, hex()) && given) matched ??= 'github';
  }
  for (const [name, method] of [
    ['x-gitea-signature', 'gitea'],
    ['x-forgejo-signature', 'gitea'],
    ['x-gogs-signature', 'gogs'],
  ] as const) {
    const value = header(name)?.trim().toLowerCase();
    if (value && safeEqual(value, hex())) matched ??= method;
  }
  const gitlab = header('x-gitlab-token');
  if (gitlab && safeEqual(gitlab, secret)) matched ??= 'gitlab';
  // An empty secret would make an empty token "match": a stack without one never verifies.
  return secret ? matched : undefined;
}
