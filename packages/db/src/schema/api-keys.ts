import type { Role } from '@simpledeploy/core';
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * API keys beside the one from the environment. Only the key's sha256 is kept: the key
 * itself is shown once, when it is created.
 */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  role: text('role').$type<Role>().notNull(),
  /** Stack ids or names this key is limited to; empty = every stack. */
  stacks: text('stacks', { mode: 'json' }).$type<string[]>().notNull().default([]),
  keyHash: text('key_hash').notNull().unique(),
  createdAt: text('created_at').notNull(),
  lastUsedAt: text('last_used_at'),
});

export type ApiKeyRow = typeof apiKeys.$inferSelect;
