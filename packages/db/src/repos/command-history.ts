import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { type CommandRow, commandHistory } from '../schema';

export const insertCommand = (db: Db, row: typeof commandHistory.$inferInsert): CommandRow =>
  db.insert(commandHistory).values(row).returning().get();

export const listCommands = (db: Db, stackId: string, limit = 50): CommandRow[] =>
  db
    .select()
    .from(commandHistory)
    .where(eq(commandHistory.stackId, stackId))
    .orderBy(desc(commandHistory.createdAt))
    .limit(limit)
    .all();

export const updateCommand = (
  db: Db,
  id: string,
  patch: Partial<typeof commandHistory.$inferInsert>,
) => db.update(commandHistory).set(patch).where(eq(commandHistory.id, id)).run();
