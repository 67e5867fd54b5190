import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { stacks } from './stacks';

/**
 * A stack's history of lifecycle commands (start, stop, scale, ...). The SQL table keeps
 * its first name, `events`; in code it is the command history, apart from change events.
 */
export const commandHistory = sqliteTable(
  'events',
  {
    id: text('id').primaryKey(),
    stackId: text('stack_id')
      .notNull()
      .references(() => stacks.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').notNull(),
    exitCode: integer('exit_code'),
    output: text('output'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('events_stack_created').on(t.stackId, t.createdAt)],
);

export type CommandRow = typeof commandHistory.$inferSelect;
