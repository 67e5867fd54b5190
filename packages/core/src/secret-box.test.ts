import { describe, expect, it } from 'vitest';
import { safeEqual } from './constant-time';
import { canonicalJson, sha256 } from './hash';
import { createSecretBox, isEncrypted } from './secret-box';

describe('createSecretBox', () => {
  it('round-trips and never stores the plaintext', () => {
    const box = createSecretBox('a passphrase');
    const stored = box.encrypt('my-token');
    expect(isEncrypted(stored)).toBe(true);
    expect(stored).not.toContain('my-token');
    expect(box.decrypt(stored)).toBe('my-token');
  });

  it('uses a fresh IV so equal secrets encrypt differently', () => {
    const box = createSecretBox('k');
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  it('refuses to decrypt with another key, saying which setting is wrong', () => {
    const stored = createSecretBox('one').encrypt('x');
    expect(() => createSecretBox('two').decrypt(stored)).toThrow(/SIMPLEDEPLOY_SECRET_KEY/);
  });
});

describe('hashing and comparison', () => {
  it('hashes objects independently of key order', () => {
    expect(sha256(canonicalJson({ b: 1, a: { d: 2, c: 3 } }))).toBe(
      sha256(canonicalJson({ a: { c: 3, d: 2 }, b: 1 })),
    );
  });

  it('compares secrets of different lengths without throwing', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
