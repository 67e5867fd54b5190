import { z } from 'zod';
import { named, time } from './common';

export const DriftItem = named.response(
  'DriftItem',
  z.strictObject({
    service: z.string(),
    type: z.enum(['missing', 'image_mismatch', 'stopped', 'unhealthy', 'extra', 'crash_loop']),
    expected: z.string().nullable(),
    actual: z.string().nullable(),
    container: z.string().optional(),
  }),
);

/** `GET /api/v1/stacks/{stack}/drift` (api.md "State, drift and control"). */
export const Drift = named.response(
  'Drift',
  z.strictObject({
    stack_id: z.string(),
    in_sync: z.boolean(),
    version_id: z.string().nullable(),
    checked_at: time,
    git: z
      .strictObject({
        deployed_commit: z.string().nullable(),
        remote_commit: z.string().nullable(),
        behind: z.boolean(),
        error: z
          .string()
          .nullable()
          .describe('why the remote could not be asked; remote_commit is then the last polled one'),
      })
      .nullable()
      .describe('null for an inline stack'),
    services: z.array(DriftItem),
  }),
);
