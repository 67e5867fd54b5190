import { asc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { type ApiKeyRow, apiKeys } from '../schema';

export const insertApiKey = (db: Db, row: typeof apiKeys.$inferInsert): ApiKeyRow =>
  db.insert(apiKeys).values(row).returning().get();

export const listApiKeys = (db: Db): ApiKeyRow[] =>
  db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.name)).all();

export const findApiKeyByName = (db: Db, name: string): ApiKeyRow | undefined =>
  db.select().from(apiKeys).where(eq(apiKeys.name, name)).get();

/** True when a key was deleted. */
export const deleteApiKey = (db: Db, id: string): boolean =>
  db.delete(apiKeys).where(eq(apiKeys.id, id)).run().changes > 0;

export const touchApiKey = (db: Db, id: string, at: string): void => {
  db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id)).run();
};
