import { asc, eq, or } from 'drizzle-orm';
import type { Db } from '../client';
import { type NewNotifierRow, type NotifierRow, notifiers } from '../schema';

export const insertNotifier = (db: Db, row: NewNotifierRow): NotifierRow =>
  db.insert(notifiers).values(row).returning().get();

export const listNotifiers = (db: Db): NotifierRow[] =>
  db.select().from(notifiers).orderBy(asc(notifiers.createdAt), asc(notifiers.name)).all();

/** By id or name. */
export const findNotifier = (db: Db, idOrName: string): NotifierRow | undefined =>
  db
    .select()
    .from(notifiers)
    .where(or(eq(notifiers.id, idOrName), eq(notifiers.name, idOrName)))
    .get();

export const updateNotifier = (
  db: Db,
  id: string,
  patch: Partial<NewNotifierRow>,
): NotifierRow | undefined =>
  db.update(notifiers).set(patch).where(eq(notifiers.id, id)).returning().get();

/** True when a notifier was deleted; its deliveries go with it. */
export const deleteNotifier = (db: Db, id: string): boolean =>
  db.delete(notifiers).where(eq(notifiers.id, id)).run().changes > 0;
