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
