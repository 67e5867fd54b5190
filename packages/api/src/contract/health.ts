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
