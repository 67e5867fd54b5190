import { and, asc, desc, eq, lte, ne, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import {
  type NewNotificationDeliveryRow,
  type NotificationDeliveryRow,
  notificationDeliveries,
} from '../schema';

/** Writes outbox rows in one transaction: all of a notification's deliveries or none. */
export function insertNotificationDeliveries(db: Db, rows: NewNotificationDeliveryRow[]): void {
  if (rows.length === 0) return;
  db.transaction((tx) => {
    for (const row of rows) tx.insert(notificationDeliveries).values(row).run();
  });
}

/** Pending deliveries whose time has come, oldest first. */
export const dueNotificationDeliveries = (
  db: Db,
  now: string,
  limit: number,
): NotificationDeliveryRow[] =>
  db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.status, 'pending'),
        lte(notificationDeliveries.nextAttemptAt, now),
      ),
    )
    .orderBy(asc(notificationDeliveries.nextAttemptAt), asc(notificationDeliveries.createdAt))
    .limit(limit)
    .all();

/** The earliest time a pending delivery is due, if any. */
export const nextNotificationDueAt = (db: Db): string | undefined =>
  db
    .select({ at: sql<string | null>`min(${notificationDeliveries.nextAttemptAt})` })
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.status, 'pending'))
    .get()?.at ?? undefined;

/**
 * Claims a pending delivery for one attempt by moving its due time past the attempt's
 * timeout; false when it is no longer pending or another claim moved it first.
 */
export const claimNotificationDelivery = (
  db: Db,
  id: string,
  seenDueAt: string,
  leaseUntil: string,
): boolean =>
  db
    .update(notificationDeliveries)
    .set({ nextAttemptAt: leaseUntil })
    .where(
      and(
        eq(notificationDeliveries.id, id),
        eq(notificationDeliveries.status, 'pending'),
        eq(notificationDeliveries.nextAttemptAt, seenDueAt),
      ),
    )
    .run().changes > 0;

export const updateNotificationDelivery = (
  db: Db,
  id: string,
  patch: Partial<NewNotificationDeliveryRow>,
): NotificationDeliveryRow | undefined =>
  db
    .update(notificationDeliveries)
    .set(patch)
    .where(eq(notificationDeliveries.id, id))
    .returning()
    .get();

export const getNotificationDelivery = (db: Db, id: string): NotificationDeliveryRow | undefined =>
  db.select().from(notificationDeliveries).where(eq(notificationDeliveries.id, id)).get();

/** A notifier's deliveries, newest first. */
export const listNotificationDeliveries = (
  db: Db,
  notifierId: string,
  limit: number,
): NotificationDeliveryRow[] =>
  db
    .select()
    .from(notificationDeliveries)
    .where(eq(notificationDeliveries.notifierId, notifierId))
    .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
    .limit(limit)
    .all();

/**
 * Deletes finished (delivered or failed) deliveries created before `before`, and beyond
 * the newest `keep` finished ones; pending rows stay. Returns how many went.
 */
export function pruneNotificationDeliveries(db: Db, before: string, keep: number): number {
  const finished = ne(notificationDeliveries.status, 'pending');
  const old = db
    .delete(notificationDeliveries)
    .where(and(finished, lte(notificationDeliveries.createdAt, before)))
    .run().changes;
  const newest = db
    .select({ id: notificationDeliveries.id })
    .from(notificationDeliveries)
    .where(finished)
    .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
    .limit(keep);
  const over = db
    .delete(notificationDeliveries)
    .where(and(finished, notInArray(notificationDeliveries.id, newest)))
    .run().changes;
  return old + over;
}
