import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApi } from './app';
import { testDomain } from './test-domain';
import { TEST_KEY, testDeps } from './test-helpers';

// The app on a real listening server, as apps/server runs it: @hono/node-server for
// HTTP, createApi's injectWebSocket for upgrades.

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends a WebSocket handshake; resolves with the HTTP answer when the server refuses it. */
function handshake(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`${path} was upgraded`));
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Serves the api on a free 127.0.0.1 port, upgrades included. */
async function listen(api: ReturnType<typeof createApi>) {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
      resolve(s as Server),
    ) as Server;
  });
  api.injectWebSocket(server);
  return {
    port: (server.address() as AddressInfo).port,
    connections: () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((e, n) => (e ? reject(e) : resolve(n))),
      ),
    close: async () => {
      for (const ws of api.wss.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Opens a WebSocket and collects its messages until it closes. */
function collect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const messages: unknown[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, messages, opened, closed };
}

describe('WebSocket upgrades on a listening server', () => {
  const domain = testDomain();
  const api = createApi(testDeps({ domain, rateLimit: false }));
  let server: Awaited<ReturnType<typeof listen>>;
  let port = 0;
  let deploymentId = '';

  beforeAll(async () => {
    server = await listen(api);
    port = server.port;
    await domain.stacks.create({ name: 'web', compose: 'services:\n  web:\n    image: nginx\n' });
    const { deployment } = domain.deployer.deploy('web', { trigger: 'manual' });
    await domain.deployer.waitFor(deployment.id);
    deploymentId = deployment.id;
  });

  afterAll(() => server.close());

  const expectErrorBody = (answer: Answer, status: number, code: string, message: RegExp) => {
    expect(answer.status, answer.body).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.body)));
    expect(answer.headers.connection).toBe('close');
    const body = JSON.parse(answer.body);
    expect(body).toEqual({
      error: { code, message: expect.any(String), details: expect.any(Object) },
    });
    expect(body.error.message).toMatch(message);
    return body;
  };

  it('refuses an upgrade without a key with 401 and the JSON error body', async () => {
    const answer = await handshake(port, `/api/v1/deployments/${deploymentId}/logs/ws`);
    const body = expectErrorBody(answer, 401, 'UNAUTHORIZED', /API key/);
    expect(body.error.details).toEqual({});
    expect(answer.headers['www-authenticate']).toBe('Bearer');
    expect(answer.headers['x-request-id']).toBeTruthy();
  });

  it('refuses a wrong key, as ?token= or as a header, with 401 and the error body', async () => {
    expectErrorBody(
      await handshake(port, '/api/v1/events/ws?token=wrong-key'),
      401,
      'UNAUTHORIZED',
      /API key/,
    );
    expectErrorBody(
      await handshake(port, `/api/v1/stacks/web/logs/ws`, { 'X-API-KEY': 'wrong-key' }),
      401,
      'UNAUTHORIZED',
      /API key/,
    );
  });

  it('refuses ?token= on an upgrade to a route that is not a WebSocket', async () => {
    const answer = await handshake(port, `/api/v1/stacks?token=${TEST_KEY}`);
    expectErrorBody(answer, 401, 'UNAUTHORIZED', /\?token= is accepted only on WebSocket/);
  });

  it('refuses an unknown deployment or stack with 404 and the error body', async () => {
    expectErrorBody(
      await handshake(port, `/api/v1/deployments/dep_nope/logs/ws?token=${TEST_KEY}`),
      404,
      'NOT_FOUND',
      /does not exist/,
    );
    expectErrorBody(
      await handshake(port, '/api/v1/stacks/nope/logs/ws', { 'X-API-KEY': TEST_KEY }),
      404,
      'NOT_FOUND',
      /does not exist/,
    );
    expectErrorBody(
      await handshake(port, `/api/v1/nope/ws?token=${TEST_KEY}`, { 'X-API-KEY': TEST_KEY }),
      404,
      'NOT_FOUND',
      /no route for GET/,
    );
  });

  it('answers an upgrade to an ordinary route as a plain request, streams included', async () => {
    const answer = await handshake(port, '/api/v1/stacks', { 'X-API-KEY': TEST_KEY });
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body).stacks[0].name).toBe('web');
    // An event stream ends when its client hangs up, though nothing is being written.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/api/v1/events',
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'X-API-KEY': TEST_KEY },
      });
      req.on('response', (res) => {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        res.destroy();
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
    await expect.poll(() => server.connections()).toBe(0);
  });

  it('gives a WebSocket client the refusal to read', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events/ws`);
    const answer = await new Promise<Answer>((resolve) => {
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
    });
    expectErrorBody(answer, 401, 'UNAUTHORIZED', /API key/);
  });

  it('answers 429 with Retry-After to an address that keeps failing', async () => {
    const limited = await listen(
      createApi(testDeps({ rateLimit: { auth: { burst: 2, perMinute: 1 } } })),
    );
    try {
      const wrong = () => handshake(limited.port, '/api/v1/events/ws?token=still-wrong');
      expect((await wrong()).status).toBe(401);
      expect((await wrong()).status).toBe(401);
      const answer = await wrong();
      expectErrorBody(answer, 429, 'RATE_LIMITED', /retry in/);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('replays a deployment log over the WebSocket, key as ?token=', async () => {
    const c = collect(
      `ws://127.0.0.1:${port}/api/v1/deployments/${deploymentId}/logs/ws?token=${TEST_KEY}`,
    );
    await c.opened;
    expect(await c.closed).toBe(1000);
    expect(c.messages.length).toBeGreaterThan(1);
    expect(c.messages[0]).toMatchObject({ type: 'line', seq: expect.any(Number) });
    expect(c.messages.at(-1)).toEqual({ type: 'end', status: 'succeeded' });
  });

  it('pushes state changes on /api/v1/events/ws, key as a header', async () => {
    const c = collect(`ws://127.0.0.1:${port}/api/v1/events/ws`, { 'X-API-KEY': TEST_KEY });
    await c.opened;
    const { deployment } = domain.deployer.deploy('web', { trigger: 'manual', force: true });
    await domain.deployer.waitFor(deployment.id);
    await expect.poll(() => c.messages.length).toBeGreaterThan(0);
    expect(c.messages).toContainEqual(
      expect.objectContaining({
        type: 'deployment',
        deployment: expect.objectContaining({ id: deployment.id }),
      }),
    );
    c.ws.close();
    await c.closed;
  });
});
