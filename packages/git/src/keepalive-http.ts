import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import type { SmallHttp } from './small-http';
import { createUndiciSmall } from './undici-small';

export interface KeepAliveHttpOptions {
  /**
   * Idle connections per git host kept open for the next request. Default 16: the
   * reconciler sends up to 16 ref listings of a round at once (maxConcurrentPolls), and
   * fewer kept connections would mean new TCP (and TLS) handshakes every round.
   */
  maxFreeSockets?: number;
  /** An idle connection is closed after this many ms. Default 30 s. */
  idleMs?: number;
}

export interface KeepAliveHttp extends HttpClient {
  /** A request whose answer is read whole: a ref listing (undici-small.ts). */
  small: SmallHttp;
  /** Closes every idle connection (shutdown, tests). */
  close(): void;
}

const RETRYABLE = new Set(['ECONNRESET', 'EPIPE']);
/** Parsed request URLs kept, at most. */
const TARGETS_LIMIT = 10_000;

interface Target {
  secure: boolean;
  options: ReturnType<typeof urlToHttpOptions>;
}

/**
 * An isomorphic-git HTTP transport that keeps connections open between requests: a
 * poller asks the same hosts every minute, and a new TCP (and TLS) handshake per
 * poll was most of its cost. One agent per scheme pools connections per origin
 * (host and port). It never follows redirects (guardedHttp does, keeping credentials
 * with their origin). A request that finds its kept-alive connection closed by the
 * server under it is sent once more on a fresh one, as git itself does.
 */
export function createKeepAliveHttp(options: KeepAliveHttpOptions = {}): KeepAliveHttp {
  const agentOptions = {
    keepAlive: true,
    maxFreeSockets: options.maxFreeSockets ?? 16,
    timeout: options.idleMs ?? 30_000,
    scheduling: 'lifo' as const,
  };
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  const small = createUndiciSmall({
    connections: agentOptions.maxFreeSockets,
    idleMs: agentOptions.timeout,
  });

  // A poller asks the same URLs every interval: each is parsed once.
  const targets = new Map<string, Target>();
  function targetOf(href: string): Target {
    let target = targets.get(href);
    if (target) return target;
    const url = new URL(href);
    target = { secure: url.protocol === 'https:', options: urlToHttpOptions(url) };
    if (targets.size >= TARGETS_LIMIT) targets.clear();
    targets.set(href, target);
    return target;
  }

  function send(
    req: GitHttpRequest,
    body: Buffer | undefined,
    retry: boolean,
  ): Promise<IncomingMessage> {
    const { secure, options: url } = targetOf(req.url);
    const timeout = Number((req.fetchOptions as { timeout?: number } | undefined)?.timeout) || 0;
    const headers: Record<string, string> = { ...req.headers };
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)({
        ...url,
        method: req.method ?? 'GET',
        headers,
        agent: secure ? https : http,
        ...(req.signal ? { signal: req.signal as AbortSignal } : {}),
      });
      if (timeout > 0) {
        request.setTimeout(timeout, () => request.destroy(new Error('Request timed out')));
      }
      request.once('response', resolve);
      request.once('error', (error: NodeJS.ErrnoException) => {
        if (retry && request.reusedSocket && RETRYABLE.has(error.code ?? '')) {
          send(req, body, false).then(resolve, reject);
        } else reject(error);
      });
      request.end(body);
    });
  }

  return {
    async request(req) {
      const body = req.body ? await collect(req.body) : undefined;
      const res = await send(req, body, true);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const response: GitHttpResponse = {
        url: req.url,
        method: req.method ?? 'GET',
        statusCode: res.statusCode ?? 0,
        statusMessage: res.statusMessage ?? '',
        headers,
        body: res[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>,
      };
      return response;
    },
    small,
    close() {
      http.destroy();
      https.destroy();
      void small.close();
    },
  };
}

async function collect(body: NonNullable<GitHttpRequest['body']>): Promise<Buffer> {
  // isomorphic-git and ls-refs pass a POST body as an array of buffers: one is sent as it is.
  if (Array.isArray(body) && body.length === 1 && Buffer.isBuffer(body[0])) return body[0];
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
