import type { ChangeEvent } from '@simpledeploy/deployer';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { UpgradeWebSocket } from 'hono/ws';
import { PushMessage as PushMessageSchema, WebSocketQuery } from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { describeRoute } from '../openapi';
import { query } from '../validate';

/** Messages a slow SSE reader may have pending before it is disconnected. */
const MAX_QUEUED = 10_000;

type PushMessage =
  | { type: 'deployment'; deployment: unknown }
  | { type: 'stack'; stack: unknown }
  | { type: 'stack_deleted'; stack_id: string };

/**
 * The push channel for state changes, so a stack list updates without polling:
 * WebSocket `GET /api/v1/events/ws` and SSE `GET /api/v1/events`.
 */
export function eventRoutes({ deployer, stacks }: DomainDeps, upgradeWebSocket: UpgradeWebSocket) {
  // Every client gets the same event object: build its message (a stack view costs
  // queries) once per event, not once per connected client.
  const built = new WeakMap<ChangeEvent, PushMessage>();
  const build = (e: ChangeEvent): PushMessage => {
    if (e.type === 'deployment') return { type: 'deployment', deployment: e.deployment };
    try {
      return { type: 'stack', stack: stacks.get(e.stackId) };
    } catch {
      return { type: 'stack_deleted', stack_id: e.stackId };
    }
  };
  const toMessage = (e: ChangeEvent): PushMessage => {
    let m = built.get(e);
    if (!m) {
      m = build(e);
      built.set(e, m);
    }
    return m;
  };
  return new Hono<AppEnv>()
    .get(
      '/api/v1/events/ws',
      describeRoute({
        id: 'eventsWebSocket',
        summary: 'Push channel of state changes (WebSocket)',
        description:
          'Each message is a JSON PushMessage: a deployment or stack that changed, or a stack deleted.',
        tag: 'events',
        responses: {
          101: {
            description: 'switching to the WebSocket protocol; messages are PushMessage JSON',
            type: 'application/json',
            schema: PushMessageSchema,
          },
        },
      }),
      query(WebSocketQuery),
      upgradeWebSocket(() => {
        let off = () => {};
        return {
          onOpen(_e, ws) {
            off = deployer.onChange((e) => ws.send(JSON.stringify(toMessage(e))));
          },
          onClose() {
            off();
          },
        };
      }),
    )
    .get(
      '/api/v1/events',
      describeRoute({
        id: 'eventsStream',
        summary: 'Push channel of state changes (Server-Sent Events)',
        description: 'Events named after the message type; `data:` is the PushMessage JSON.',
        tag: 'events',
        responses: {
          200: {
            description: 'an event stream of PushMessage',
            type: 'text/event-stream',
            schema: PushMessageSchema,
          },
        },
      }),
      (c) =>
        streamSSE(c, async (stream) => {
          const queue: PushMessage[] = [];
          let wake = () => {};
          let open = true;
          const off = deployer.onChange((e) => {
            // A reader that stopped reading is dropped, not buffered without bound.
            if (queue.length >= MAX_QUEUED) {
              open = false;
              off();
            } else queue.push(toMessage(e));
            wake();
          });
          stream.onAbort(() => {
            open = false;
            off();
            wake();
          });
          while (open) {
            const m = queue.shift();
            if (m) await stream.writeSSE({ event: m.type, data: JSON.stringify(m) });
            else
              await new Promise<void>((r) => {
                wake = r;
              });
          }
        }),
    );
}
