import { describe, expect, it } from 'vitest';
import { createRegistryClient, type FetchLike, MANIFEST_ACCEPT, parseChallenge } from './client';
import { createDigestCache } from './digest-cache';
import { parseImageReference } from './reference';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A fake registry: answers by a handler, records every request it gets. */
function fakeFetch(handler: (req: Seen) => Response): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    fetch: async (url, init) => {
      const headers = Object.fromEntries(
        Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
          k.toLowerCase(),
          v,
        ]),
      );
      const req = { method: init.method ?? 'GET', url, headers };
      seen.push(req);
      return handler(req);
    },
  };
}

const DIGEST = `sha256:${'a'.repeat(64)}`;
const basicOf = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const login = { username: 'alice', password: 's3cret-pass' };

describe('parseImageReference', () => {
  it('normalizes Docker Hub names: library/, docker.io, registry-1.docker.io, latest', () => {
    for (const ref of [
      'nginx',
      'docker.io/nginx',
      'docker.io/library/nginx:latest',
      'index.docker.io/library/nginx',
    ]) {
      const r = parseImageReference(ref);
      expect(r.canonical).toBe('docker.io/library/nginx:latest');
      expect(r.apiHost).toBe('registry-1.docker.io');
      expect(r.repository).toBe('library/nginx');
    }
    expect(parseImageReference('grafana/grafana:10.1').canonical).toBe(
      'docker.io/grafana/grafana:10.1',
    );
  });

  it('reads a registry with a port, a tag and a digest', () => {
    const r = parseImageReference('127.0.0.1:5000/team/web:v1');
    expect(r).toMatchObject({
      registry: '127.0.0.1:5000',
      apiHost: '127.0.0.1:5000',
      repository: 'team/web',
      tag: 'v1',
      digest: undefined,
    });
    const pinned = parseImageReference(`ghcr.io/o/app@${DIGEST}`);
    expect(pinned).toMatchObject({ registry: 'ghcr.io', tag: undefined, digest: DIGEST });
    expect(parseImageReference('localhost/app').registry).toBe('localhost');
    expect(() => parseImageReference('Bad/Name')).toThrow(/not a valid image reference/);
  });
});

describe('parseChallenge', () => {
  it('reads quoted parameters, commas inside them included', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull,push',
      },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')?.scheme).toBe('basic');
  });
});

describe('createRegistryClient.manifestDigest', () => {
  it('HEADs the manifest with every manifest type in Accept, over HTTP on loopback', async () => {
    const f = fakeFetch(
      () => new Response(null, { status: 200, headers: { 'Docker-Content-Digest': DIGEST } }),
    );
    const client = createRegistryClient({ fetch: f.fetch });
    expect(await client.manifestDigest(parseImageReference('127.0.0.1:5000/web:v1'))).toBe(DIGEST);
    expect(f.seen).toHaveLength(1);
    expect(f.seen[0]?.method).toBe('HEAD');
    expect(f.seen[0]?.url).toBe('http://127.0.0.1:5000/v2/web/manifests/v1');
    const accept = f.seen[0]?.headers.accept ?? '';
    expect(accept).toBe(MANIFEST_ACCEPT);
    for (const type of [
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.index.v1+json',
    ])
      expect(accept).toContain(type);
  });

  it('asks Docker Hub at registry-1.docker.io over HTTPS for library/ images', async () => {
    const f = fakeFetch(
      () => new Response(null, { status: 200, headers: { 'Docker-Content-Digest': DIGEST } }),
    );
    await createRegistryClient({ fetch: f.fetch }).manifestDigest(parseImageReference('redis:7'));
    expect(f.seen[0]?.url).toBe('https://registry-1.docker.io/v2/library/redis/manifests/7');
  });

  it('does the bearer dance: 401 challenge, token with the login as Basic, retry; the token is reused', async () => {
    const token = 'tok-123';
    const f = fakeFetch((req) => {
      if (req.url.startsWith('https://auth.example/token')) {
        expect(req.headers.authorization).toBe(basicOf(login.username, login.password));
        return Response.json({ token, expires_in: 300 });
      }
      if (req.headers.authorization === `Bearer ${token}`)
        return new Response(null, { status: 200, headers: { 'docker-content-digest': DIGEST } });
      return new Response(null, {
        status: 401,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="https://auth.example/token",service="reg.example",scope="repository:team/app:pull"',
        },
      });
    });
    const client = createRegistryClient({ fetch: f.fetch });
    const ref = parseImageReference('reg.example/team/app:1.2');
    expect(await client.manifestDigest(ref, login)).toBe(DIGEST);
    expect(f.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'HEAD https://reg.example/v2/team/app/manifests/1.2',
      'GET https://auth.example/token?service=reg.example&scope=repository%3Ateam%2Fapp%3Apull',
      'HEAD https://reg.example/v2/team/app/manifests/1.2',
    ]);
    // The next check of the same repository sends the kept token at once: one request.
    expect(await client.manifestDigest(ref, login)).toBe(DIGEST);
    expect(f.seen).toHaveLength(4);
    expect(f.seen[3]?.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('gets an anonymous token without a login (public images on Docker Hub)', async () => {
    const f = fakeFetch((req) => {
      if (req.url.startsWith('https://auth.docker.io/'))
        return Response.json({ access_token: 'anon' });
      if (req.headers.authorization === 'Bearer anon')
        return new Response(null, { status: 200, headers: { 'docker-content-digest': DIGEST } });
      return new Response(null, {
        status: 401,
        headers: {
          'www-authenticate':
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
        },
      });
    });
    expect(
      await createRegistryClient({ fetch: f.fetch }).manifestDigest(parseImageReference('nginx')),
    ).toBe(DIGEST);
    const tokenReq = f.seen[1];
    expect(tokenReq?.headers.authorization).toBeUndefined();
    expect(new URL(tokenReq?.url ?? '').searchParams.get('scope')).toBe(
      'repository:library/nginx:pull',
    );
  });

  it('answers a Basic challenge with the login, and says so when there is none', async () => {
    const f = fakeFetch((req) =>
      req.headers.authorization === basicOf(login.username, login.password)
        ? new Response(null, { status: 200, headers: { 'docker-content-digest': DIGEST } })
        : new Response(null, {
            status: 401,
            headers: { 'www-authenticate': 'Basic realm="Registry"' },
          }),
    );
    const client = createRegistryClient({ fetch: f.fetch });
    const ref = parseImageReference('127.0.0.1:5000/web:v1');
    expect(await client.manifestDigest(ref, login)).toBe(DIGEST);
    await expect(client.manifestDigest(ref)).rejects.toThrow(/needs a login/);
    // Basic auth holds for the whole registry: another repository is asked once.
    const before = f.seen.length;
    expect(await client.manifestDigest(parseImageReference('127.0.0.1:5000/api:v1'), login)).toBe(
      DIGEST,
    );
    expect(f.seen.length - before).toBe(1);
    // A changed password never rides on the credential kept for the old one.
    await expect(
      client.manifestDigest(ref, { username: login.username, password: 'changed-pass' }),
    ).rejects.toThrow(/refused the stack's registry login/);
  });

  it('reports a refused login, a missing tag and a token service that refuses', async () => {
    const refusing = fakeFetch(
      () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } }),
    );
    await expect(
      createRegistryClient({ fetch: refusing.fetch }).manifestDigest(
        parseImageReference('127.0.0.1:5000/web:v1'),
        login,
      ),
    ).rejects.toThrow(/refused the stack's registry login/);
    const missing = fakeFetch(() => new Response(null, { status: 404 }));
    await expect(
      createRegistryClient({ fetch: missing.fetch }).manifestDigest(
        parseImageReference('127.0.0.1:5000/web:nope'),
      ),
    ).rejects.toThrow(/127.0.0.1:5000\/web:nope is not in its registry/);
    const tokenRefused = fakeFetch((req) =>
      req.url.includes('/token')
        ? new Response(null, { status: 401 })
        : new Response(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer realm="https://r.example/token"' },
          }),
    );
    const err = await createRegistryClient({ fetch: tokenRefused.fetch })
      .manifestDigest(parseImageReference('r.example/a:b'), login)
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/refused the stack's registry login/);
    expect(String(err)).not.toContain(login.password);
  });

  it('hashes the manifest when a registry leaves Docker-Content-Digest out', async () => {
    const body = '{"schemaVersion":2}';
    const f = fakeFetch((req) =>
      req.method === 'HEAD' ? new Response(null, { status: 200 }) : new Response(body),
    );
    const digest = await createRegistryClient({ fetch: f.fetch }).manifestDigest(
      parseImageReference('127.0.0.1:5000/web:v1'),
    );
    const { createHash } = await import('node:crypto');
    expect(digest).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
    expect(f.seen.map((s) => s.method)).toEqual(['HEAD', 'GET']);
  });

  it('answers a pinned digest without asking', async () => {
    const f = fakeFetch(() => new Response(null, { status: 500 }));
    expect(
      await createRegistryClient({ fetch: f.fetch }).manifestDigest(
        parseImageReference(`127.0.0.1:5000/web@${DIGEST}`),
      ),
    ).toBe(DIGEST);
    expect(f.seen).toHaveLength(0);
  });
});

describe('createDigestCache', () => {
  it('one request for many callers of one image and login within the TTL; apart per login', async () => {
    let t = 0;
    let calls = 0;
    const cache = createDigestCache({
      now: () => t,
      ttlMs: 1000,
      lookup: async () => {
        calls++;
        return DIGEST;
      },
    });
    const ref = parseImageReference('127.0.0.1:5000/web:v1');
    const same = parseImageReference('127.0.0.1:5000/web:v1');
    await Promise.all(Array.from({ length: 50 }, () => cache.digest(same, login)));
    await cache.digest(ref, login);
    expect(calls).toBe(1);
    await cache.digest(ref, { username: 'bob', password: 'other-pass' });
    expect(calls).toBe(2);
    t = 1001;
    await cache.digest(ref, login);
    expect(calls).toBe(3);
    // A caller that wants a fresh answer gets one, unless a request is under way.
    await cache.digest(ref, login, 0);
    expect(calls).toBe(4);
  });
});
