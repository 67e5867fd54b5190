import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { notifiers } from './notifiers';

/**
 * The outbox: one row per notification and notifier, written before anything is sent,
 * so a message pending when the server stops is sent after it starts again.
 */
export const notificationDeliveries = sqliteTable(
  'notification_deliveries',
  {
    id: text('id').primaryKey(),
    notifierId: text('notifier_id')
      .notNull()
      .references(() => notifiers.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    stackId: text('stack_id'),
    /** The notification as it will be rendered, already redacted. */
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** `pending`, `delivered` or `failed` (attempts used up). */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** When the worker may (re)try; bumped before each attempt, so a crash mid-send retries later. */
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastError: text('last_error'),
    responseStatus: integer('response_status'),
    createdAt: text('created_at').notNull(),
    deliveredAt: text('delivered_at'),
    test: integer('test', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('notification_deliveries_due').on(t.status, t.nextAttemptAt),
    index('notification_deliveries_notifier').on(t.notifierId, t.createdAt),
  ],
);

export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;
export type NewNotificationDeliveryRow = typeof notificationDeliveries.$inferInsert;
