import { z } from 'zod';
import { named } from './common';
import { Deployment } from './deployment';

/** `POST /webhook` (Accelero's): `{"stack": name}`; without it the stack `default`, else the oldest. */
export const WebhookBody = named.request(
  'WebhookBody',
  z.object(
    {
      stack: z
        .string({ error: 'stack must be a stack name' })
        .optional()
        .describe('default: the stack named default, else the oldest stack'),
    },
    { error: 'the body must be a JSON object like {"stack": "web"}' },
  ),
);

const delivery = {
  event: z.string().nullable().describe("the git host's event name"),
  delivery_id: z.string().nullable(),
};

export const WebhookIgnored = named.response(
  'WebhookIgnored',
  z.strictObject({ ignored: z.string().describe('why nothing was deployed'), ...delivery }),
);
export const WebhookQueued = named.response(
  'WebhookQueued',
  z.strictObject({
    deployment: Deployment,
    coalesced: z.boolean(),
    commit: z.string().nullable(),
    delivery_id: z.string().nullable(),
  }),
);
export const WebhookPing = named.response(
  'WebhookPing',
  z.strictObject({ ok: z.literal(true), event: z.literal('ping') }),
);
export const WebhookAccepted = named.response(
  'WebhookAccepted',
  z.union([WebhookQueued, WebhookIgnored]),
  'A push that deployed, or one that did not concern the stack (with the reason).',
);
export const RepositoryWebhookAccepted = named.response(
  'RepositoryWebhookAccepted',
  z.union([
    z.strictObject({
      stacks: z.array(
        z.union([
          z.strictObject({ stack: z.string(), ...WebhookQueued.shape }),
          z.strictObject({ stack: z.string(), ...WebhookIgnored.shape }),
        ]),
      ),
    }),
    WebhookIgnored,
  ]),
  'What the push meant for each stack that follows the repository.',
);
