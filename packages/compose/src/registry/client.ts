import { createHash } from 'node:crypto';
import type { ImageReference } from './reference';

/** What a registry may answer a manifest request with: single images and multi-platform indexes. */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');

export interface RegistryLogin {
  username: string;
  password: string;
}

/** The part of `fetch` the client uses; tests pass a fake. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A registry's answer that says what went wrong, in a sentence for the API's `error`. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface RegistryClientOptions {
  fetch?: FetchLike;
  /** Milliseconds since the epoch, for token expiry. */
  now?: () => number;
  /** Per request. Default 15 s. */
  timeoutMs?: number;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="repository:a:pull,push"` (quoted values may hold commas). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    if (p[1]) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: m[1].toLowerCase(), params };
}

// Registries on the loopback interface speak plain HTTP, as the engine allows them to.
const isLoopback = (host: string) =>
  /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i.test(host);

/** A short hash of a login, to key what is kept per login without keeping the password. */
export const loginFingerprint = (login: RegistryLogin) =>
  createHash('sha256').update(`${login.username}\0${login.password}`).digest('hex').slice(0, 16);

const basic = (login: RegistryLogin) =>
  `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;

/**
 * Asks a registry for the manifest digest of a tag without pulling: a `HEAD` on
 * `/v2/<name>/manifests/<tag>` with every manifest type in `Accept`. A 401 is answered
 * the way the distribution spec describes: a Bearer challenge gets a token from its
 * realm (with the login as Basic auth, or anonymously), a Basic challenge the login; the
 * credential is then kept for the next request to the same repository, so a check
 * usually costs one request.
 */
export function createRegistryClient(opts: RegistryClientOptions = {}) {
  const doFetch: FetchLike = opts.fetch ?? ((url, init) => fetch(url, init));
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const credentials = new Map<string, { header: string; expiresAt: number }>();

  async function request(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await doFetch(url, {
        ...init,
        redirect: 'follow',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause =
        err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
      throw new RegistryError(`cannot reach ${what}: ${cause}`);
    }
  }

  async function bearerToken(ch: Challenge, ref: ImageReference, login?: RegistryLogin) {
    const realm = ch.params.realm;
    if (!realm || !/^https?:\/\//i.test(realm))
      throw new RegistryError(`${ref.registry} asked for a token without a usable realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    url.searchParams.set('scope', ch.params.scope ?? `repository:${ref.repository}:pull`);
    const res = await request(
      url.toString(),
      { method: 'GET', headers: login ? { Authorization: basic(login) } : {} },
      `the token service of ${ref.registry}`,
    );
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(
        res.status === 401 || res.status === 403
          ? `${ref.registry} refused the stack's registry login (token request answered ${res.status}): check the username and password for ${ref.registry}`
          : `the token service of ${ref.registry} answered ${res.status}`,
        res.status,
      );
    }
    const body = (await res.json().catch(() => ({}))) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`the token service of ${ref.registry} sent no token`);
    // The spec's default lifetime is 60 s; renew a little early.
    const lifetime = Math.max(body.expires_in ?? 60, 30) * 1000;
    return { header: `Bearer ${token}`, expiresAt: now() + lifetime - 10_000 };
  }

  function failure(res: Response, ref: ImageReference, login: RegistryLogin | undefined) {
    const image = `${ref.registry}/${ref.repository}:${ref.tag}`;
    switch (res.status) {
      case 401:
      case 403:
        return new RegistryError(
          login
            ? `${ref.registry} refused the stack's registry login for ${ref.repository} (${res.status}): check the username and password`
            : `${ref.registry} needs a login for ${ref.repository} (${res.status}): add the registry to the stack's registries`,
          res.status,
        );
      case 404:
        return new RegistryError(`${image} is not in its registry (404)`, 404);
      case 429:
        return new RegistryError(
          `${ref.registry} rate-limited the check (429); it is retried later`,
          429,
        );
      default:
        return new RegistryError(`${ref.registry} answered ${res.status} for ${image}`, res.status);
    }
  }

  /** The digest from a response, or (a registry that leaves the header out) of the manifest body. */
  async function digestOf(
    res: Response,
    url: string,
    headers: Record<string, string>,
    ref: ImageReference,
  ) {
    const header = res.headers.get('docker-content-digest');
    await res.body?.cancel();
    if (header) return header;
    const get = await request(url, { method: 'GET', headers }, ref.registry);
    if (!get.ok) throw failure(get, ref, undefined);
    const body = Buffer.from(await get.arrayBuffer());
    return `sha256:${createHash('sha256').update(body).digest('hex')}`;
  }

  return {
    /**
     * The manifest digest `ref`'s tag points at now (`sha256:…`). A reference pinned to a
     * digest is answered with it, without a request. Throws RegistryError.
     */
    async manifestDigest(ref: ImageReference, login?: RegistryLogin): Promise<string> {
      if (ref.digest) return ref.digest;
      const scheme = isLoopback(ref.apiHost) ? 'http' : 'https';
      const url = `${scheme}://${ref.apiHost}/v2/${ref.repository}/manifests/${ref.tag}`;
      // The whole login is in the key: a changed password, or another stack's, never rides
      // on a credential kept for a different one.
      const who = login ? loginFingerprint(login) : '';
      const key = `${ref.apiHost}|${ref.repository}|${who}`;
      // Basic auth is good for the whole registry; a token only for its repository's scope.
      const hostKey = `${ref.apiHost}||${who}`;
      const headers = (auth?: string): Record<string, string> => ({
        Accept: MANIFEST_ACCEPT,
        ...(auth ? { Authorization: auth } : {}),
      });

      const kept = credentials.get(key) ?? credentials.get(hostKey);
      const known = kept && kept.expiresAt > now() ? kept.header : undefined;
      let res = await request(url, { method: 'HEAD', headers: headers(known) }, ref.registry);
      if (res.status === 401) {
        await res.body?.cancel();
        const ch = parseChallenge(res.headers.get('www-authenticate') ?? '');
        let auth: { header: string; expiresAt: number } | undefined;
        if (ch?.scheme === 'bearer') auth = await bearerToken(ch, ref, login);
        else if (ch?.scheme === 'basic' && login)
          auth = { header: basic(login), expiresAt: now() + 3600_000 };
        if (!auth) throw failure(res, ref, login);
        credentials.set(ch?.scheme === 'basic' ? hostKey : key, auth);
        res = await request(url, { method: 'HEAD', headers: headers(auth.header) }, ref.registry);
      }
      if (!res.ok) {
        await res.body?.cancel();
        if (res.status === 401) {
          credentials.delete(key);
          credentials.delete(hostKey);
        }
        throw failure(res, ref, login);
      }
      const used = credentials.get(key) ?? credentials.get(hostKey);
      return digestOf(res, url, headers(used?.header), ref);
    },
  };
}

export type RegistryClient = ReturnType<typeof createRegistryClient>;
