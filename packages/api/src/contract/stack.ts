import {
  CONTROL_COMMANDS,
  type ControlCommand,
  SERVICE_NAME_PATTERN,
  STACK_NAME_PATTERN,
} from '@simpledeploy/core';
import { COMMIT_STATUS_KINDS, stackFields } from '@simpledeploy/deployer';
import { z } from 'zod';
import { named, nullableTime, strictBody, time } from './common';
import { Deployment, DeploymentStatus } from './deployment';

export const StackStatus = z.enum(['idle', 'queued', 'deploying']);

/** A stack as the API shows it (api.md "Stacks"); secrets only as `has_*`. */
export const Stack = named.response(
  'Stack',
  z.strictObject({
    id: z.string(),
    uuid: z
      .string()
      .describe("a random UUID; `{stack}` in a path accepts it too (Supervisor's id)"),
    name: z.string(),
    source: z.enum(['inline', 'git']),
    compose: z.string().nullable().describe('inline compose YAML (secrets redacted)'),
    repo_url: z.string().nullable(),
    repo_username: z.string().nullable(),
    repo_branch: z.string().nullable(),
    compose_path: z.string().nullable(),
    compose_includes: z.array(z.string()),
    compose_variables: z.record(z.string(), z.string()),
    service_filter: z.array(z.string()),
    policy_exceptions: z.array(z.string()),
    update_order: z.enum(['stop-first', 'start-first']),
    host: z
      .string()
      .describe("the host the stack runs on, by name (`local`: the server's own engine)"),
    engine: z.enum(['compose', 'swarm']),
    auto_deploy: z.boolean(),
    reconcile_interval_seconds: z.number().int(),
    auto_rollback: z.boolean(),
    auto_update: z.boolean(),
    update_check_interval_seconds: z.number().int(),
    image_updates: z
      .strictObject({
        checked_at: nullableTime,
        available: z.number().int().describe('services whose tag points at a newer digest'),
      })
      .describe('the last image update check (GET .../updates checks now)'),
    commit_status: z.enum(COMMIT_STATUS_KINDS),
    commit_status_api_url: z.string().nullable(),
    deploy_timeout_seconds: z.number().int(),
    docker_registry: z.string().nullable(),
    docker_username: z.string().nullable(),
    registries: z.array(
      z.strictObject({ registry: z.string(), username: z.string(), has_password: z.boolean() }),
    ),
    has_repo_token: z.boolean(),
    has_webhook_secret: z.boolean(),
    webhook_signature_header: z.string().nullable(),
    has_docker_password: z.boolean(),
    status: StackStatus,
    last_deployment: z
      .strictObject({ id: z.string(), status: DeploymentStatus, finished_at: nullableTime })
      .nullable(),
    current_version_id: z.string().nullable(),
    deployed_commit: z.string().nullable(),
    remote_commit: z.string().nullable(),
    behind: z.boolean(),
    poll: z.strictObject({
      last_poll_at: nullableTime,
      last_error: z.string().nullable(),
      failures: z.number().int(),
    }),
    created_at: time,
    updated_at: time,
  }),
);

export const StackResponse = named.response('StackResponse', z.strictObject({ stack: Stack }));
export const StackList = named.response('StackList', z.strictObject({ stacks: z.array(Stack) }));
export const StackUpdated = named.response(
  'StackUpdated',
  z.strictObject({
    stack: Stack,
    deployment: Deployment.optional().describe(
      'the deployment queued when auto_deploy is on and a field that shapes it changed',
    ),
    coalesced: z.boolean().optional(),
  }),
);
export const StackDeleted = named.response(
  'StackDeleted',
  z.strictObject({ deleted: z.literal(true), stack_id: z.string(), removed_volumes: z.boolean() }),
);

/**
 * The stack body (api.md "Stacks"): the domain's own schema (deployer/stack-input.ts),
 * which also validates it, so the document and the checks cannot part.
 */
export const StackInput = named.request(
  'StackInput',
  stackFields.partial(),
  'Every field optional on update (only the fields sent change); create needs `name` and one of `compose` / `repo_url`.',
);
export const StackCreate = named.request(
  'StackCreate',
  stackFields
    .partial()
    .required({ name: true })
    .extend({
      name: z.string().regex(STACK_NAME_PATTERN),
    }),
  'A new stack: `name` and one of `compose` (inline YAML) or `repo_url` (a git repository).',
);

export const DeleteQuery = z.object({
  remove_volumes: z
    .enum(['true', 'false'], { error: 'remove_volumes must be true or false' })
    .optional()
    .describe("true: also remove the project's volumes (`down -v`)"),
});

/** One container of the stack's compose project (a task, for a Swarm stack). */
export const ServiceRow = named.response(
  'ServiceRow',
  z.strictObject({
    service: z.string(),
    container: z.string().describe("the container's name; a Swarm stack's task name"),
    image: z.string(),
    state: z.string(),
    health: z.string(),
    node: z.string().optional().describe('the Swarm node the task runs on (Swarm stacks only)'),
  }),
);
export const ServiceList = named.response(
  'ServiceList',
  z.strictObject({ services: z.array(ServiceRow) }),
);

export const Stats = named.response(
  'Stats',
  z.strictObject({
    deployments_total: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    canceled: z.number().int(),
    last_deployed_at: nullableTime,
    last_status: DeploymentStatus.nullable(),
    mean_duration_ms: z.number().nullable(),
  }),
);

/** A control command or another change recorded in the stack's history. */
export const StackEvent = named.response(
  'StackEvent',
  z.strictObject({
    id: z.string(),
    stack_id: z.string(),
    kind: z.string(),
    detail: z.record(z.string(), z.unknown()),
    status: z.string(),
    exit_code: z.number().int().nullable(),
    output: z.string().nullable(),
    created_at: time,
  }),
);
export const StackEventResponse = named.response(
  'StackEventResponse',
  z.strictObject({ event: StackEvent }),
);
export const StackEventList = named.response(
  'StackEventList',
  z.strictObject({ events: z.array(StackEvent) }),
);

const COMMAND = `command must be one of ${CONTROL_COMMANDS.join(', ')}`;
const SERVICES = 'services must be a list of service names';
const SCALE_SERVICE = 'scale needs "service": the name of one service';
const SCALE_REPLICAS = 'scale needs "replicas": a whole number from 0 to 100';
const serviceName = (error: string) => z.string({ error }).regex(SERVICE_NAME_PATTERN, { error });

export type ControlRequest =
  | { command: Exclude<ControlCommand, 'scale'>; services: string[] }
  | { command: 'scale'; service: string; replicas: number };

export const ControlBody = named.request(
  'ControlBody',
  strictBody(
    {
      command: z.enum(CONTROL_COMMANDS as [ControlCommand, ...ControlCommand[]], {
        error: COMMAND,
      }),
      services: z
        .array(serviceName(SERVICES), { error: SERVICES })
        .max(200, { error: SERVICES })
        .optional()
        .describe('services the command applies to; default all'),
      service: serviceName(SCALE_SERVICE).optional().describe('scale: the service'),
      replicas: z
        .number({ error: SCALE_REPLICAS })
        .int({ error: SCALE_REPLICAS })
        .min(0, { error: SCALE_REPLICAS })
        .max(100, { error: SCALE_REPLICAS })
        .optional()
        .describe('scale: how many containers'),
    },
    'a control command takes "command", "services", and for scale "service" and "replicas"',
    '{"command": "restart"}',
  )
    .superRefine((b, ctx) => {
      if (b.command !== 'scale') return;
      if (b.service === undefined)
        ctx.addIssue({ code: 'custom', path: ['service'], message: SCALE_SERVICE });
      if (b.replicas === undefined)
        ctx.addIssue({ code: 'custom', path: ['replicas'], message: SCALE_REPLICAS });
    })
    .transform(
      (b): ControlRequest =>
        b.command === 'scale'
          ? { command: 'scale', service: b.service ?? '', replicas: b.replicas ?? 0 }
          : { command: b.command, services: b.services ?? [] },
    ),
  '`{"command": "start" | "stop" | "restart" | "pull" | "down" | "pause" | "unpause", "services": [...]}` or `{"command": "scale", "service": "web", "replicas": 3}`.',
);
