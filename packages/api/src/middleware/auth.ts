import { AppError, safeEqual } from '@simpledeploy/core';
import type { Context, MiddlewareHandler } from 'hono';

const BEARER = /^bearer\s+(.+)$/i;

const isWebSocketUpgrade = (c: Context) => c.req.header('upgrade')?.toLowerCase() === 'websocket';

/** Which requests may present the key as `?token=`; by default none. */
export type QueryTokenRoutes = (c: Context) => boolean;

const takesQueryToken = (c: Context, routes?: QueryTokenRoutes) =>
  isWebSocketUpgrade(c) && routes?.(c) === true;

/**
 * The keys a request presents: `X-API-KEY`, `Authorization: Bearer`, and `?token=` for
 * a WebSocket upgrade to a route queryTokenRoutes accepts (browsers cannot set headers
 * on a WebSocket). Anywhere else a key in the URL would end up in proxy logs and
 * browser history, so it is ignored.
 */
export function presentedKeys(c: Context, queryTokenRoutes?: QueryTokenRoutes): string[] {
  const keys: string[] = [];
  const header = c.req.header('x-api-key');
  if (header) keys.push(header.trim());
  const bearer = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  if (bearer) keys.push(bearer.trim());
  if (takesQueryToken(c, queryTokenRoutes)) {
    const token = c.req.query('token');
    if (token) keys.push(token);
  }
  return keys.filter((k) => k.length > 0);
}

/** True when the request carries the API key in any accepted form; compared in constant time. */
export function hasValidApiKey(
  c: Context,
  apiKey: string,
  queryTokenRoutes?: QueryTokenRoutes,
): boolean {
  // Every presented key is compared, so timing does not tell which form matched.
  let ok = false;
  for (const key of presentedKeys(c, queryTokenRoutes)) if (safeEqual(key, apiKey)) ok = true;
  return ok;
}

const HOW_TO_SEND =
  'a valid API key is required: send it as "X-API-KEY: <key>" or "Authorization: Bearer <key>"';

/** The 401; `ignoredQueryToken` says the request sent `?token=` where it does not count. */
export const unauthorized = (ignoredQueryToken = false) =>
  new AppError(
    'UNAUTHORIZED',
    ignoredQueryToken
      ? `${HOW_TO_SEND} (?token= is accepted only on WebSocket upgrades of the /ws routes)`
      : HOW_TO_SEND,
  );

export interface ApiKeyAuthOptions {
  apiKey: string;
  /**
   * Requests for which this returns true pass without the key; their route must then
   * authenticate on its own (e.g. a signed git-host webhook, which can still accept
   * the key through hasValidApiKey).
   */
  exempt?: (c: Context) => boolean;
  /** The WebSocket routes: only an upgrade request to one of them may send `?token=`. */
  queryTokenRoutes?: QueryTokenRoutes;
}

/** Rejects requests without the API key with 401 UNAUTHORIZED (the error body). */
export function apiKeyAuth({
  apiKey,
  exempt,
  queryTokenRoutes,
}: ApiKeyAuthOptions): MiddlewareHandler {
  if (apiKey.length === 0) throw new Error('apiKeyAuth needs a non-empty API key');
  return async (c, next) => {
    if (exempt?.(c)) return next();
    if (!hasValidApiKey(c, apiKey, queryTokenRoutes)) {
      c.header('WWW-Authenticate', 'Bearer');
      const ignoredToken = c.req.query('token') !== undefined;
      throw unauthorized(ignoredToken && !takesQueryToken(c, queryTokenRoutes));
    }
    return next();
  };
}
