import { loginFingerprint, type RegistryLogin } from './client';
import type { ImageReference } from './reference';

interface Entry {
  at: number;
  result: Promise<string>;
  settled: boolean;
}

export interface DigestCacheOptions {
  /** Asks the registry (RegistryClient.manifestDigest). */
  lookup: (ref: ImageReference, login?: RegistryLogin) => Promise<string>;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** How long an answer (or a failure) is reused at most. */
  ttlMs: number;
  /** Entries kept at most; the oldest go first. Default 2000. */
  maxEntries?: number;
}

/**
 * Registry answers per image reference and login, reused for a short time and shared by
 * callers asking at once: fifty stacks on one image cost one registry request per round.
 * The login is part of the key (as a hash), so a stack never learns a private image's
 * digest through another stack's credentials.
 */
export function createDigestCache(opts: DigestCacheOptions) {
  const entries = new Map<string, Entry>();
  const max = opts.maxEntries ?? 2000;
  const keyOf = (ref: ImageReference, login?: RegistryLogin) =>
    `${ref.canonical}|${login ? loginFingerprint(login) : ''}`;

  return {
    /**
     * The digest of `ref`, from an answer at most `maxAgeMs` old (default the TTL) or a
     * request already under way; otherwise a new request.
     */
    digest(ref: ImageReference, login?: RegistryLogin, maxAgeMs = opts.ttlMs): Promise<string> {
      const key = keyOf(ref, login);
      const t = opts.now();
      const hit = entries.get(key);
      if (hit && (!hit.settled || t - hit.at < Math.min(maxAgeMs, opts.ttlMs))) return hit.result;
      const result = opts.lookup(ref, login);
      const entry: Entry = { at: t, result, settled: false };
      // A failure is reused as briefly as an answer: a registry that is down is not hammered.
      result.then(
        () => {
          entry.settled = true;
        },
        () => {
          entry.settled = true;
        },
      );
      entries.delete(key);
      entries.set(key, entry);
      if (entries.size > max) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return result;
    },
    /** Forgets every answer (a stack's login changed, tests). */
    clear: () => entries.clear(),
  };
}

export type DigestCache = ReturnType<typeof createDigestCache>;
