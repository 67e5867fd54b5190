import { AppError, createRedactor } from '@simpledeploy/core';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { guardedHttp } from './http';

const REPO = 'https://git.example.com/acme/app.git';
const DISCOVERY = `${REPO}/info/refs?service=git-upload-pack`;
const AUTH = { authorization: 'Basic c2VjcmV0' };

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  fetchOptions: Record<string, unknown>;
}

/** A transport that answers from a script keyed by URL and records what it was asked to send. */
function scripted(answers: Record<string, { status: number; location?: string }>) {
  const sent: Sent[] = [];
  const transport: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const body = req.body
        ? Buffer.concat(req.body as unknown as Uint8Array[]).toString('utf8')
        : undefined;
      sent.push({
        url: req.url,
        method: req.method ?? 'GET',
        headers: { ...req.headers },
        body,
        fetchOptions: req.fetchOptions,
      });
      const answer = answers[req.url] ?? { status: 200 };
      return {
        url: req.url,
        statusCode: answer.status,
        statusMessage: String(answer.status),
        headers: answer.location ? { location: answer.location } : {},
        body: (async function* () {
          yield Buffer.from('body');
        })(),
      };
    },
  };
  return { transport, sent };
}

function guard(transport: HttpClient, hasCredentials = true, maxResponseBytes = 1024) {
  return guardedHttp(transport, {
    timeoutMs: 1000,
    maxRedirects: 3,
    maxResponseBytes,
    context: { url: REPO, hasCredentials, redact: createRedactor(['c2VjcmV0']) },
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('guardedHttp', () => {
  it('follows a redirect within the origin, credentials included, and hands back the answer', async () => {
    const { transport, sent } = scripted({
      [DISCOVERY]: { status: 301, location: '/acme/renamed.git/info/refs?service=git-upload-pack' },
    });
    const res = await guard(transport).request({ url: DISCOVERY, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(sent.map((s) => [s.url, s.headers.authorization])).toEqual([
      [DISCOVERY, AUTH.authorization],
      [
        'https://git.example.com/acme/renamed.git/info/refs?service=git-upload-pack',
        AUTH.authorization,
      ],
    ]);
    // The transport itself must not follow redirects: they come back to the guard.
    expect(sent.every((s) => s.fetchOptions.followRedirects === false)).toBe(true);
  });

  for (const status of [301, 302, 303, 307, 308]) {
    it(`refuses a ${status} to another port before sending anything there`, async () => {
      const { transport, sent } = scripted({
        [DISCOVERY]: { status, location: 'https://git.example.com:8443/acme/app.git/info/refs' },
      });
      const error = await rejection(guard(transport).request({ url: DISCOVERY, headers: AUTH }));
      expect(error.code).toBe('VALIDATION');
      expect(error.message).toBe(
        'the git server at https://git.example.com redirects to https://git.example.com:8443, another origin; credentials are only sent to the origin of repo_url: if the repository moved there, set repo_url to its address on https://git.example.com:8443',
      );
      expect(error.details).toMatchObject({
        reason: 'redirected',
        status,
        location: 'https://git.example.com:8443',
      });
      expect(sent.map((s) => s.url)).toEqual([DISCOVERY]);
    });
  }

  it('refuses a redirect to another host, and names only its origin', async () => {
    const { transport, sent } = scripted({
      [DISCOVERY]: { status: 302, location: 'https://user:pw@mirror.example.net/x.git?token=abc' },
    });
    const error = await rejection(guard(transport).request({ url: DISCOVERY, headers: AUTH }));
    expect(error.message).toContain('redirects to https://mirror.example.net, another origin');
    expect(error.message).not.toMatch(/pw|token/);
    expect(sent).toHaveLength(1);
  });

  it('refuses an https to http downgrade on the same host', async () => {
    const { transport, sent } = scripted({
      [DISCOVERY]: { status: 301, location: 'http://git.example.com/acme/app.git/info/refs' },
    });
    const error = await rejection(guard(transport).request({ url: DISCOVERY, headers: AUTH }));
    expect(error.message).toBe(
      "the git server at https://git.example.com redirects to http://git.example.com, from https to plain http; credentials are never sent over such a downgrade: check repo_url and the server's redirects",
    );
    expect(sent).toHaveLength(1);
  });

  it('treats an http to https upgrade as another origin too', async () => {
    const plain = 'http://git.example.com/acme/app.git/info/refs?service=git-upload-pack';
    const { transport, sent } = scripted({
      [plain]: { status: 301, location: plain.replace('http:', 'https:') },
    });
    const error = await rejection(guard(transport).request({ url: plain, headers: AUTH }));
    expect(error.message).toContain(
      'redirects to https://git.example.com, another origin; credentials are only sent to the origin of repo_url',
    );
    expect(sent).toHaveLength(1);
  });

  it('refuses the redirect of a request that carries no header when the session has credentials', async () => {
    // isomorphic-git's fetch sends the first request bare and the credentials after a 401.
    const { transport, sent } = scripted({
      [DISCOVERY]: { status: 307, location: 'https://other.example.com/app.git/info/refs' },
    });
    await rejection(guard(transport).request({ url: DISCOVERY, headers: {} }));
    expect(sent).toHaveLength(1);
  });

  it('follows a redirect to another origin when there are no credentials to leak', async () => {
    const target = 'https://other.example.com/app.git/info/refs?service=git-upload-pack';
    const { transport, sent } = scripted({ [DISCOVERY]: { status: 301, location: target } });
    const res = await guard(transport, false).request({
      url: DISCOVERY,
      headers: { Authorization: 'Basic stray', 'Git-Protocol': 'version=2' },
    });
    expect(res.statusCode).toBe(200);
    expect(sent[1]).toMatchObject({ url: target, headers: { 'Git-Protocol': 'version=2' } });
    expect(Object.keys(sent[1]?.headers ?? {}).map((h) => h.toLowerCase())).not.toContain(
      'authorization',
    );
  });

  it('sends a redirected upload-pack POST again with its body, like git', async () => {
    const post = `${REPO}/git-upload-pack`;
    const moved = 'https://git.example.com/acme/renamed.git/git-upload-pack';
    for (const status of [301, 307]) {
      const { transport, sent } = scripted({ [post]: { status, location: moved } });
      const body = [Buffer.from('0032want '), Buffer.from('abc\n')];
      await guard(transport).request({
        url: post,
        method: 'POST',
        headers: AUTH,
        body: body as unknown as AsyncIterableIterator<Uint8Array>,
      });
      expect(sent.map((s) => [s.method, s.url, s.body, s.headers.authorization])).toEqual([
        ['POST', post, '0032want abc\n', AUTH.authorization],
        ['POST', moved, '0032want abc\n', AUTH.authorization],
      ]);
    }
  });

  it('gives up after too many redirects', async () => {
    const { transport, sent } = scripted({ [DISCOVERY]: { status: 302, location: DISCOVERY } });
    const error = await rejection(guard(transport).request({ url: DISCOVERY, headers: AUTH }));
    expect(error.message).toBe(
      'the git server at https://git.example.com redirected more than 3 times; check repo_url',
    );
    expect(sent).toHaveLength(4);
  });

  it('follows no redirect to a transport other than http(s)', async () => {
    const { transport, sent } = scripted({
      [DISCOVERY]: { status: 302, location: 'file:///etc/passwd' },
    });
    const error = await rejection(guard(transport, false).request({ url: DISCOVERY, headers: {} }));
    expect(error.message).toBe(
      'the git server at https://git.example.com redirects to a file URL; only http and https redirects are followed: check repo_url',
    );
    expect(sent).toHaveLength(1);
  });

  it('hands back a redirect without a Location as it is', async () => {
    const { transport } = scripted({ [DISCOVERY]: { status: 302 } });
    expect((await guard(transport).request({ url: DISCOVERY, headers: AUTH })).statusCode).toBe(
      302,
    );
  });

  describe('response size', () => {
    /** A transport answering with `chunks` chunks of 100 bytes, telling whether the stream was closed early. */
    function streaming(chunks: number) {
      const state = { produced: 0, closed: false };
      const transport: HttpClient = {
        async request(req) {
          return {
            url: req.url,
            statusCode: 200,
            statusMessage: 'OK',
            headers: {},
            body: (async function* () {
              try {
                for (; state.produced < chunks; state.produced++) yield new Uint8Array(100);
              } finally {
                state.closed = true;
              }
            })(),
          };
        },
      };
      return { transport, state };
    }

    async function drain(res: GitHttpResponse): Promise<number> {
      let total = 0;
      for await (const chunk of res.body ?? []) total += chunk.byteLength;
      return total;
    }

    it('passes a body up to the limit through', async () => {
      const { transport } = streaming(10);
      const http = guard(transport, true, 1000);
      expect(await drain(await http.request({ url: `${REPO}/git-upload-pack` }))).toBe(1000);
      expect(http.failure).toBeUndefined();
    });

    it('stops reading a body as soon as it passes the limit, and says which limit', async () => {
      const { transport, state } = streaming(1000);
      const http = guard(transport, true, 1000);
      const error = await rejection(drain(await http.request({ url: `${REPO}/git-upload-pack` })));
      expect(error.message).toBe(
        `the git server sent more than 1000 bytes for ${REPO}, the limit for one download (maxDownloadBytes); keep the stack's compose files in a smaller repository and point repo_url at it`,
      );
      expect(error.details).toMatchObject({
        reason: 'too_large',
        limit: 'maxDownloadBytes',
        value: 1000,
      });
      // The eleventh chunk was one too many: the stream was closed right there.
      expect(state).toEqual({ produced: 10, closed: true });
      expect(http.failure).toBe(error);
    });
  });
});

describe('guardedHttp: the small path of a ref listing', () => {
  it('keeps the credential rules: a redirect to another origin is refused before anything is sent there', async () => {
    const { transport, sent } = scripted({
      [DISCOVERY]: { status: 302, location: 'https://evil.example.net/x' },
    });
    const error = await rejection(
      guard(transport).small({ url: DISCOVERY, method: 'GET', headers: AUTH }),
    );
    expect(error.details).toMatchObject({
      reason: 'redirected',
      location: 'https://evil.example.net',
    });
    expect(sent.map((s) => s.url)).toEqual([DISCOVERY]);
  });

  it('follows a redirect within the origin and reads the answer whole', async () => {
    const moved = `${REPO.replace('app.git', 'moved.git')}/info/refs?service=git-upload-pack`;
    const { transport, sent } = scripted({ [DISCOVERY]: { status: 301, location: moved } });
    const res = await guard(transport).small({ url: DISCOVERY, method: 'GET', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.body.toString()).toBe('body');
    expect(sent.map((s) => [s.url, s.headers.authorization, s.fetchOptions.timeout])).toEqual([
      [DISCOVERY, AUTH.authorization, 1000],
      [moved, AUTH.authorization, 1000],
    ]);
  });

  it('says which limit an answer passed', async () => {
    const { transport } = scripted({});
    const error = await rejection(
      guard(transport, true, 3).small({ url: DISCOVERY, method: 'GET', headers: AUTH }),
    );
    expect(error.details).toMatchObject({
      reason: 'too_large',
      limit: 'maxDownloadBytes',
      value: 3,
    });
  });
});
