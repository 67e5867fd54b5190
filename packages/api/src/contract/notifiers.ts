import { NOTIFICATION_EVENTS } from '@simpledeploy/core';
import type { NotificationDeliveryView, NotifierView } from '@simpledeploy/notify';
import { NOTIFIER_KINDS } from '@simpledeploy/notify';
import { z } from 'zod';
import { named, nullableTime, strictBody, time } from './common';

const Kind = z
  .enum(NOTIFIER_KINDS)
  .describe(
    'webhook: signed JSON; slack / discord: their incoming webhooks; ntfy: a topic URL; email: SMTP',
  );

const fields = {
  name: z.string().describe('unique; 1-64 letters, digits, spaces, "_", "." or "-"'),
  kind: Kind,
  url: z
    .string()
    .describe(
      'where to send: the webhook URL, the Slack or Discord webhook URL, the ntfy topic URL (https://ntfy.sh/my-topic), or for email the SMTP server (smtp://user:password@host:587 with STARTTLS, smtps://… for TLS). Stored encrypted; shown masked',
    ),
  email_to: z
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional()
    .describe('email: the recipients, a list or comma separated'),
  email_from: z
    .string()
    .nullable()
    .optional()
    .describe('email: the From address (default "simpledeploy <simpledeploy@localhost>")'),
  secret: z
    .string()
    .nullable()
    .optional()
    .describe(
      'webhook (required, 16+ characters): the HMAC-SHA256 key of X-Simpledeploy-Signature; ntfy: an access token sent as Bearer. Stored encrypted, never shown',
    ),
  events: z.array(z.string()).describe(`any of ${NOTIFICATION_EVENTS.join(', ')}`),
  stacks: z
    .array(z.string())
    .optional()
    .describe('stack names or ids whose events it receives; none = every stack'),
  enabled: z.boolean().optional().describe('false keeps the notifier but sends nothing'),
};

const EXAMPLE =
  '{"name":"ops","kind":"slack","url":"https://hooks.slack.com/services/…","events":["deployment.failed"]}';
const TAKES =
  'a notifier takes name, kind, url, email_to, email_from, secret, events, stacks, enabled';

/** `POST /api/v1/notifiers` (the domain checks each field: notify/notifier-service.ts). */
export const NotifierCreate = named.request('NotifierCreate', strictBody(fields, TAKES, EXAMPLE));

/** `PATCH /api/v1/notifiers/{notifier}`: fields left out keep their values; `secret: null` removes it. */
export const NotifierPatch = named.request(
  'NotifierPatch',
  strictBody(
    {
      ...fields,
      name: fields.name.optional(),
      kind: Kind.optional(),
      url: fields.url.optional(),
      events: fields.events.optional(),
    },
    TAKES,
    '{"events":["deployment.failed","drift.detected"]}',
  ),
);

export const Notifier = named.response(
  'Notifier',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    kind: Kind,
    url: z
      .string()
      .describe(
        'masked: a password, query values and (slack, discord, ntfy) the token or topic are ***',
      ),
    email_to: z.array(z.string()).nullable(),
    email_from: z.string().nullable(),
    has_secret: z.boolean().describe('whether a secret (webhook key, ntfy token) is set'),
    events: z.array(z.string()),
    stacks: z.array(z.string()).describe('by name; [] = every stack'),
    enabled: z.boolean(),
    created_at: time,
    updated_at: time,
  }),
);

export const NotificationDelivery = named.response(
  'NotificationDelivery',
  z.strictObject({
    id: z.string().describe('also sent as X-Simpledeploy-Delivery: the same on every retry'),
    notifier_id: z.string(),
    event: z.string().describe('an event, or notifier.test'),
    stack_id: z.string().nullable(),
    title: z.string(),
    message: z.string().describe('redacted'),
    status: z
      .enum(['pending', 'delivered', 'failed'])
      .describe('pending: waiting for its next attempt; failed: attempts used up or refused'),
    attempts: z.number().int(),
    next_attempt_at: nullableTime.describe('when pending: the next attempt'),
    last_error: z.string().nullable(),
    response_status: z
      .number()
      .int()
      .nullable()
      .describe("the receiver's HTTP status (or SMTP reply code)"),
    created_at: time,
    delivered_at: nullableTime,
    test: z.boolean(),
  }),
);

export const NotifierResponse = named.response(
  'NotifierResponse',
  z.strictObject({ notifier: Notifier }),
);
export const NotifierList = named.response(
  'NotifierList',
  z.strictObject({ notifiers: z.array(Notifier) }),
);
export const NotifierDeleted = named.response(
  'NotifierDeleted',
  z.strictObject({ deleted: z.literal(true) }),
);
export const NotifierTested = named.response(
  'NotifierTested',
  z.strictObject({ delivery: NotificationDelivery }),
);
export const DeliveryList = named.response(
  'NotificationDeliveryList',
  z.strictObject({ deliveries: z.array(NotificationDelivery) }),
);

export const DeliveryQuery = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, { error: 'limit must be a whole number from 1 to 500' })
    .optional()
    .describe('how many, newest first: 1-500 (default 50)'),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Compile-time: the contract and the domain's views are the same types.
export const notifierViewsMatchContract: [
  Same<z.output<typeof Notifier>, NotifierView>,
  Same<z.output<typeof NotificationDelivery>, NotificationDeliveryView>,
] = [true, true];
