import { AppError, safeEqual } from '@simpledeploy/core';
import type { Context, MiddlewareHandler } from 'hono';

const BEARER = /^bearer\s+(.+)$/i;

const isWebSocketUpgrade = (c: Context) => c.req.header('upgrade')?.toLowerCase() === 'websocket';

/**
 * The keys a request presents: `X-API-KEY`, `Authorization: Bearer`, and for a
 * WebSocket upgrade also `?token=` (browsers cannot set headers on a WebSocket).
 */
export function presentedKeys(c: Context): string[] {
  const keys: string[] = [];
  const header = c.req.header('x-api-key');
  if (header) keys.push(header.trim());
  const bearer = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  if (bearer) keys.push(bearer.trim());
  if (isWebSocketUpgrade(c)) {
    const token = c.req.query('token');
    if (token) keys.push(token);
  }
  return keys.filter((k) => k.length > 0);
}

/** True when the request carries the API key in any accepted form; compared in constant time. */
export function hasValidApiKey(c: Context, apiKey: string): boolean {
  // Every presented key is compared, so timing does not tell which form matched.
  let ok = false;
  for (const key of presentedKeys(c)) if (safeEqual(key, apiKey)) ok = true;
  return ok;
}

export const unauthorized = () =>
  new AppError(
    'UNAUTHORIZED',
    'a valid API key is required: send it as "X-API-KEY: <key>" or "Authorization: Bearer <key>"',
  );

export interface ApiKeyAuthOptions {
  apiKey: string;
  /**
   * Requests for which this returns true pass without the key; their route must then
   * authenticate on its own (e.g. a signed git-host webhook, which can still accept
   * the key through hasValidApiKey).
   */
  exempt?: (c: Context) => boolean;
}

/** Rejects requests without the API key with 401 UNAUTHORIZED (the error body). */
export function apiKeyAuth({ apiKey, exempt }: ApiKeyAuthOptions): MiddlewareHandler {
  if (apiKey.length === 0) throw new Error('apiKeyAuth needs a non-empty API key');
  return async (c, next) => {
    if (exempt?.(c)) return next();
    if (!hasValidApiKey(c, apiKey)) {
      c.header('WWW-Authenticate', 'Bearer');
      throw unauthorized();
    }
    return next();
  };
}
