import { ROLES } from '@simpledeploy/core';
import { z } from 'zod';
import { named, nullableTime, time } from './common';

const Role = z
  .enum(ROLES)
  .describe('viewer reads; deployer also deploys, cancels and rolls back; admin does everything');

/** `POST /api/v1/keys` (the domain's parseKeyBody checks it: deployer/api-keys.ts). */
export const KeyCreate = named.request(
  'KeyCreate',
  z.strictObject({
    name: z.string().describe('unique; 1-64 letters, digits, spaces or . _ @ : / + -'),
    role: Role,
    stacks: z
      .array(z.string())
      .optional()
      .describe(
        'names or ids of the stacks the key is limited to; none = every stack (not for admin)',
      ),
  }),
);

/** A key as listed: never its material. */
export const Key = named.response(
  'Key',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    role: Role,
    stacks: z.array(z.string()).describe('the stacks it is limited to, by name; [] = every stack'),
    created_at: nullableTime,
    last_used_at: nullableTime,
    from_environment: z
      .boolean()
      .optional()
      .describe('the key from SIMPLEDEPLOY_API_KEY: the first admin key, not stored'),
  }),
);

export const KeyCreated = named.response(
  'KeyCreated',
  z.strictObject({
    key: Key.extend({
      secret: z
        .string()
        .describe('the key itself: shown in this answer only, stored as its sha256'),
    }),
  }),
);

export const KeyResponse = named.response('KeyResponse', z.strictObject({ key: Key }));
export const KeyList = named.response('KeyList', z.strictObject({ keys: z.array(Key) }));
export const KeyDeleted = named.response(
  'KeyDeleted',
  z.strictObject({ deleted: z.literal(true), key: Key }),
);

export const AuditQuery = z.object({
  stack: z.string().optional().describe("only this stack's entries (id or name)"),
  key: z.string().optional().describe("only this key's entries (name or id)"),
  limit: z
    .string()
    .regex(/^\d+$/, { error: 'limit must be a whole number from 1 to 1000' })
    .optional()
    .describe('how many, newest first: 1-1000 (default 100)'),
});

export const AuditEntry = named.response(
  'AuditEntry',
  z.strictObject({
    at: time,
    key_name: z
      .string()
      .nullable()
      .describe('null: no valid key, a webhook signature or the system'),
    via: z.enum(['key', 'signature', 'system']),
    action: z.string().describe('e.g. stack.deploy, stack.update, key.create'),
    target: z.string().nullable(),
    stack_id: z.string().nullable(),
    stack_name: z.string().nullable(),
    request_id: z.string().nullable(),
    result: z.enum(['ok', 'unauthorized', 'forbidden', 'error']),
    status: z.number().int().nullable().describe('the HTTP status answered'),
  }),
);

export const AuditList = named.response(
  'AuditList',
  z.strictObject({ entries: z.array(AuditEntry) }),
);
