import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses a request body over `maxSize` bytes (onError, the 413), with hono's rule: a
 * Content-Length without Transfer-Encoding is checked as a number (Node's HTTP parser
 * never delivers more bytes than it says), anything else is counted while it is read.
 * Unlike hono's bodyLimit it leaves a request with a Content-Length alone: hono's reads
 * `c.req.raw.body` first, which makes @hono/node-server build an undici Request with a
 * web stream over the socket for every request, where the handler's `c.req.text()` or
 * `arrayBuffer()` would have read the body straight from Node's IncomingMessage.
 */
export function requestBodyLimit(
  maxSize: number,
  onError: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const counted = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    // A GET or HEAD has no body to read (hono's finds `c.req.raw.body` null there).
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(length || '0', 10) > maxSize ? onError(c) : next();
    }
    return counted(c, next);
  };
}
