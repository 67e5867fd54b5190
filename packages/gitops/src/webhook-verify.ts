import { createHmac, timingSafeEqual } from 'node:crypto';
import { safeEqual } from '@simpledeploy/core';

/** Reads a request header by name, case-insensitively (Hono's `c.req.header`). */
export type HeaderReader = (name: string) => string | undefined;

export type SignatureMethod = 'github' | 'gitea' | 'gogs' | 'gitlab' | 'custom';

const hmacOf = (algorithm: string, secret: string, body: Uint8Array) =>
  createHmac(algorithm, secret).update(body).digest();

const HEX = /^[0-9a-f]+$/i;

/**
 * A hex signature against the HMAC's bytes, in constant time: the digest's length is
 * public (it follows from the algorithm), so only a given value of that length is
 * decoded and compared, with no hashing of both sides first.
 */
function macEquals(given: string, mac: Buffer): boolean {
  if (given.length !== mac.length * 2 || !HEX.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), mac);
}

/** `<algorithm>=<hex>` (Supervisor's form, GitHub's too) or bare hex, read as HMAC-SHA256. */
const CUSTOM_SIGNATURE = /^(?:(sha1|sha256|sha384|sha512)=)?([0-9a-f]+)$/i;

/**
 * Checks a git host's webhook authentication against the stack's secret, over the raw
 * body bytes: GitHub `X-Hub-Signature-256: sha256=<hex>`, Gitea/Forgejo
 * `X-Gitea-Signature` (or `X-Forgejo-Signature`), Gogs `X-Gogs-Signature` (hex
 * HMAC-SHA256), GitLab `X-Gitlab-Token: <secret>`, and the stack's own
 * `signatureHeader` when it has one (Supervisor's `signature_header`):
 * `<algorithm>=<hex HMAC>` with sha1, sha256, sha384 or sha512, or bare hex for sha256.
 * Every header present is checked and every comparison is constant-time, so timing
 * tells nothing about which one matched. Returns the method that matched, or undefined.
 */
export function verifyWebhookSignature(
  header: HeaderReader,
  body: Uint8Array,
  secret: string,
  signatureHeader?: string | null,
): SignatureMethod | undefined {
  let matched: SignatureMethod | undefined;
  // Computed whatever the request carries, so the time taken does not tell whether the
  // stack exists or which header it reads.
  const mac = hmacOf('sha256', secret, body);
  const github = header('x-hub-signature-256')?.trim();
  if (github?.startsWith('sha256=') && macEquals(github.slice(7), mac)) matched ??= 'github';
  for (const [name, method] of [
    ['x-gitea-signature', 'gitea'],
    ['x-forgejo-signature', 'gitea'],
    ['x-gogs-signature', 'gogs'],
  ] as const) {
    const value = header(name)?.trim();
    if (value && macEquals(value, mac)) matched ??= method;
  }
  const gitlab = header('x-gitlab-token');
  if (gitlab && safeEqual(gitlab, secret)) matched ??= 'gitlab';
  const custom = signatureHeader
    ? CUSTOM_SIGNATURE.exec(header(signatureHeader)?.trim() ?? '')
    : null;
  if (custom?.[2]) {
    const algorithm = custom[1]?.toLowerCase() ?? 'sha256';
    const expected = algorithm === 'sha256' ? mac : hmacOf(algorithm, secret, body);
    if (macEquals(custom[2], expected)) matched ??= 'custom';
  }
  // An empty secret would make an empty token "match": a stack without one never verifies.
  return secret ? matched : undefined;
}
