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
    ['the signature cut by one digit', { 'X-Hub-Signature-256': GH_SIG.slice(0, -1) }],
    ['the signature with a digit more', { 'X-Hub-Signature-256': `${GH_SIG}7` }],
    // Decoding hex stops at the first non-hex pair: the rest must not be ignored.
    ['the signature with a non-hex tail', { 'X-Hub-Signature-256': `${GH_SIG.slice(0, -2)}zz` }],
    ['a Gitea signature of the right length, not hex', { 'X-Gitea-Signature': 'g'.repeat(64) }],
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

  describe("the stack's own signature header (Supervisor's signature_header)", () => {
    // Computed independently with `printf 'Hello, World!' | openssl dgst -sha1 -hmac "..."`.
    const SHA1 = '01dc10d0c83e72ed246219cdd91669667fe2ca59';
    const SHA512 =
      '11ed355a617e98134e842012a7944ccf59c10256cb182357bd7e3a42013ff07c376f8c14cf5cc1923da20b51d64256b2fb8ebbf100aa67a61326f61fea8111bc';
    const verify = (h: Record<string, string>, header = 'X-Signature') =>
      verifyWebhookSignature(headers(h), bytes(GH_BODY), GH_SECRET, header);

    it.each([
      ['sha256=<hex>', GH_SIG],
      ['sha1=<hex>', `sha1=${SHA1}`],
      ['sha512=<hex>', `sha512=${SHA512}`],
      ['bare hex, read as sha256', GH_SIG.slice(7)],
      ['upper case', `SHA1=${SHA1.toUpperCase()}`],
    ])('accepts %s in the header the stack names, whatever its case', (_what, value) => {
      expect(verify({ 'x-signature': value })).toBe('custom');
    });

    it.each([
      ['another algorithm than it claims', { 'X-Signature': `sha256=${SHA1}` }],
      ['an algorithm it does not know', { 'X-Signature': `md5=${SHA1}` }],
      ['a wrong signature', { 'X-Signature': `sha256=${'0'.repeat(64)}` }],
      ['the right signature in another header', { 'X-Other': GH_SIG }],
      ['an empty value', { 'X-Signature': '' }],
      ['a prefix alone', { 'X-Signature': 'sha256=' }],
    ])('refuses %s', (_what, h) => {
      expect(verify(h)).toBeUndefined();
    });

    it('is not checked for a stack without one', () => {
      expect(
        verifyWebhookSignature(headers({ 'X-Signature': GH_SIG }), bytes(GH_BODY), GH_SECRET),
      ).toBeUndefined();
    });
  });

  it('never matches with an empty secret', () => {
    expect(
      verifyWebhookSignature(headers({ 'X-Gitlab-Token': '' }), bytes(''), ''),
    ).toBeUndefined();
  });
});
