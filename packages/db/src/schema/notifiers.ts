import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Where notifications go. The URL is the credential for Slack, Discord and ntfy and may
 * carry an SMTP password, so it is stored encrypted like the secret (SecretBox).
 */
export const notifiers = sqliteTable('notifiers', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** `webhook`, `slack`, `discord`, `ntfy` or `email`. */
  kind: text('kind').notNull(),
  urlEnc: text('url_enc').notNull(),
  /** Recipients of an `email` notifier, comma separated. */
  emailTo: text('email_to'),
  emailFrom: text('email_from'),
  /** The webhook's HMAC key or the ntfy bearer token, encrypted. */
  secretEnc: text('secret_enc'),
  events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
  /** Stack ids this notifier is limited to; empty = every stack. */
  stacks: text('stacks', { mode: 'json' }).$type<string[]>().notNull().default([]),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export type NotifierRow = typeof notifiers.$inferSelect;
export type NewNotifierRow = typeof notifiers.$inferInsert;
