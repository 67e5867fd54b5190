import { describe, expect, it } from 'vitest';
import {
  composeRedactors,
  createRedactor,
  createSecretRegistry,
  maskCredentials,
  REDACTED,
  redactionGeneration,
  stripUrlCredentials,
} from './redact';

describe('createRedactor', () => {
  const redact = createRedactor(['s3cr3t-token', 'hunter22', undefined, 'ab']);

  it('replaces every known secret wherever it appears', () => {
    expect(redact('token=s3cr3t-token and again s3cr3t-token')).toBe(
      `token=${REDACTED} and again ${REDACTED}`,
    );
  });

  it('replaces the base64 and URL-encoded forms of a secret', () => {
    const b64 = Buffer.from('hunter22').toString('base64');
    expect(redact(`auth: ${b64}`)).not.toContain(b64);
    const r = createRedactor(['p@ss word!']);
    expect(r(`x=${encodeURIComponent('p@ss word!')}`)).toBe(`x=${REDACTED}`);
  });

  it('masks credentials inside URLs even when the secret is unknown', () => {
    expect(redact('cloning https://bob:other-token@git.local/repo.git failed')).toBe(
      `cloning https://bob:${REDACTED}@git.local/repo.git failed`,
    );
  });

  it('masks authorization headers', () => {
    expect(redact('Authorization: Basic Ym9iOnB3')).toBe(`Authorization: Basic ${REDACTED}`);
  });

  it('leaves a placeholder such as <key> in help text alone, and masks anything else', () => {
    const help = 'send it as "X-API-KEY: <key>" or "Authorization: Bearer <key>"';
    expect(redact(help)).toBe(help);
    expect(maskCredentials('Authorization: Bearer <api_key>.')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
    for (const text of [
      'authorization: token <YOUR-TOKEN>',
      "curl -H 'Authorization: Bearer <key>' http://x",
    ]) {
      expect(maskCredentials(text)).toBe(text);
    }
    // A value that only starts or ends like a placeholder is a credential.
    for (const value of ['<key>s3cr3t', 's3cr3t<key>', '<k3y!>', '<>', '<key', 'key>']) {
      expect(maskCredentials(`Authorization: Bearer ${value} next`)).toBe(
        `Authorization: Bearer ${REDACTED} next`,
      );
    }
    // Known secrets are masked wherever they are, placeholder-shaped or not.
    expect(createRedactor(['<hunter22>'])('Authorization: Basic <hunter22>')).toBe(
      `Authorization: Basic ${REDACTED}`,
    );
  });

  it('masks overlapping secrets as one span, so no part of the longer one survives', () => {
    const r = createRedactor(['abcd', 'bcdefgh']);
    expect(r('xx abcdefgh yy')).toBe(`xx ${REDACTED} yy`);
    expect(r('abcd abcd')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('scans once however many secrets it knows', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `secret-value-${i}`);
    const r = createRedactor(many);
    expect(r('a line with secret-value-2999 and secret-value-7 in it')).toBe(
      `a line with ${REDACTED} and ${REDACTED} in it`,
    );
  });

  it('leaves very short values alone so ordinary text survives', () => {
    expect(redact('ab cd')).toBe('ab cd');
  });
});

describe('stripUrlCredentials', () => {
  it('removes user and password from a URL', () => {
    expect(stripUrlCredentials('https://u:p@host/x.git')).toBe('https://host/x.git');
  });
});

describe('maskCredentials and createSecretRegistry', () => {
  it('masks a token given as the only user of an http(s) URL', () => {
    expect(maskCredentials('https://ghp_abc123@github.com/o/r.git')).toBe(
      `https://${REDACTED}@github.com/o/r.git`,
    );
    expect(maskCredentials('see https://github.com/o/r.git')).toBe(
      'see https://github.com/o/r.git',
    );
  });

  it('redacts what each scope holds, and forgets a scope', () => {
    const reg = createSecretRegistry(['base-secret']);
    reg.set('a', ['scope-a-secret']);
    expect(reg.redact('base-secret scope-a-secret')).toBe(`${REDACTED} ${REDACTED}`);
    reg.delete('a');
    expect(reg.redact('scope-a-secret')).toBe('scope-a-secret');
  });
});

describe('redactionGeneration', () => {
  it('moves when a registry learns or forgets a secret, not when it is told the same again', () => {
    const reg = createSecretRegistry(['base-secret']);
    const composed = composeRedactors(createRedactor(['own-secret']), reg.redact);
    const g0 = redactionGeneration(composed);
    expect(g0).toBeTypeOf('number');
    reg.set('a', ['scope-a-secret']);
    const g1 = redactionGeneration(composed);
    expect(g1).not.toBe(g0);
    reg.set('a', ['scope-a-secret']);
    expect(redactionGeneration(composed)).toBe(g1);
    reg.delete('a');
    expect(redactionGeneration(composed)).not.toBe(g1);
    expect(redactionGeneration(maskCredentials)).toBe(0);
    expect(redactionGeneration((t: string) => t)).toBeUndefined();
    expect(redactionGeneration(composeRedactors(reg.redact, (t: string) => t))).toBeUndefined();
  });
});
