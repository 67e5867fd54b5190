import type { Db } from '../client';
import { statementPerDb } from './prepared';

// A plain statement: one runs per signed push (see insertAudit).
const insertDelivery = statementPerDb(
  'INSERT INTO webhook_deliveries (delivery_id, stack_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
);

/** Records a delivery id; false when it was seen before (the caller must not act again). */
export function recordDelivery(db: Db, deliveryId: string, stackId: string, now: string): boolean {
  return insertDelivery(db).run(deliveryId, stackId, now).changes > 0;
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
