import type { ContainerLogLine, ContainerService } from '@simpledeploy/deployer';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import {
  ContainerLogMessage,
  ContainerLogQuery,
  ContainerLogSnapshot,
  ContainerLogWsQuery,
  ContainerStatsList,
} from '../contract';
import type { AppEnv } from '../deps';
import { describeRoute } from '../openapi';
import { query } from '../validate';

/** A viewer that cannot keep up is dropped rather than buffered without bound. */
const MAX_WS_BUFFER = 8 * 1024 * 1024;
/** Lines a slow SSE reader may have pending before it is dropped. */
const MAX_SSE_QUEUED = 50_000;

const tag = 'containers';
const wire = (line: ContainerLogLine) => ({ type: 'line' as const, ...line });

/** `tail` and `since` from a request's query (validated as text by the contract). */
function logOptions(c: Context<AppEnv>) {
  const tail = c.req.query('tail');
  const since = c.req.query('since');
  return {
    tail: tail === undefined ? undefined : Number(tail),
    since: since === undefined || since === '' ? undefined : since,
  };
}

/**
 * What runs in a stack's containers: a service's logs (JSON snapshot, Server-Sent Events
 * or WebSocket, from `docker compose logs`) and a stats snapshot of every container.
 * A follower's `docker compose logs` is killed when its client leaves.
 */
export function containerRoutes(containers: ContainerService, upgradeWebSocket: UpgradeWebSocket) {
  const logs = async (c: Context<AppEnv>) => {
    const stack = c.req.param('stack') ?? '';
    const service = c.req.param('service') ?? '';
    const opts = logOptions(c);
    if (c.req.query('follow') !== 'true') {
      const snapshot = await containers.logs(stack, service, opts);
      return c.json({ ...snapshot, lines: snapshot.lines.map(wire) });
    }
    // Checked before the stream starts, so a bad service is a 404, not an empty stream.
    const follow = await containers.openFollow(stack, service, opts);
    return streamSSE(c, async (stream) => {
      const queue: ContainerLogLine[] = [];
      const abort = new AbortController();
      let wake = () => {};
      let ended = false;
      const stop = () => {
        abort.abort();
        wake();
      };
      stream.onAbort(stop);
      // A client that left while the follow was being set up never cancels the body.
      const request = c.req.raw.signal;
      if (request.aborted) stop();
      else request.addEventListener('abort', stop, { once: true });
      const done = follow((line) => {
        if (queue.length >= MAX_SSE_QUEUED) abort.abort();
        else queue.push(line);
        wake();
      }, abort.signal).finally(() => {
        ended = true;
        wake();
      });
      while (!abort.signal.aborted) {
        const line = queue.shift();
        if (line) {
          await stream.writeSSE({ id: String(line.seq), data: JSON.stringify(wire(line)) });
          continue;
        }
        if (ended) {
          await stream.writeSSE({
            event: 'end',
            data: JSON.stringify({ type: 'end', reason: 'the containers stopped logging' }),
          });
          break;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
      }
      abort.abort();
      await done;
    });
  };

  const logsWs = upgradeWebSocket(async (c) => {
    const follow = await containers.openFollow(
      c.req.param('stack') ?? '',
      c.req.param('service') ?? '',
      logOptions(c as Context<AppEnv>),
    );
    const abort = new AbortController();
    return {
      onOpen(_evt, socket: WSContext) {
        const raw = socket.raw as { bufferedAmount?: number } | undefined;
        void follow((line) => {
          if ((raw?.bufferedAmount ?? 0) > MAX_WS_BUFFER) {
            abort.abort();
            socket.close(1013, 'viewer too slow');
            return;
          }
          socket.send(JSON.stringify(wire(line)));
        }, abort.signal).then(({ aborted }) => {
          if (aborted) return;
          socket.send(JSON.stringify({ type: 'end', reason: 'the containers stopped logging' }));
          socket.close(1000, 'log ended');
        });
      },
      onClose() {
        abort.abort();
      },
    };
  });

  return new Hono<AppEnv>()
    .get(
      '/api/v1/stacks/:stack/services/:service/logs/ws',
      describeRoute({
        id: 'containerLogWebSocket',
        summary: "Follow a service's container logs (WebSocket)",
        description:
          'The last `tail` lines, then new ones as JSON messages `{"type":"line",…}`; closing the socket stops the follower.',
        tag,
        responses: {
          101: {
            description: 'switching to the WebSocket protocol',
            type: 'application/json',
            schema: ContainerLogMessage,
          },
        },
        errors: [409, 503],
      }),
      query(ContainerLogWsQuery),
      logsWs,
    )
    .get(
      '/api/v1/stacks/:stack/services/:service/logs',
      describeRoute({
        id: 'containerLogs',
        summary: "A service's container logs (docker compose logs)",
        description:
          'Without `follow`: the last `tail` lines as JSON. With `follow=true`: Server-Sent Events, the same lines as `data:` until the client leaves. Lines are redacted. 404 names the services that have containers.',
        tag,
        responses: { 200: ContainerLogSnapshot },
        stream: ContainerLogMessage,
        errors: [409, 503],
      }),
      query(ContainerLogQuery),
      logs,
    )
    .get(
      '/api/v1/stacks/:stack/stats/containers',
      describeRoute({
        id: 'containerStats',
        summary: "Resource use and restarts of the stack's containers",
        description:
          'CPU, memory, network and restart count per container, from one `docker stats --no-stream` and one `docker inspect`. (`/stats` is the deployment statistics.)',
        tag,
        responses: { 200: ContainerStatsList },
        errors: [409, 503],
      }),
      async (c) => c.json(await containers.stats(c.req.param('stack'))),
    );
}
