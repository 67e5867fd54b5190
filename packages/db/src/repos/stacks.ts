import { asc, eq, or } from 'drizzle-orm';
import type { Db } from '../client';
import { type NewStackRow, type StackRow, stacks } from '../schema';

export const insertStack = (db: Db, row: NewStackRow): StackRow =>
  db.insert(stacks).values(row).returning().get();

/** `{stack}` in a path accepts the id, the name or the uuid. */
export const findStack = (db: Db, idOrName: string): StackRow | undefined =>
  db
    .select()
    .from(stacks)
    .where(or(eq(stacks.id, idOrName), eq(stacks.name, idOrName), eq(stacks.uuid, idOrName)))
    .get();

export const findStackByName = (db: Db, name: string): StackRow | undefined =>
  db.select().from(stacks).where(eq(stacks.name, name)).get();

export const listStacks = (db: Db): StackRow[] =>
  db.select().from(stacks).orderBy(asc(stacks.name)).all();

export const updateStack = (
  db: Db,
  id: string,
  patch: Partial<NewStackRow>,
): StackRow | undefined => db.update(stacks).set(patch).where(eq(stacks.id, id)).returning().get();

export const deleteStack = (db: Db, id: string): void => {
  db.delete(stacks).where(eq(stacks.id, id)).run();
};
