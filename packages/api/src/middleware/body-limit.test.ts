import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestBodyLimit } from './body-limit';

const MAX = 1000;

// Over a real listening server, as apps/server runs the app: Node's parser sets the
// Content-Length or chunked framing the middleware reads.
describe('requestBodyLimit', () => {
  let port = 0;
  let server: ReturnType<typeof serve>;
  const seen: number[] = [];
  beforeAll(async () => {
    const app = new Hono();
    app.use(
      '*',
      requestBodyLimit(MAX, (c) => c.text('too large', 413)),
    );
    app.post('/', async (c) => {
      const body = await c.req.text();
      seen.push(body.length);
      return c.text(`read ${body.length}`);
    });
    app.get('/', (c) => c.text('get'));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const send = (method: string, chunks: string[], chunked: boolean) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const length = chunks.reduce((n, s) => n + Buffer.byteLength(s), 0);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: '/',
          headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': length },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      req.end();
    });

  it('passes a body within the limit to the handler, whole, with or without a length', async () => {
    expect(await send('POST', ['x'.repeat(MAX)], false)).toEqual({
      status: 200,
      text: `read ${MAX}`,
    });
    expect(await send('POST', ['x'.repeat(400), 'y'.repeat(400)], true)).toEqual({
      status: 200,
      text: 'read 800',
    });
  });

  it('answers onError to a Content-Length over the limit before the handler reads it', async () => {
    const before = seen.length;
    expect(await send('POST', ['x'.repeat(MAX + 1)], false)).toEqual({
      status: 413,
      text: 'too large',
    });
    expect(seen.length).toBe(before);
  });

  it('counts a chunked body while it is read and refuses it past the limit', async () => {
    const before = seen.length;
    const res = await send('POST', ['x'.repeat(600), 'y'.repeat(600)], true);
    expect(res.status).toBe(413);
    expect(seen.length).toBe(before);
  });

  it('lets a GET through', async () => {
    expect(await send('GET', [], false)).toEqual({ status: 200, text: 'get' });
  });
});
