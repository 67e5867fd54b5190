import {
  AppError,
  type ErrorCode,
  type Logger,
  maskCredentials,
  type Redact,
} from '@simpledeploy/core';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './deps';

/** The body of every non-2xx JSON response (api.md "Error body"). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

export const errorBody = (
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorBody => ({ error: { code, message, details } });

/** The one place an error code becomes an HTTP status. */
export function statusFor(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'POLICY':
      return 422;
    case 'VALIDATION':
      return 400;
    case 'CONFLICT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
      return 429;
    case 'UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
    default: {
      const unhandled: never = code;
      throw new Error(`no HTTP status for error code ${String(unhandled)}`);
    }
  }
}

/** Writes an AppError as the error body with its status. */
export const errorResponse = (c: Context, err: AppError) =>
  c.json(errorBody(err.code, err.message, err.details), statusFor(err.code));

const GENERIC_INTERNAL = 'an unexpected error occurred; the server log has the details';

/** Hono's own HTTPExceptions (validators, middleware) carry a status; keep its meaning. */
function fromHttpException(e: HTTPException): AppError {
  const message = e.message || 'the request is not valid';
  switch (e.status) {
    case 401:
      return new AppError('UNAUTHORIZED', 'a valid API key is required');
    case 404:
      return new AppError('NOT_FOUND', 'no such resource');
    case 409:
      return new AppError('CONFLICT', message);
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE', 'the request body is too large');
    case 429:
      return new AppError('RATE_LIMITED', 'too many requests; retry later');
    case 503:
      return new AppError('UNAVAILABLE', 'the service is unavailable; retry later');
    default:
      return e.status < 500
        ? new AppError('VALIDATION', message)
        : new AppError('INTERNAL', GENERIC_INTERNAL);
  }
}

// c.req.json() throws a bare SyntaxError on a malformed body; only then is it the client's fault.
const isBodyParseError = (e: unknown, c: Context) =>
  e instanceof SyntaxError &&
  c.req.raw.bodyUsed &&
  /json/i.test(c.req.header('content-type') ?? '');

/** Reads a JSON body, turning a malformed one into a 400 VALIDATION error. */
export async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AppError('VALIDATION', 'the request body is not valid JSON');
  }
}

/** Redacts every string inside an error's details (they may quote a URL or a command). */
function redactDetails(details: Record<string, unknown>, redact: Redact): Record<string, unknown> {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v);
    if (depth > 5 || !v || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return walk(details, 0) as Record<string, unknown>;
}

/**
 * The app's only onError: AppError by its code, an error `translate` knows as its
 * AppError, anything else as a generic 500. Messages and details pass the redactor on
 * the way out, whatever code raised them. `details.retry_after_seconds` (a 503 the
 * client may retry) becomes a Retry-After header.
 */
export function createErrorHandler(
  logger: Logger,
  redact: Redact = maskCredentials,
  translate?: (error: unknown) => AppError | undefined,
): ErrorHandler<AppEnv> {
  return (err, c) => {
    let appError: AppError;
    if (err instanceof AppError) appError = err;
    else if (err instanceof HTTPException) appError = fromHttpException(err);
    else if (isBodyParseError(err, c))
      appError = new AppError('VALIDATION', 'the request body is not valid JSON');
    else appError = translate?.(err) ?? new AppError('INTERNAL', GENERIC_INTERNAL);

    const status = statusFor(appError.code);
    if (status >= 500) {
      (c.get('logger') ?? logger).error('request failed', {
        method: c.req.method,
        path: c.req.path,
        code: appError.code,
        error: err,
        stack: err instanceof Error ? err.stack : undefined,
      });
    }
    const retryAfter = appError.details.retry_after_seconds;
    if (typeof retryAfter === 'number' && retryAfter > 0)
      c.header('Retry-After', String(Math.ceil(retryAfter)));
    return c.json(
      errorBody(appError.code, redact(appError.message), redactDetails(appError.details, redact)),
      status,
    );
  };
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  c.json(errorBody('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404);
