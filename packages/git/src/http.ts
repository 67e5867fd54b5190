import type { AppError } from '@simpledeploy/core';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { type GitErrorContext, gitError } from './errors';
import { formatBytes, TOO_LARGE_FIX } from './limits';
import { ResponseTooLarge, type SmallHttp, type SmallRequest, smallOver } from './small-http';

export interface GuardedHttpOptions {
  /** Idle timeout of one HTTP request, in ms. */
  timeoutMs: number;
  /** Most redirects one request may follow. */
  maxRedirects: number;
  /** Most bytes one response body may carry (a fetch's packfile, above all). */
  maxResponseBytes: number;
  /** Whose repository this is, whether credentials are in play, and the redactor for errors. */
  context: GitErrorContext;
}

export interface GuardedHttp extends HttpClient {
  /** A ref listing's request: the same guards, its answer read whole (small-http.ts). */
  small: (req: Omit<SmallRequest, 'timeoutMs' | 'maxBytes'>) => ReturnType<SmallHttp>;
  /**
   * The error a response body ran into, if any: isomorphic-git may report the cut stream
   * as a parse error of its own, so callers prefer this one.
   */
  readonly failure: AppError | undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Wraps an isomorphic-git transport so that it follows redirects itself instead of
 * letting the transport do it (simple-get keeps the Authorization header when only the
 * port or the scheme changes). Credentials, whether sent up front or returned by onAuth
 * (isomorphic-git turns both into that header), only ever go to the origin (scheme, host
 * and port) of the first request: with credentials in play, a redirect to another origin
 * fails with an error naming it, before anything is sent there. Without credentials a
 * redirect is followed wherever it leads, like git does. Response bodies are counted and
 * cut off past `maxResponseBytes`, so an oversized packfile stops the download early.
 */
export function guardedHttp(base: HttpClient, options: GuardedHttpOptions): GuardedHttp {
  const { context: ctx } = options;
  let failure: AppError | undefined;

  /**
   * Sends with `once` and follows redirects itself: `release` frees an answer that is
   * not returned. Both transports below share it, so the credential rules are one.
   */
  async function follow<R extends { statusCode: number; headers?: Record<string, unknown> }>(
    first: string,
    firstHeaders: Record<string, string>,
    once: (url: string, headers: Record<string, string>) => Promise<R>,
    release: (res: R) => Promise<unknown>,
  ): Promise<R> {
    const origin = originOf(first);
    let url = first;
    let headers = firstHeaders;
    for (let redirects = 0; ; redirects++) {
      const res = await once(url, headers);
      const next = REDIRECT_STATUSES.has(res.statusCode) ? parseLocation(res, url) : undefined;
      if (!next) return res;
      await release(res);
      if (redirects >= options.maxRedirects) {
        throw gitError(
          'VALIDATION',
          'redirected',
          `the git server at ${origin} redirected more than ${options.maxRedirects} times; check repo_url`,
          ctx,
          { status: res.statusCode },
        );
      }
      assertFollowable(origin, next, res.statusCode);
      // Only a session without credentials gets here; should a header still hold some,
      // it stays with its origin.
      if (next.origin !== origin) headers = withoutAuthorization(headers);
      // Like git (CURLOPT_POSTREDIR all): a redirected POST stays a POST with its body,
      // since upload-pack answers nothing else.
      url = next.toString();
    }
  }

  async function request(req: GitHttpRequest): Promise<GitHttpResponse> {
    const body = await replayable(req.body);
    const res = await follow(
      req.url,
      { ...req.headers },
      (url, headers) =>
        base.request({
          ...req,
          url,
          headers,
          ...(body ? { body } : {}),
          // simple-get's option: the redirect comes back to this loop instead.
          fetchOptions: { ...req.fetchOptions, timeout: options.timeoutMs, followRedirects: false },
        }),
      async (r) => r.body?.return?.(),
    );
    return capped(res);
  }

  const baseSmall: SmallHttp = (base as { small?: SmallHttp }).small ?? smallOver(base);

  async function small(req: Omit<SmallRequest, 'timeoutMs' | 'maxBytes'>) {
    try {
      return await follow(
        req.url,
        req.headers,
        (url, headers) =>
          baseSmall({
            ...req,
            url,
            headers,
            timeoutMs: options.timeoutMs,
            maxBytes: options.maxResponseBytes,
          }),
        async () => undefined,
      );
    } catch (error) {
      if (error instanceof ResponseTooLarge) throw tooLarge(error.limit);
      throw error;
    }
  }

  function tooLarge(max: number): AppError {
    return gitError(
      'VALIDATION',
      'too_large',
      `the git server sent more than ${formatBytes(max)} for ${ctx.url}, the limit for one download (maxDownloadBytes); ${TOO_LARGE_FIX}`,
      ctx,
      { limit: 'maxDownloadBytes', value: max },
    );
  }

  function assertFollowable(origin: string, next: URL, status: number): void {
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw gitError(
        'VALIDATION',
        'redirected',
        `the git server at ${origin} redirects to a ${next.protocol.slice(0, -1)} URL; only http and https redirects are followed: check repo_url`,
        ctx,
        { status },
      );
    }
    if (next.origin === origin || !ctx.hasCredentials) return;
    const downgrade = origin.startsWith('https:') && next.protocol === 'http:';
    throw gitError(
      'VALIDATION',
      'redirected',
      downgrade
        ? `the git server at ${origin} redirects to ${next.origin}, from https to plain http; credentials are never sent over such a downgrade: check repo_url and the server's redirects`
        : `the git server at ${origin} redirects to ${next.origin}, another origin; credentials are only sent to the origin of repo_url: if the repository moved there, set repo_url to its address on ${next.origin}`,
      ctx,
      { status, location: next.origin },
    );
  }

  function capped(res: GitHttpResponse): GitHttpResponse {
    if (!res.body) return res;
    const source = res.body;
    const max = options.maxResponseBytes;
    async function* count(): AsyncGenerator<Uint8Array> {
      let total = 0;
      for await (const chunk of source) {
        total += chunk.byteLength;
        if (total > max) {
          failure = tooLarge(max);
          // Leaving the loop destroys the response stream: nothing more is downloaded.
          throw failure;
        }
        yield chunk;
      }
    }
    return { ...res, body: count() };
  }

  return {
    request,
    small,
    get failure() {
      return failure;
    },
  };
}

/** The origin of a URL, parsed once per URL: a poller sends the same few every interval. */
const origins = new Map<string, string>();
function originOf(url: string): string {
  let origin = origins.get(url);
  if (origin === undefined) {
    origin = new URL(url).origin;
    if (origins.size >= 10_000) origins.clear();
    origins.set(url, origin);
  }
  return origin;
}

/** The Location of a redirect, resolved against the request; undefined when there is none usable. */
function parseLocation(
  res: { headers?: Record<string, unknown> | undefined },
  url: string,
): URL | undefined {
  const location = res.headers?.location;
  if (typeof location !== 'string' || !location) return undefined;
  try {
    return new URL(location, url);
  } catch {
    return undefined;
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
}

/**
 * A request body that can be sent again after a redirect. isomorphic-git passes POST
 * bodies as an array of buffers (its node transport sends one with a Content-Length);
 * anything else is read into one buffer first.
 */
async function replayable(
  body: GitHttpRequest['body'],
): Promise<AsyncIterableIterator<Uint8Array> | undefined> {
  if (!body || Array.isArray(body)) return body;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return [Buffer.concat(chunks)] as unknown as AsyncIterableIterator<Uint8Array>;
}
