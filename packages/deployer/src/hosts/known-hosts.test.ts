import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hostKeyPinned, parseKnownHosts } from './known-hosts';

/** An SSH wire-format key blob: string type, then some key bytes. */
const blob = (type: string, body = randomBytes(32)) => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, body]);
};

describe('known_hosts pinning', () => {
  const key = blob('ssh-ed25519');
  const line = (host: string, k = key) => `${host} ssh-ed25519 ${k.toString('base64')} comment`;

  it('accepts the pinned key for the host on port 22 and as [host]:port otherwise', () => {
    expect(hostKeyPinned(parseKnownHosts(line('10.0.0.2')), '10.0.0.2', 22, key)).toBe(true);
    expect(hostKeyPinned(parseKnownHosts(line('[10.0.0.2]:2222')), '10.0.0.2', 2222, key)).toBe(
      true,
    );
    expect(hostKeyPinned(parseKnownHosts(line('10.0.0.2')), '10.0.0.2', 2222, key)).toBe(false);
  });

  it('refuses another key, another host, and a host with nothing pinned', () => {
    const other = blob('ssh-ed25519');
    expect(hostKeyPinned(parseKnownHosts(line('10.0.0.2')), '10.0.0.2', 22, other)).toBe(false);
    expect(hostKeyPinned(parseKnownHosts(line('10.0.0.3')), '10.0.0.2', 22, key)).toBe(false);
    expect(hostKeyPinned(parseKnownHosts(''), '10.0.0.2', 22, key)).toBe(false);
  });

  it('refuses a key of another type with the same bytes', () => {
    const rsa = blob('ssh-rsa', key.subarray(4 + 'ssh-ed25519'.length));
    const text = `10.0.0.2 ssh-rsa ${key.toString('base64')}`;
    expect(hostKeyPinned(parseKnownHosts(text), '10.0.0.2', 22, key)).toBe(false);
    expect(hostKeyPinned(parseKnownHosts(line('10.0.0.2')), '10.0.0.2', 22, rsa)).toBe(false);
  });

  it('matches hashed host names, and skips comments, markers and broken lines', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('h.example').digest();
    const hashed = `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
    const text = [
      '# a comment',
      `@revoked h.example ssh-ed25519 ${key.toString('base64')}`,
      'garbage',
      line(hashed),
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries).toHaveLength(1);
    expect(hostKeyPinned(entries, 'h.example', 22, key)).toBe(true);
    expect(hostKeyPinned(entries, 'other.example', 22, key)).toBe(false);
  });
});
