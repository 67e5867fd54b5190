import {
  type Clock,
  composeRedactors,
  createRedactor,
  type Logger,
  type Notification,
  type Redact,
  type SecretBox,
} from '@simpledeploy/core';
import {
  type Db,
  findStack,
  insertNotificationDeliveries,
  listNotifiers,
  type NewNotificationDeliveryRow,
  type NotifierRow,
} from '@simpledeploy/db';
import type { DeliveryEvent, NotificationMessage } from './message';
import { titleFor } from './message';
import { notifierSecrets, targetOf } from './targets';

export interface PublisherDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  /** Covers the server's keys and every stack's secrets. */
  redact: Redact;
  ids: (prefix: 'dlv' | 'msg') => string;
  /** Called after rows were written, so the worker looks at once. */
  onQueued: () => void;
}

/** Replaces every string inside a JSON value through `redact`. */
export function redactDeep(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)]));
  }
  return value;
}

/** Whether a notifier wants this event of this stack (no stacks = every stack). */
export function subscribes(
  row: NotifierRow,
  event: DeliveryEvent,
  stack: { id: string; name: string } | null,
): boolean {
  if (!row.enabled || !row.events.includes(event)) return false;
  if (row.stacks.length === 0 || !stack) return true;
  return row.stacks.includes(stack.id) || row.stacks.includes(stack.name);
}

export function createPublisher(deps: PublisherDeps) {
  const { db, clock, logger } = deps;

  /** The server's redactor plus every notifier's own secrets. */
  function redactorFor(rows: NotifierRow[]): Redact {
    const own: string[] = [];
    for (const row of rows) {
      try {
        own.push(...notifierSecrets(targetOf(row, deps.secrets)));
      } catch {
        // A row the key cannot decrypt cannot leak its secret either.
      }
    }
    return composeRedactors(createRedactor(own), deps.redact);
  }

  /** The stack by id or name; a stack that is gone still matches notifiers that name it. */
  function resolveStack(idOrName: string | undefined): { id: string; name: string } | null {
    if (!idOrName) return null;
    const row = findStack(db, idOrName);
    return row ? { id: row.id, name: row.name } : { id: idOrName, name: idOrName };
  }

  /** Builds the stored message: stack resolved, title made, everything redacted. */
  function messageOf(
    n: Omit<Notification, 'event'> & { event: DeliveryEvent },
    rows: NotifierRow[],
    test: boolean,
  ): NotificationMessage {
    const stack = resolveStack(n.stack);
    const host = n.host ?? null;
    const message: NotificationMessage = {
      notification_id: deps.ids('msg'),
      event: n.event,
      at: clock.now().toISOString(),
      title: titleFor(n.event, stack, host),
      message: n.message,
      stack,
      host,
      deployment_id: n.deployment ?? null,
      details: n.details ?? {},
      test,
    };
    return redactDeep(message, redactorFor(rows)) as NotificationMessage;
  }

  function queue(rows: NotifierRow[], message: NotificationMessage, kick = true): string[] {
    const now = clock.now().toISOString();
    const outbox: NewNotificationDeliveryRow[] = rows.map((r) => ({
      id: deps.ids('dlv'),
      notifierId: r.id,
      event: message.event,
      stackId: message.stack?.id ?? null,
      payload: message as unknown as Record<string, unknown>,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      test: message.test,
    }));
    insertNotificationDeliveries(db, outbox);
    if (outbox.length && kick) deps.onQueued();
    return outbox.map((r) => r.id as string);
  }

  return {
    /** The Notify port: never throws, returns how many deliveries it queued. */
    publish(n: Notification): number {
      try {
        const all = listNotifiers(db);
        const stack = resolveStack(n.stack);
        const targets = all.filter((r) => subscribes(r, n.event, stack));
        if (targets.length === 0) return 0;
        return queue(targets, messageOf(n, all, false)).length;
      } catch (error) {
        logger.error('cannot queue a notification', { event: n.event, error });
        return 0;
      }
    },

    /** Queues a test message for one notifier; returns the delivery's id. */
    queueTest(row: NotifierRow): string {
      const message = messageOf(
        {
          event: 'notifier.test',
          message: `This is a test from simpledeploy: notifier "${row.name}" (${row.kind}) works.`,
        },
        listNotifiers(db),
        true,
      );
      // Not kicked: the test route makes the first attempt itself and answers with it.
      return queue([row], message, false)[0] as string;
    },
  };
}

export type Publisher = ReturnType<typeof createPublisher>;
