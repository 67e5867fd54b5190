import { z } from 'zod';
import { ERROR_CODES, named } from './common';

const Component = z.strictObject({
  ok: z.boolean(),
  version: z.string().optional(),
  error: z.string().optional(),
});

const report = {
  database: z.strictObject({ ok: z.boolean(), error: z.string().optional() }),
  docker: Component,
  compose: Component,
  version: z.string().describe("simpledeploy's version"),
  hosts: z
    .array(
      z.strictObject({
        name: z.string(),
        reachable: z.boolean().nullable(),
        swarm: z.enum(['inactive', 'manager', 'worker']).nullable(),
        last_checked_at: z.string().nullable(),
        error: z.string().nullable(),
      }),
    )
    .optional()
    .describe(
      "each host's last health check (a remote host down does not degrade simpledeploy itself)",
    ),
};

export const Health = named.response(
  'Health',
  z.strictObject({ status: z.literal('ok'), ...report }),
);
export const HealthDegraded = named.response(
  'HealthDegraded',
  z.strictObject({
    status: z.literal('degraded'),
    ...report,
    error: z.strictObject({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.strictObject({ down: z.array(z.string()) }),
    }),
  }),
  'Something simpledeploy needs is down; the error body says what.',
);
