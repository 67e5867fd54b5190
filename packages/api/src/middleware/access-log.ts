import type { Logger } from '@simpledeploy/core';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps';

// Probes hit these every few seconds; log them only at debug unless they fail.
const QUIET_PATHS = new Set(['/health', '/up', '/metrics']);

/**
 * One log line per request with its id, method, path, status and duration. Never
 * headers or the query string: they carry the API key (`?token=` on WebSockets).
 */
export function accessLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // A monotonic duration, not a point in time, so the Clock port is not needed here.
    const started = performance.now();
    const requestLogger = logger.child({ request_id: c.get('requestId') });
    c.set('logger', requestLogger);
    await next();
    const status = c.res.status;
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) requestLogger.warn('request', fields);
    else if (QUIET_PATHS.has(c.req.path) && status < 400) requestLogger.debug('request', fields);
    else requestLogger.info('request', fields);
  };
}
