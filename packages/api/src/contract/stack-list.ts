import { z } from 'zod';
import { named, nullableTime, time } from './common';
import { DeploymentStatus } from './deployment';
import { Stack, StackStatus } from './stack';

/** The most stacks one page of `GET /api/v1/stacks?limit=` holds. */
export const STACK_PAGE_MAX = 1000;

/** `GET /api/v1/stacks` query: the view, and a page (`limit`, `cursor`); none of them: every stack. */
export const StackListQuery = z.object({
  view: z
    .enum(['full', 'summary'], { error: 'view must be full or summary' })
    .optional()
    .describe(
      '`summary`: only what a list shows (no compose file, variables or registry logins); default `full`',
    ),
  limit: z
    .string()
    .refine((v) => /^[1-9][0-9]{0,3}$/.test(v) && Number(v) <= STACK_PAGE_MAX, {
      error: `limit must be a whole number from 1 to ${STACK_PAGE_MAX}`,
    })
    .optional()
    .describe(
      `at most this many stacks, in name order (1–${STACK_PAGE_MAX}); the answer then carries \`next_cursor\`. Without it: every stack`,
    ),
  cursor: z
    .string()
    .max(1024, { error: 'cursor is not one this server gave: ask again without it' })
    .optional()
    .describe("the previous page's `next_cursor`: the page after it"),
});

/** A stack as the web UI's list shows it (`?view=summary`). */
export const StackSummary = named.response(
  'StackSummary',
  z.strictObject({
    id: z.string(),
    uuid: z.string(),
    name: z.string(),
    source: z.enum(['inline', 'git']),
    repo_url: z.string().nullable(),
    repo_branch: z.string().nullable(),
    status: StackStatus,
    last_deployment: z
      .strictObject({ id: z.string(), status: DeploymentStatus, finished_at: nullableTime })
      .nullable(),
    current_version_id: z.string().nullable(),
    deployed_commit: z.string().nullable(),
    remote_commit: z.string().nullable(),
    behind: z.boolean(),
    auto_deploy: z.boolean(),
    auto_update: z.boolean(),
    image_updates: z.strictObject({
      checked_at: nullableTime,
      available: z.number().int().describe('services whose tag points at a newer digest'),
    }),
    reconcile_interval_seconds: z.number().int(),
    poll: z.strictObject({
      last_poll_at: nullableTime,
      last_error: z.string().nullable(),
      failures: z.number().int(),
    }),
    updated_at: time,
  }),
  'What the stack list shows of a stack (`?view=summary`).',
);

/** `GET /api/v1/stacks`: every stack, or one page of them (`next_cursor` then says what follows). */
export const StackListPage = named.response(
  'StackListPage',
  z.strictObject({
    stacks: z.union([z.array(Stack), z.array(StackSummary)]),
    next_cursor: z
      .string()
      .nullable()
      .optional()
      .describe('with `limit`: the cursor of the next page, null on the last one'),
  }),
  'Stacks in name order, full or summary (`view`). The answer carries an `ETag`: sent back as `If-None-Match`, it is answered `304` while no stack, deployment or status changed.',
);
