import { describe, expect, it } from 'vitest';
import { type HeaderReader, verifyWebhookSignature } from './webhook-verify';

const headers =
  (h: Record<string, string>): HeaderReader =>
  (name) =>
    Object.entries(h).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
const bytes = (s: string) => new TextEncoder().encode(s);

// GitHub's documented example ("Validating webhook deliveries").
const GH_SECRET = "It's a Secret to Everybody";
const GH_BODY = 'Hello, World!';
const GH_SIG = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

// Computed independently with `printf '{"ref":"refs/heads/main"}' | openssl dgst -sha256 -hmac gitea-secret`.
const GITEA_SECRET = 'gitea-secret';
const GITEA_BODY = '{"ref":"refs/heads/main"}';
const GITEA_SIG = '6aab54046b413afedbc6d4ff0d3b4fd694c1af82c19c0be7ee9b80438b90223d';

describe('verifyWebhookSignature', () => {
  it("accepts GitHub's published example vector", () => {
    expect(
      verifyWebhookSignature(headers({ 'X-Hub-Signature-256': GH_SIG }), bytes(GH_BODY), GH_SECRET),
    ).toBe('github');
  });

  it('accepts upper-case hex', () => {
    expect(
      verifyWebhookSignature(
        headers({ 'X-Hub-Signature-256': `sha256=${GH_SIG.slice(7).toUpperCase()}` }),
        bytes(GH_BODY),
        GH_SECRET,
      ),
    ).toBe('github');
  });

  it.each([
    ['X-Gitea-Signature', 'gitea'],
    ['X-Forgejo-Signature', 'gitea'],
    ['X-Gogs-Signature', 'gogs'],
  ])('accepts %s (bare hex HMAC-SHA256)', (header, method) => {
    expect(
      verifyWebhookSignature(headers({ [header]: GITEA_SIG }), bytes(GITEA_BODY), GITEA_SECRET),
    ).toBe(method);
  });

  it('accepts the GitLab token', () => {
    expect(
      verifyWebhookSignature(headers({ 'X-Gitlab-Token': 's3cret' }), bytes('{}'), 's3cret'),
    ).toBe('gitlab');
  });

  it.each([
    ['a wrong signature', { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }],
    ['a signature of another body', { 'X-Gitea-Signature': GITEA_SIG }],
    ['the signature without its sha256= prefix', { 'X-Hub-Signature-256': GH_SIG.slice(7) }],
    ['a sha1 signature', { 'X-Hub-Signature': 'sha1=abc' }],
    ['an empty signature', { 'X-Hub-Signature-256': 'sha256=' }],
    ['a wrong GitLab token', { 'X-Gitlab-Token': 'nope' }],
    ['no header at all', {}],
  ])('refuses %s', (_what, h) => {
    expect(verifyWebhookSignature(headers(h), bytes(GH_BODY), GH_SECRET)).toBeUndefined();
  });

  it('checks the exact bytes: one changed byte fails', () => {
    expect(
      verifyWebhookSignature(
        headers({ 'X-Hub-Signature-256': GH_SIG }),
        bytes('Hello, World?'),
        GH_SECRET,
      ),
    ).toBeUndefined();
  });

  it('never matches with an empty secret', () => {
    expect(
      verifyWebhookSignature(headers({ 'X-Gitlab-Token': '' }), bytes(''), ''),
    ).toBeUndefined();
  });
});
