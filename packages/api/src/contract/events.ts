import { z } from 'zod';
import { named } from './common';
import { Deployment } from './deployment';
import { Stack } from './stack';

/**
 * The push channel's messages (`GET /api/v1/events/ws`, and `GET /api/v1/events` as
 * Server-Sent Events named after `type`).
 */
export const PushMessage = named.response(
  'PushMessage',
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('deployment'), deployment: Deployment }),
    z.strictObject({ type: z.literal('stack'), stack: Stack }),
    z.strictObject({ type: z.literal('stack_deleted'), stack_id: z.string() }),
  ]),
);
