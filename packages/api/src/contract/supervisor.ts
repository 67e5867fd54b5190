import { z } from 'zod';
import { named, nullableTime, strictBody, time } from './common';
import { WebhookIgnored, WebhookPing, WebhookQueued } from './webhook';

/** Supervisor's stack as its API shows it; its secrets are write-only here too. */
export const SupervisorStack = named.response(
  'SupervisorStack',
  z.strictObject({
    id: z.string(),
    uuid: z.string(),
    name: z.string(),
    git_repository: z.string().nullable(),
    git_reference: z.string().nullable(),
    git_username: z.string().nullable(),
    has_git_token: z.boolean(),
    compose_file: z.string().nullable(),
    compose_includes: z.array(z.string()),
    compose_variables: z.record(z.string(), z.string()),
    strategy: z.enum(['polling', 'webhook']),
    polling_interval: z.number().int().nullable(),
    signature_header: z.string().nullable(),
    has_signature_secret: z.boolean(),
    healthy: z.boolean().describe('whether the last deployment succeeded'),
    created_at: time,
    updated_at: time,
  }),
);
export const SupervisorStackList = named.response('SupervisorStackList', z.array(SupervisorStack));

const fields = z.object({
  name: z.string(),
  git_repository: z.string().describe('required on create'),
  git_username: z.string().nullable(),
  git_token: z.string().nullable(),
  git_reference: z.string().nullable(),
  compose_file: z.string().nullable(),
  compose_includes: z.array(z.string()).nullable(),
  compose_variables: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .nullable(),
  strategy: z.enum(['polling', 'webhook']),
  polling_interval: z
    .union([z.number().int(), z.string().regex(/^\s*\d+\s*$/)])
    .nullable()
    .describe('seconds from 5 to 604800, a number or a numeric string (polling only)'),
  signature_header: z.string().nullable(),
  signature_secret: z.string().nullable(),
});

/**
 * Supervisor's stack body, bare or wrapped in `{"stack": {...}}`. Its rules depend on the
 * stack being changed, so supervisor/fields.ts (toStackBody) checks it and the stack
 * service's own checks follow; this schema documents it.
 */
export const SupervisorStackBody = named.request(
  'SupervisorStackBody',
  z.union([fields.partial(), z.object({ stack: fields.partial() })]),
  "Supervisor's fields; read-only fields of a stack sent back are ignored, others refused.",
);

export const SupervisorStats = named.response(
  'SupervisorStats',
  z.strictObject({
    processed: z.number().int().describe('deployments that ended'),
    failed: z.number().int(),
    last_run: nullableTime,
    last_action: z.string().nullable(),
    uuid: z.string(),
  }),
);

const SUPERVISOR_COMMANDS = ['start', 'stop', 'restart', 'redeploy', 'pause', 'unpause'] as const;
export const SupervisorControlBody = named.request(
  'SupervisorControlBody',
  strictBody(
    {
      command: z.enum(SUPERVISOR_COMMANDS, {
        error: `command must be one of ${SUPERVISOR_COMMANDS.join(', ')}`,
      }),
    },
    'send {"command": ...}',
    '{"command": "restart"}',
  ),
  '`redeploy` is a deployment; the others compose commands on every service.',
);

/** One run of the stack (a deployment or a control command) with its output. */
export const SupervisorLogEntry = named.response(
  'SupervisorLogEntry',
  z.strictObject({
    run_at: z.string(),
    action: z.string(),
    status: z.string(),
    message: z.string(),
  }),
);
export const SupervisorLog = named.response('SupervisorLog', z.array(SupervisorLogEntry));

export const MAX_ENTRIES = 100;
const ENTRIES = `entries must be a whole number from 0 to ${MAX_ENTRIES}`;
export const SupervisorLogQuery = z.object({
  entries: z
    .string({ error: ENTRIES })
    .regex(/^\d{1,6}$/, { error: ENTRIES })
    .transform((v) => Math.min(Number(v), MAX_ENTRIES))
    .optional()
    .describe(`how many of the last runs (default 1, at most ${MAX_ENTRIES})`),
  follow: z
    .string()
    .optional()
    .describe('any value but false or 0: stream the log as Server-Sent Events'),
});

export const SupervisorWebhookAccepted = named.response(
  'SupervisorWebhookAccepted',
  z.union([
    z.strictObject({ message: z.literal('Webhook received'), ...WebhookQueued.shape }),
    z.strictObject({ message: z.literal('Webhook received'), ...WebhookIgnored.shape }),
    z.strictObject({ message: z.literal('Webhook received'), ...WebhookPing.shape }),
  ]),
);
