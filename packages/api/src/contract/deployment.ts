import { DEPLOYMENT_STATUSES, isRefName, MAX_REF_LENGTH, TRIGGERS } from '@simpledeploy/core';
import { z } from 'zod';
import { named, nullableTime, strictBody, time } from './common';

export const DeploymentStatus = z.enum(DEPLOYMENT_STATUSES);
export const Trigger = z.enum(TRIGGERS);

/** A deployment (api.md "Deployments"). */
export const Deployment = named.response(
  'Deployment',
  z.strictObject({
    id: z.string(),
    stack_id: z.string(),
    status: DeploymentStatus,
    trigger: Trigger,
    ref: z.string().nullable().describe('the branch, tag or commit asked for, if any'),
    git_commit: z.string().nullable(),
    version_id: z.string().nullable(),
    error: z.string().nullable(),
    queued_at: time,
    started_at: nullableTime,
    finished_at: nullableTime,
    duration_ms: z.number().nullable(),
  }),
);

/** One line of a deployment's output, as stored and streamed. */
export const LogLine = named.response(
  'LogLine',
  z.strictObject({
    seq: z.number().int(),
    ts: time,
    stream: z.enum(['stdout', 'stderr', 'system']),
    text: z.string().describe('redacted'),
  }),
);

export const DeploymentDetail = named.response(
  'DeploymentDetail',
  z.strictObject({ ...Deployment.shape, log: z.array(LogLine) }),
  'A deployment with its full log (redacted).',
);

export const DeploymentResponse = named.response(
  'DeploymentResponse',
  z.strictObject({ deployment: Deployment }),
);
export const DeploymentDetailResponse = named.response(
  'DeploymentDetailResponse',
  z.strictObject({ deployment: DeploymentDetail }),
);
export const DeploymentList = named.response(
  'DeploymentList',
  z.strictObject({ deployments: z.array(Deployment).describe('the 50 most recent, newest first') }),
);
export const DeployResult = named.response(
  'DeployResult',
  z.strictObject({
    deployment: Deployment,
    coalesced: z.boolean().describe('true when the trigger joined a deployment already queued'),
  }),
);
export const DeployWaited = named.response(
  'DeployWaited',
  z.strictObject({ deployment: DeploymentDetail, coalesced: z.boolean() }),
  '`?wait=true` and the deployment succeeded: it, with its log.',
);
export const DeployFailed = named.response(
  'DeployFailed',
  z.strictObject({
    error: z.strictObject({
      code: z.literal('VALIDATION'),
      message: z.string(),
      details: z.strictObject({ deployment_id: z.string(), status: DeploymentStatus }),
    }),
    deployment: DeploymentDetail,
  }),
  '`?wait=true` and the deployment did not succeed: the error body and the deployment with its log.',
);

const REF = 'ref must be a branch, tag or commit sha';
export const DeployBody = named.request(
  'DeployBody',
  strictBody(
    {
      ref: z
        .string({ error: REF })
        .max(MAX_REF_LENGTH, { error: REF })
        .refine(isRefName, { error: REF })
        .optional()
        .describe('a branch, tag or commit to deploy instead of what the stack tracks'),
      force: z
        .boolean({ error: 'force must be true or false' })
        .optional()
        .describe('deploy even when nothing changed'),
    },
    'a deploy takes "ref" and "force"',
    '{"ref": "main", "force": true}',
  ),
  'Optional: an empty body deploys what the stack says.',
);

const VERSION_ID = "version_id must be the id of one of the stack's versions";
export const RollbackBody = named.request(
  'RollbackBody',
  strictBody(
    {
      version_id: z
        .string({ error: VERSION_ID })
        .min(1, { error: VERSION_ID })
        .optional()
        .describe('default: the last good version before the current one'),
    },
    'a rollback takes "version_id"',
    '{"version_id": "ver_…"}',
  ),
);

const flag = (name: string) =>
  z.enum(['true', 'false'], { error: `${name} must be true or false` }).optional();

export const DeployQuery = z.object({
  wait: flag('wait').describe(
    'hold the response until the deployment ends: 200, or 422 when it failed (for CI pipelines)',
  ),
});

export const LogQuery = z.object({
  follow: flag('follow').describe(
    'true: follow the log as Server-Sent Events (`data:` lines, then an `end` event)',
  ),
});

/** A line of a live log stream (WebSocket message or SSE `data:`). */
export const WireLine = named.response(
  'WireLine',
  z.strictObject({ type: z.literal('line'), ...LogLine.shape }),
);
export const LogEnd = named.response(
  'LogEnd',
  z.strictObject({ type: z.literal('end'), status: DeploymentStatus }),
  'The last message of a live log stream.',
);
export const LogMessage = z.discriminatedUnion('type', [WireLine, LogEnd]);

export const LogSnapshot = named.response(
  'LogSnapshot',
  z.strictObject({
    deployment_id: z.string(),
    status: DeploymentStatus,
    lines: z.array(WireLine),
  }),
  'The lines so far (without `follow`).',
);

/** `?token=` on the WebSocket routes only: browsers cannot set headers on a WebSocket. */
export const WebSocketQuery = z.object({
  token: z.string().optional().describe('the API key (WebSocket upgrades only)'),
});
