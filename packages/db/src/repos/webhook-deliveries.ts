import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { webhookDeliveries } from '../schema';
import { preparedPerDb } from './prepared';

const insertDelivery = preparedPerDb((db) =>
  db
    .insert(webhookDeliveries)
    .values({
      deliveryId: sql.placeholder('deliveryId'),
      stackId: sql.placeholder('stackId'),
      receivedAt: sql.placeholder('now'),
    })
    .onConflictDoNothing()
    .prepare(),
);

/** Records a delivery id; false when it was seen before (the caller must not act again). */
export function recordDelivery(db: Db, deliveryId: string, stackId: string, now: string): boolean {
  return insertDelivery(db).run({ deliveryId, stackId, now }).changes > 0;
}

export interface NewDelivery {
  deliveryId: string;
  stackId: string;
  now: string;
}

/**
 * Several delivery ids in one transaction (one commit), in order: for each, whether it
 * was new. An id repeated within the list is new only the first time.
 */
export function recordDeliveries(db: Db, rows: readonly NewDelivery[]): boolean[] {
  return db.transaction(() => rows.map((r) => recordDelivery(db, r.deliveryId, r.stackId, r.now)));
}
