import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { type EventRow, events } from '../schema';

export const insertEvent = (db: Db, row: typeof events.$inferInsert): EventRow =>
  db.insert(events).values(row).returning().get();

export const listEvents = (db: Db, stackId: string, limit = 50): EventRow[] =>
  db
    .select()
    .from(events)
    .where(eq(events.stackId, stackId))
    .orderBy(desc(events.createdAt))
    .limit(limit)
    .all();

export const updateEvent = (db: Db, id: string, patch: Partial<typeof events.$inferInsert>) =>
  db.update(events).set(patch).where(eq(events.id, id)).run();
