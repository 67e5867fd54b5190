export const REDACTED = '***';

/** Minimum length of a secret worth redacting: shorter values would shred ordinary text. */
const MIN_SECRET_LENGTH = 4;

// user:password@ in any URL, e.g. https://user:token@git.example/repo.git
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;
// A token given as the only userinfo of an http(s) URL, e.g. https://ghp_x@github.com/o/r.git
const URL_TOKEN_USER = /(https?:\/\/)([^/\s:@]+)@/gi;
// Authorization headers and basic-auth blobs that end up in tool output. A placeholder
// such as `<key>` in help text is left alone: no credential is an angle-bracketed word.
const AUTH_HEADER =
  /(authorization:\s*(?:basic|bearer|token)\s+)(?!<[a-z][a-z0-9_-]{0,31}>(?![^\s'"]))[^\s'"]+/gi;

export type Redact = (text: string) => string;

// Per redactor, a count that moves whenever it may redact a text differently: a cache of
// redacted text (the stack list's) stays right while the count stands still.
const generations = new WeakMap<Redact, () => number>();
const FIXED = () => 0;

/**
 * The generation of a redactor built here: a number that changes whenever the redactor may
 * redact some text differently than before (a secret registry that learnt or forgot a
 * secret). `undefined` for a redactor not built here: nothing may be cached on it.
 */
export function redactionGeneration(redact: Redact): number | undefined {
  return generations.get(redact)?.();
}

/**
 * The one redaction path for everything that leaves the process: log lines, deploy
 * output, error messages. Known secrets are replaced wherever they appear, also in
 * their base64 and URL-encoded forms, and credentials inside URLs are masked.
 */
export function createRedactor(secrets: Iterable<string | null | undefined>): Redact {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < MIN_SECRET_LENGTH) continue;
    needles.add(s);
    needles.add(encodeURIComponent(s));
    needles.add(Buffer.from(s).toString('base64'));
  }
  if (needles.size === 0) return maskCredentials;
  // Indexed by their first characters, so a text is scanned once however many secrets the
  // process knows (every stack's): the cost grows with the text, not with the secrets.
  const byPrefix = new Map<string, string[]>();
  for (const n of needles) {
    const key = n.slice(0, MIN_SECRET_LENGTH);
    const list = byPrefix.get(key) ?? [];
    list.push(n);
    byPrefix.set(key, list);
  }
  for (const list of byPrefix.values()) list.sort((a, b) => b.length - a.length);
  const redact: Redact = (text: string) => maskCredentials(maskKnown(text, byPrefix));
  generations.set(redact, FIXED);
  return redact;
}

/**
 * Replaces every span covered by a known secret with one REDACTED marker. Overlapping
 * secrets merge into one span, so no part of a longer secret survives a shorter one.
 */
function maskKnown(text: string, byPrefix: Map<string, string[]>): string {
  let out = '';
  let copied = 0;
  let spanStart = -1;
  let spanEnd = -1;
  for (let i = 0; i + MIN_SECRET_LENGTH <= text.length; i++) {
    const candidates = byPrefix.get(text.slice(i, i + MIN_SECRET_LENGTH));
    const hit = candidates?.find((n) => text.startsWith(n, i));
    if (hit === undefined) continue;
    if (spanStart >= 0 && i <= spanEnd) {
      spanEnd = Math.max(spanEnd, i + hit.length);
      continue;
    }
    if (spanStart >= 0) {
      out += `${text.slice(copied, spanStart)}${REDACTED}`;
      copied = spanEnd;
    }
    spanStart = i;
    spanEnd = i + hit.length;
  }
  if (spanStart < 0) return text;
  return `${out}${text.slice(copied, spanStart)}${REDACTED}${text.slice(spanEnd)}`;
}

/** Masks credentials that have a recognisable shape, whatever their value: URL userinfo, auth headers. */
export const maskCredentials: Redact = (text) =>
  text
    .replace(URL_CREDENTIALS, `$1$2:${REDACTED}@`)
    .replace(URL_TOKEN_USER, `$1${REDACTED}@`)
    .replace(AUTH_HEADER, `$1${REDACTED}`);
generations.set(maskCredentials, FIXED);

/**
 * Secrets known to the whole process, grouped by scope (e.g. one scope per stack), as one
 * redactor that follows changes. The server logger and every deploy log pass through
 * it, so no stack's secret can appear in any output, even another stack's.
 */
export interface SecretRegistry {
  redact: Redact;
  set(scope: string, secrets: Iterable<string | null | undefined>): void;
  delete(scope: string): void;
}

export function createSecretRegistry(
  base: Iterable<string | null | undefined> = [],
): SecretRegistry {
  const scopes = new Map<string, (string | null | undefined)[]>([['', [...base]]]);
  let current: Redact | undefined;
  let generation = 0;
  const redact: Redact = (text) => {
    current ??= createRedactor([...scopes.values()].flat());
    return current(text);
  };
  generations.set(redact, () => generation);
  return {
    redact,
    set(scope, secrets) {
      const next = [...secrets];
      const had = scopes.get(`:${scope}`);
      // Every change of a stack sets its secrets again; most changes leave them as they were,
      // and rebuilding the index of every stack's secrets for nothing was the largest cost
      // of the stack list rebuilt after a write with 1000 stacks.
      if (had && had.length === next.length && had.every((s, i) => s === next[i])) return;
      scopes.set(`:${scope}`, next);
      current = undefined;
      generation++;
    },
    delete(scope) {
      if (scopes.delete(`:${scope}`)) {
        current = undefined;
        generation++;
      }
    },
  };
}

/** Combines redactors: the global one (API key) and a stack's own secrets. */
export function composeRedactors(...rs: Redact[]): Redact {
  const composed: Redact = (text) => rs.reduce((t, r) => r(t), text);
  const parts = rs.map((r) => generations.get(r));
  // Known only when every part is: the sum moves whenever one part's count does.
  if (parts.every((g) => g !== undefined))
    generations.set(composed, () => parts.reduce((sum, g) => sum + (g as () => number)(), 0));
  return composed;
}

/** Removes credentials from a URL for messages, e.g. "authentication failed for <url>". */
export function stripUrlCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(URL_CREDENTIALS, '$1');
  }
}
