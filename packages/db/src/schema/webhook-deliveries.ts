import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { stacks } from './stacks';

/** Delivery ids already acted on, so a redelivered webhook deploys once. */
export const webhookDeliveries = sqliteTable('webhook_deliveries', {
  deliveryId: text('delivery_id').primaryKey(),
  stackId: text('stack_id')
    .notNull()
    .references(() => stacks.id, { onDelete: 'cascade' }),
  receivedAt: text('received_at').notNull(),
});
