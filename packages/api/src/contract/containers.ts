import { z } from 'zod';
import { named, nullableTime, time } from './common';

export const ContainerLogQuery = z.object({
  tail: z
    .string()
    .regex(/^\d+$/, { error: 'tail must be a whole number from 0 to 10000' })
    .optional()
    .describe("lines from the end of each container's log: 0-10000 (default 200)"),
  since: z
    .string()
    .optional()
    .describe('only newer lines: a duration (90s, 10m, 2h), a Unix time or an RFC 3339 time'),
  follow: z
    .enum(['true', 'false'], { error: 'follow must be true or false' })
    .optional()
    .describe('true: the tail, then new lines as Server-Sent Events until the client leaves'),
});

export const ContainerLogWsQuery = ContainerLogQuery.omit({ follow: true }).extend({
  token: z.string().optional().describe('the API key (WebSocket upgrades only)'),
});

/** One line a container wrote (a JSON message of the stream, or an entry of `lines`). */
export const ContainerLogLine = named.response(
  'ContainerLogLine',
  z.strictObject({
    type: z.literal('line'),
    seq: z.number().int(),
    ts: time.nullable().describe("the engine's timestamp of the line"),
    container: z.string(),
    service: z.string(),
    text: z.string().describe("redacted with the stack's secrets"),
  }),
);

export const ContainerLogEnd = named.response(
  'ContainerLogEnd',
  z.strictObject({ type: z.literal('end'), reason: z.string() }),
  "The last message of a follow that ended on the server's side (the containers went away).",
);

export const ContainerLogMessage = z.discriminatedUnion('type', [
  ContainerLogLine,
  ContainerLogEnd,
]);

export const ContainerLogSnapshot = named.response(
  'ContainerLogSnapshot',
  z.strictObject({
    stack_id: z.string(),
    service: z.string(),
    lines: z.array(ContainerLogLine),
  }),
  "The last lines of the service's containers (without `follow`).",
);

const bytes = z.number().int().nullable();

export const ContainerStatsRow = named.response(
  'ContainerStatsRow',
  z.strictObject({
    service: z.string(),
    container: z.string(),
    state: z.string(),
    health: z.string(),
    cpu_percent: z
      .number()
      .nullable()
      .describe('of one CPU (100 = one core busy); null when not running'),
    memory_usage_bytes: bytes,
    memory_limit_bytes: bytes,
    memory_percent: z.number().nullable(),
    network_rx_bytes: bytes,
    network_tx_bytes: bytes,
    pids: z.number().int().nullable(),
    restart_count: z.number().int().nullable().describe("the engine's RestartCount"),
    started_at: nullableTime,
  }),
);

export const ContainerStatsList = named.response(
  'ContainerStatsList',
  z.strictObject({ checked_at: time, containers: z.array(ContainerStatsRow) }),
  'A snapshot of every container of the stack (one docker stats and one docker inspect).',
);
