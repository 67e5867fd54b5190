import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { type Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Logger } from '@simpledeploy/core';
import type { Context } from 'hono';
import { defineWebSocketHelper, type UpgradeWebSocket, WSContext, type WSEvents } from 'hono/ws';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { AppEnv } from './deps';
import type { StreamGuard } from './streams';

const UPGRADE = Symbol('WebSocket upgrade');

/** What a request that came through the upgrade listener carries as `c.env`. */
export interface UpgradeBindings {
  /** The same binding @hono/node-server gives (clientAddress reads it). */
  incoming: IncomingMessage;
  outgoing: undefined;
  /** Only the upgrade listener's requests have it; upgradeWebSocket sets `accept`. */
  [UPGRADE]: { accept?: (ws: WebSocket) => void };
}

// Hop-by-hop and framing headers: this listener frames the refusal itself.
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/** The part of a Hono app the upgrade listener calls. */
export interface UpgradeApp {
  request(input: string, init: RequestInit, env: UpgradeBindings): Response | Promise<Response>;
}

export interface NodeWebSocket {
  upgradeWebSocket: UpgradeWebSocket<WebSocket>;
  /** Answers the server's upgrade requests with the app: auth, routing and errors included. */
  injectWebSocket(server: Server): void;
  /** Every open socket, e.g. to close them at shutdown. */
  wss: WebSocketServer;
}

/**
 * WebSockets for the app on a Node HTTP server. Unlike @hono/node-ws, a refused
 * upgrade gets the app's whole answer (status, headers and the JSON error body), not
 * an empty response, so a client learns why: a missing key, an unknown deployment.
 */
export function createNodeWebSocket(app: UpgradeApp, logger: Logger): NodeWebSocket {
  const wss = new WebSocketServer({ noServer: true });

  const report = (what: string) => (error: unknown) =>
    logger.error(`WebSocket ${what} failed`, { error });

  function attach(ws: WebSocket, events: WSEvents<WebSocket>, url: string, guard?: StreamGuard) {
    const allows = guard?.allows;
    const ctx = new WSContext<WebSocket>({
      // A key limited to some stacks is sent only the messages about them.
      send: (data, opts) => {
        if (allows && typeof data === 'string' && !allows(data)) return;
        ws.send(data, { compress: opts.compress });
      },
      close: (code, reason) => ws.close(code, reason),
      raw: ws,
      get readyState() {
        return ws.readyState;
      },
      url,
      protocol: ws.protocol,
    });
    const safely = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        report(what)(e);
      }
    };
    ws.on('message', (data: RawData, isBinary: boolean) =>
      safely('message handler', () =>
        events.onMessage?.(new MessageEvent('message', { data: messageData(data, isBinary) }), ctx),
      ),
    );
    // Revoking the key that opened the socket closes it (1008: policy violation).
    const untrack = guard?.track(() => ws.close(1008, 'the API key was revoked')) ?? (() => {});
    ws.on('close', (code: number, reason: Buffer) => {
      untrack();
      safely('close handler', () => events.onClose?.(closeEvent(code, reason.toString()), ctx));
    });
    ws.on('error', (error: Error) =>
      safely('error handler', () =>
        events.onError?.(Object.assign(new Event('error'), { error }), ctx),
      ),
    );
    safely('open handler', () => events.onOpen?.(new Event('open'), ctx));
  }

  const upgradeWebSocket = defineWebSocketHelper<WebSocket>((c, events) => {
    const env = c.env as Partial<UpgradeBindings> | undefined;
    // Only a request that came through the upgrade listener has a socket to take over.
    const upgrade = env?.[UPGRADE];
    if (!upgrade || c.req.header('upgrade')?.toLowerCase() !== 'websocket') return;
    const streamGuard = (c as Context<AppEnv>).get('streamGuard');
    upgrade.accept = (ws) => attach(ws, events, c.req.url, streamGuard);
    return new Response(null);
  });

  async function answer(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) if (v) headers.append(name, v);
    }
    const env: UpgradeBindings = { incoming: req, outgoing: undefined, [UPGRADE]: {} };
    // A WebSocket handshake is a GET (RFC 6455); ws refuses any other method itself.
    const res = await app.request(req.url ?? '/', { headers }, env);
    const accept = env[UPGRADE].accept;
    if (accept && res.ok) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.emit('connection', ws, req);
        accept(ws);
      });
      return;
    }
    await refuse(socket, res);
  }

  return {
    upgradeWebSocket,
    wss,
    injectWebSocket(server) {
      server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
        // Node stops watching an upgraded socket: a client that resets it must not crash us.
        socket.on('error', () => socket.destroy());
        answer(req, socket, head).catch((e) => {
          report('upgrade')(e);
          socket.destroy();
        });
      });
    },
  };
}

/** Writes the app's answer as a plain HTTP/1.1 response and closes the connection. */
async function refuse(socket: Duplex, res: Response) {
  const lines = [`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`];
  res.headers.forEach((value, name) => {
    if (!NOT_FORWARDED.has(name)) lines.push(`${name}: ${value}`);
  });
  // Error bodies are small: sent with their length. Anything else (a route that is not a
  // WebSocket, answered normally) streams until the connection closes.
  const body = res.status >= 400 ? Buffer.from(await res.arrayBuffer()) : undefined;
  if (body) lines.push(`content-length: ${body.length}`);
  lines.push('connection: close', '', '');
  socket.write(lines.join('\r\n'));
  if (body || !res.body) socket.end(body);
  else {
    // The socket is half-open: a client that hangs up must end the stream (and cancel
    // the body, an event stream say) even while nothing is being written.
    socket.once('end', () => socket.destroy());
    await pipeline(Readable.fromWeb(res.body as NodeReadableStream), socket).catch(() => {});
  }
}

function messageData(data: RawData, isBinary: boolean): string | ArrayBuffer {
  const buf = Array.isArray(data)
    ? Buffer.concat(data)
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : data;
  if (!isBinary) return buf.toString('utf8');
  return new Uint8Array(buf).buffer;
}

type CloseEventLike = Parameters<NonNullable<WSEvents['onClose']>>[0];

// Node 20 has no global CloseEvent: an Event with its fields.
function closeEvent(code: number, reason: string): CloseEventLike {
  return Object.assign(new Event('close'), { code, reason, wasClean: code !== 1006 });
}
