import { validation } from '@simpledeploy/core';

const MAX_URL_LENGTH = 2048;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE_CHARS = /[\s\u0000-\u001f\u007f]/;

/**
 * Checks a `repo_url` and returns it normalized (no trailing slash). Only http and
 * https are accepted: isomorphic-git speaks smart HTTP only, and refusing `file://`,
 * `ssh://`, `git@host:x` and `ext::` keeps a stack from reading the server's own disk
 * or running transport helpers. Credentials inside the URL are refused so that they
 * are stored encrypted (repo_username / repo_token) and never end up in .git/config.
 */
export function assertRepoUrl(url: unknown, field = 'repo_url'): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw validation(`${field} must be an http:// or https:// URL of a git repository`, { field });
  }
  if (url.length > MAX_URL_LENGTH) {
    throw validation(`${field} is longer than ${MAX_URL_LENGTH} characters`, { field });
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    // Never echo the URL itself: an scp-style or exotic URL may still carry a secret.
    throw validation(
      `${field} must be an http:// or https:// URL; ssh, git@host:path, file and other transports are not supported`,
      { field },
    );
  }
  if (UNSAFE_CHARS.test(url)) {
    throw validation(`${field} must not contain spaces or control characters`, { field });
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validation(`${field} is not a valid URL`, { field });
  }
  if (parsed.username || parsed.password) {
    throw validation(
      `${field} must not contain credentials: give them as repo_username and repo_token instead`,
      { field },
    );
  }
  if (!parsed.hostname) {
    throw validation(`${field} must name a host`, { field });
  }
  // isomorphic-git appends `/info/refs?service=…`: a query or fragment would corrupt it.
  if (parsed.search || parsed.hash || url.includes('?') || url.includes('#')) {
    throw validation(`${field} must not contain a query string or fragment`, { field });
  }
  if (parsed.pathname === '/' || parsed.pathname === '') {
    throw validation(`${field} must name a repository, e.g. https://host/owner/repo.git`, {
      field,
    });
  }
  return parsed.toString().replace(/\/+$/, '');
}

/**
 * Splits `https://user:token@host/repo.git` into a clean URL and its credentials, for
 * configuration that arrives in that form (legacy REPO_URL). The result's URL still
 * goes through assertRepoUrl.
 */
export function splitUrlCredentials(url: string): {
  url: string;
  username?: string;
  token?: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (!parsed.username && !parsed.password) return { url };
  const username = decodeURIComponent(parsed.username);
  const token = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed.toString(),
    ...(username ? { username } : {}),
    ...(token ? { token } : {}),
  };
}
