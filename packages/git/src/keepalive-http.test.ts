import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeepAliveHttp } from './keepalive-http';
import { ResponseTooLarge } from './small-http';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server?.closeAllConnections();
  server = undefined;
});

/** A local HTTP server that counts its TCP connections and echoes the request body. */
async function echoServer(opts: { keepAliveTimeout?: number } = {}) {
  const stats = { connections: 0, requests: 0 };
  server = createServer((req, res) => {
    stats.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`${req.method} ${Buffer.concat(chunks).toString()}`));
  });
  if (opts.keepAliveTimeout) server.keepAliveTimeout = opts.keepAliveTimeout;
  server.on('connection', () => stats.connections++);
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/repo.git`, stats };
}

async function text(body: AsyncIterableIterator<Uint8Array> | undefined) {
  const chunks: Uint8Array[] = [];
  if (body) for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

describe('createKeepAliveHttp', () => {
  it('sends requests one after another over one kept-alive connection', async () => {
    const { url, stats } = await echoServer();
    const http = createKeepAliveHttp();
    for (let i = 0; i < 5; i++) {
      const res = await http.request({
        url,
        method: 'POST',
        headers: {},
        body: [Buffer.from(`n${i}`)] as unknown as AsyncIterableIterator<Uint8Array>,
      });
      expect(res.statusCode).toBe(200);
      expect(await text(res.body)).toBe(`POST n${i}`);
    }
    expect(stats).toEqual({ connections: 1, requests: 5 });
    http.close();
  });

  it('opens a new connection when the server closed the idle one', async () => {
    const { url, stats } = await echoServer({ keepAliveTimeout: 50 });
    const http = createKeepAliveHttp();
    expect(await text((await http.request({ url, headers: {} })).body)).toBe('GET ');
    await new Promise((r) => setTimeout(r, 200));
    expect(await text((await http.request({ url, headers: {} })).body)).toBe('GET ');
    expect(stats).toEqual({ connections: 2, requests: 2 });
    http.close();
  });

  it('fails a request the server does not answer within the timeout', async () => {
    server = createServer(() => {});
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    const http = createKeepAliveHttp();
    await expect(
      http.request({
        url: `http://127.0.0.1:${port}/x`,
        headers: {},
        fetchOptions: { timeout: 100 },
      }),
    ).rejects.toThrow('Request timed out');
    http.close();
  });
});

describe('createKeepAliveHttp: small requests', () => {
  it('reads answers whole over one kept-alive connection, and drains a non-200 unread', async () => {
    const stats = { connections: 0 };
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.endsWith('/missing')) {
          res.writeHead(404);
          res.end('not here');
          return;
        }
        res.write('part one, ');
        res.end('part two');
      });
    });
    server.on('connection', () => stats.connections++);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const http = createKeepAliveHttp();
    for (let i = 0; i < 10; i++) {
      const res = await http.small({
        url: `${base}/a`,
        method: 'POST',
        headers: {},
        body: Buffer.from('x'),
      });
      expect([res.statusCode, res.body.toString()]).toEqual([200, 'part one, part two']);
    }
    const missing = await http.small({ url: `${base}/missing`, method: 'GET', headers: {} });
    expect([missing.statusCode, missing.body.length]).toEqual([404, 0]);
    // Kept alive: 11 requests, one after another, on one connection, or two when the
    // next request is sent while the first connection is still being released.
    expect(stats.connections).toBeLessThanOrEqual(2);
    http.close();
  });

  it('stops at maxBytes, and fails an answer cut off by the server', async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      if (req.url !== '/cut') return res.end('x'.repeat(100));
      // Fewer bytes than announced, then the connection goes away.
      res.write('x'.repeat(10));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const http = createKeepAliveHttp();
    await expect(
      http.small({ url: `${base}/big`, method: 'GET', headers: {}, maxBytes: 10 }),
    ).rejects.toBeInstanceOf(ResponseTooLarge);
    const cut = await http
      .small({ url: `${base}/cut`, method: 'GET', headers: {} })
      .catch((e) => e);
    expect(cut).toMatchObject({ code: 'ECONNRESET' });
    http.close();
  });
});
