import { AppError } from '@simpledeploy/core';
import type { NotifierInput, NotifierService } from '@simpledeploy/notify';
import { Hono } from 'hono';
import {
  DeliveryList,
  DeliveryQuery,
  NotifierCreate,
  NotifierDeleted,
  NotifierList,
  NotifierPatch,
  NotifierResponse,
  NotifierTested,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { describeRoute } from '../openapi';
import { jsonBody, query } from '../validate';

const tag = 'notifiers';

/**
 * Notifiers (api.md "Notifications"): where deployment, drift, update, poll and host
 * events are sent. Admins change them, viewers read (access.ts).
 */
export function notifierRoutes(domain: Pick<DomainDeps, 'notifiers'>) {
  const notifiers = (): NotifierService => {
    if (!domain.notifiers)
      throw new AppError('UNAVAILABLE', 'notifications are not enabled on this server');
    return domain.notifiers;
  };
  return new Hono<AppEnv>()
    .post(
      '/api/v1/notifiers',
      describeRoute({
        id: 'createNotifier',
        summary: 'Create a notifier (admin)',
        description:
          'Events are written to a durable outbox first, then delivered with retries and backoff, across restarts.',
        tag,
        responses: { 201: NotifierResponse },
        errors: [409],
      }),
      jsonBody(NotifierCreate),
      (c) => c.json({ notifier: notifiers().create(c.req.valid('json') as NotifierInput) }, 201),
    )
    .get(
      '/api/v1/notifiers',
      describeRoute({
        id: 'listNotifiers',
        summary: 'Every notifier, URLs masked and secrets left out',
        tag,
        responses: { 200: NotifierList },
      }),
      (c) => c.json({ notifiers: notifiers().list() }),
    )
    .get(
      '/api/v1/notifiers/:notifier',
      describeRoute({
        id: 'getNotifier',
        summary: 'One notifier, by id or name',
        tag,
        responses: { 200: NotifierResponse },
      }),
      (c) => c.json({ notifier: notifiers().get(c.req.param('notifier')) }),
    )
    .patch(
      '/api/v1/notifiers/:notifier',
      describeRoute({
        id: 'updateNotifier',
        summary: 'Change a notifier (admin); fields left out keep their values',
        tag,
        responses: { 200: NotifierResponse },
        errors: [409],
      }),
      jsonBody(NotifierPatch),
      (c) =>
        c.json({
          notifier: notifiers().update(
            c.req.param('notifier'),
            c.req.valid('json') as Partial<NotifierInput>,
          ),
        }),
    )
    .delete(
      '/api/v1/notifiers/:notifier',
      describeRoute({
        id: 'deleteNotifier',
        summary: 'Delete a notifier and its deliveries (admin)',
        tag,
        responses: { 200: NotifierDeleted },
      }),
      (c) => {
        notifiers().remove(c.req.param('notifier'));
        return c.json({ deleted: true as const });
      },
    )
    .post(
      '/api/v1/notifiers/:notifier/test',
      describeRoute({
        id: 'testNotifier',
        summary: 'Send a test message now (admin)',
        description:
          'Answers with the delivery after its first attempt: delivered, or pending with last_error (it is then retried like any other).',
        tag,
        responses: { 200: NotifierTested },
      }),
      async (c) => c.json({ delivery: await notifiers().test(c.req.param('notifier')) }),
    )
    .get(
      '/api/v1/notifiers/:notifier/deliveries',
      describeRoute({
        id: 'listNotifierDeliveries',
        summary: "A notifier's deliveries, newest first, with their status and attempts",
        tag,
        responses: { 200: DeliveryList },
      }),
      query(DeliveryQuery),
      (c) => {
        const { limit } = c.req.valid('query');
        const n = limit === undefined ? 50 : Number(limit);
        if (n < 1 || n > 500)
          throw new AppError('VALIDATION', 'limit must be a whole number from 1 to 500', {
            field: 'limit',
          });
        return c.json({ deliveries: notifiers().deliveries(c.req.param('notifier'), n) });
      },
    );
}
