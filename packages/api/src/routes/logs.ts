import type { Deployer } from '@simpledeploy/deployer';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import { LogMessage, LogQuery, LogSnapshot, WebSocketQuery } from '../contract';
import type { AppEnv } from '../deps';
import { followLog, type LogEvent, wireLine } from '../log-stream';
import { describeRoute, type RouteDoc } from '../openapi';
import { query } from '../validate';

/** A viewer that cannot keep up is dropped rather than buffered without bound. */
const MAX_WS_BUFFER = 8 * 1024 * 1024;
/** Lines a slow SSE reader may have pending before it is dropped. */
const MAX_SSE_QUEUED = 50_000;

/**
 * Live deployment logs over WebSocket and Server-Sent Events, by deployment id or by
 * stack (its running deployment, else its latest).
 */
export function logRoutes(deployer: Deployer, upgradeWebSocket: UpgradeWebSocket) {
  const byStack = (stack: string) => deployer.currentDeploymentId(stack);

  const ws = (resolveId: (param: string) => string, param: 'id' | 'stack') =>
    upgradeWebSocket((c) => {
      // Resolved before the upgrade so an unknown id is a 404, not a socket that closes.
      const id = resolveId(c.req.param(param) ?? '');
      let stop = () => {};
      return {
        onOpen(_evt, socket: WSContext) {
          const raw = socket.raw as { bufferedAmount?: number } | undefined;
          stop = followLog(deployer, id, (e: LogEvent) => {
            if ((raw?.bufferedAmount ?? 0) > MAX_WS_BUFFER) {
              stop();
              socket.close(1013, 'viewer too slow');
              return;
            }
            if (e.type === 'line') socket.send(JSON.stringify(wireLine(e.line)));
            else {
              socket.send(JSON.stringify({ type: 'end', status: e.status }));
              socket.close(1000, 'deployment ended');
            }
          });
        },
        onClose() {
          stop();
        },
      };
    });

  const sse =
    (resolveId: (param: string) => string, param: 'id' | 'stack') =>
    async (c: import('hono').Context<AppEnv>) => {
      const id = resolveId(c.req.param(param) ?? '');
      if (c.req.query('follow') !== 'true') {
        const { lines, status } = deployer.storedLog(id);
        return c.json({ deployment_id: id, status, lines: lines.map(wireLine) });
      }
      return streamSSE(c, async (stream) => {
        // Lines are queued and written one at a time, so a slow reader never blocks the deploy.
        const queue: LogEvent[] = [];
        let wake = () => {};
        let ended = false;
        const stop = followLog(deployer, id, (e) => {
          // Same bound as the WebSocket: a reader that stopped reading is dropped.
          if (queue.length >= MAX_SSE_QUEUED) ended = true;
          else queue.push(e);
          wake();
        });
        stream.onAbort(() => {
          ended = true;
          stop();
          wake();
        });
        while (!ended) {
          const e = queue.shift();
          if (!e) {
            await new Promise<void>((r) => {
              wake = r;
            });
            continue;
          }
          if (e.type === 'line') {
            await stream.writeSSE({
              id: String(e.line.seq),
              data: JSON.stringify(wireLine(e.line)),
            });
          } else {
            await stream.writeSSE({
              event: 'end',
              data: JSON.stringify({ type: 'end', status: e.status }),
            });
            ended = true;
          }
        }
        stop();
      });
    };

  const direct = (id: string) => {
    deployer.storedLog(id); // 404 for an unknown id
    return id;
  };

  const of = (what: string) => ({
    ws: describeRoute({
      id: `${what === 'deployment' ? 'deployment' : 'stack'}LogWebSocket`,
      summary: `Live log of ${what === 'deployment' ? 'a deployment' : "the stack's running deployment, else its latest"} (WebSocket)`,
      description:
        'Replays every line so far, then follows; JSON messages `{"type":"line",…}` and a last `{"type":"end","status":…}`.',
      tag: 'logs',
      responses: {
        101: {
          description: 'switching to the WebSocket protocol',
          type: 'application/json',
          schema: LogMessage,
        },
      },
    } satisfies RouteDoc),
    sse: describeRoute({
      id: `${what === 'deployment' ? 'deployment' : 'stack'}Log`,
      summary: `The log of ${what === 'deployment' ? 'a deployment' : "the stack's running deployment, else its latest"}`,
      description:
        'Without `follow`: the lines so far as JSON. With `follow=true`: Server-Sent Events, the same lines as `data:` and a last `end` event.',
      tag: 'logs',
      responses: { 200: LogSnapshot },
      stream: LogMessage,
    } satisfies RouteDoc),
  });
  const deployment = of('deployment');
  const stack = of('stack');
  return new Hono<AppEnv>()
    .get('/api/v1/deployments/:id/logs/ws', deployment.ws, query(WebSocketQuery), ws(direct, 'id'))
    .get('/api/v1/deployments/:id/logs', deployment.sse, query(LogQuery), sse(direct, 'id'))
    .get('/api/v1/stacks/:stack/logs/ws', stack.ws, query(WebSocketQuery), ws(byStack, 'stack'))
    .get('/api/v1/stacks/:stack/logs', stack.sse, query(LogQuery), sse(byStack, 'stack'));
}
