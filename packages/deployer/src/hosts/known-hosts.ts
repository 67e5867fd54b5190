import { createHmac, timingSafeEqual } from 'node:crypto';

/** One usable line of a known_hosts file. */
interface KnownHost {
  patterns: string[];
  keyType: string;
  key: Buffer;
}

/** Reads known_hosts text (`host[,host] keytype base64 [comment]`); markers and bad lines are skipped. */
export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, keyType, b64] = line.split(/\s+/);
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) continue;
    out.push({ patterns: hosts.split(','), keyType, key: Buffer.from(b64, 'base64') });
  }
  return out;
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise. */
const hostName = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

/** A plain pattern, or a hashed one (`|1|salt|hash`, HMAC-SHA1 of the name); no wildcards. */
function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  return pattern === name;
}

/** The key blob's type, as the SSH wire format starts with it. */
function blobType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const n = key.readUInt32BE(0);
  return key.length >= 4 + n ? key.subarray(4, 4 + n).toString('latin1') : undefined;
}

/**
 * True when the key the server presented is pinned for this host and port. A host with no
 * pinned key is refused: there is no "accept the first key".
 */
export function hostKeyPinned(
  entries: KnownHost[],
  host: string,
  port: number,
  presented: Buffer,
): boolean {
  const name = hostName(host, port);
  const type = blobType(presented);
  return entries.some(
    (e) =>
      e.patterns.some((p) => patternMatches(p, name)) &&
      e.keyType === type &&
      e.key.length === presented.length &&
      timingSafeEqual(e.key, presented),
  );
}
