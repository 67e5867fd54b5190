import type { Db } from '../client';
import { webhookDeliveries } from '../schema';

/** Records a delivery id; false when it was seen before (the caller must not act again). */
export function recordDelivery(db: Db, deliveryId: string, stackId: string, now: string): boolean {
  const res = db
    .insert(webhookDeliveries)
    .values({ deliveryId, stackId, receivedAt: now })
    .onConflictDoNothing()
    .run();
  return res.changes > 0;
}
