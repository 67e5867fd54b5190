import { AppError, type ErrorCode } from '@simpledeploy/core';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { createApp } from './app';
import { statusFor } from './errors';
import { recordingLogger, TEST_KEY, testDeps } from './test-helpers';

const auth = { 'X-API-KEY': TEST_KEY };

describe('error mapping', () => {
  it('maps every error code to its status', () => {
    const expected: Record<ErrorCode, number> = {
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      POLICY: 422,
      VALIDATION: 400,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      RATE_LIMITED: 429,
      UNAVAILABLE: 503,
      INTERNAL: 500,
    };
    for (const [code, status] of Object.entries(expected)) {
      expect(statusFor(code as ErrorCode)).toBe(status);
    }
  });

  it('writes an AppError as the error body with its status and details', async () => {
    const app = createApp(testDeps());
    app.get('/api/v1/thing', () => {
      throw new AppError('CONFLICT', 'the stack is already deploying', { stack: 'web' });
    });
    const res = await app.request('/api/v1/thing', { headers: auth });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: 'CONFLICT',
        message: 'the stack is already deploying',
        details: { stack: 'web' },
      },
    });
  });

  it('answers an unknown route with 404 and the error body', async () => {
    const res = await createApp(testDeps()).request('/nowhere');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'no route for GET /nowhere', details: {} },
    });
  });

  it('turns an unknown error into a generic 500 that does not leak its message, and logs it', async () => {
    const logger = recordingLogger();
    const app = createApp(testDeps({ logger }));
    app.get('/api/v1/boom', () => {
      throw new Error('database password hunter2 rejected');
    });
    const res = await app.request('/api/v1/boom', { headers: auth });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toEqual({
      error: { code: 'INTERNAL', message: expect.any(String), details: {} },
    });
    const logged = logger.entries.find((e) => e.msg === 'request failed');
    expect(logged?.level).toBe('error');
    expect(logged?.fields.request_id).toEqual(expect.any(String));
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const app = createApp(testDeps());
    app.post('/api/v1/echo', async (c) => c.json({ size: (await c.req.text()).length }));
    const big = 'x'.repeat(1024 * 1024 + 1);
    const res = await app.request('/api/v1/echo', { method: 'POST', headers: auth, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringContaining('larger than'),
        details: { max_bytes: 1024 * 1024 },
      },
    });
    const ok = await app.request('/api/v1/echo', {
      method: 'POST',
      headers: auth,
      body: 'x'.repeat(1024 * 1024),
    });
    expect(ok.status).toBe(200);
  });

  it('applies the limit to streamed bodies without a content-length', async () => {
    const app = createApp(testDeps({ maxBodyBytes: 10 }));
    app.post('/api/v1/echo', async (c) => c.text(await c.req.text()));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('0123456789abc'));
        controller.close();
      },
    });
    const res = await app.request('/api/v1/echo', {
      method: 'POST',
      headers: auth,
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('answers a malformed JSON body with 400 VALIDATION', async () => {
    const app = createApp(testDeps());
    app.post('/api/v1/things', async (c) => c.json(await c.req.json()));
    const res = await app.request('/api/v1/things', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{"name": ',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'VALIDATION', message: 'the request body is not valid JSON', details: {} },
    });
  });

  it('maps a Hono HTTPException to 400 VALIDATION with its message', async () => {
    const app = createApp(testDeps());
    app.get('/api/v1/bad', () => {
      throw new HTTPException(400, { message: 'ref must be a branch, tag or commit' });
    });
    const res = await app.request('/api/v1/bad', { headers: auth });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'VALIDATION', message: 'ref must be a branch, tag or commit', details: {} },
    });
  });

  it('returns the request id in X-Request-Id', async () => {
    const res = await createApp(testDeps()).request('/health');
    expect(res.headers.get('x-request-id')).toMatch(/^[\w-]+$/);
  });

  it('answers an error translateError knows with its AppError, and Retry-After from its details', async () => {
    class LockedError extends Error {}
    const app = createApp({
      ...testDeps(),
      translateError: (e) =>
        e instanceof LockedError
          ? new AppError('UNAVAILABLE', 'the database is locked; retry', {
              retry_after_seconds: 1.5,
            })
          : undefined,
    });
    app.get('/api/v1/locked', () => {
      throw new LockedError('SQLITE_BUSY: database is locked');
    });
    app.get('/api/v1/other', () => {
      throw new Error('something else');
    });
    const res = await app.request('/api/v1/locked', { headers: auth });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({
      error: {
        code: 'UNAVAILABLE',
        message: 'the database is locked; retry',
        details: { retry_after_seconds: 1.5 },
      },
    });
    const other = await app.request('/api/v1/other', { headers: auth });
    expect(other.status).toBe(500);
    expect(other.headers.get('retry-after')).toBeNull();
  });
});
