import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Every change and action: who (by key name), what, on which target, with which result.
 * No foreign keys: an entry outlives the stack and the key it names.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    // Increasing, so entries of the same instant still list newest first.
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    at: text('at').notNull(),
    keyId: text('key_id'),
    keyName: text('key_name'),
    /** How the caller proved who it is: `key`, `signature` (a git-host webhook) or `system`. */
    via: text('via').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    stackId: text('stack_id'),
    stackName: text('stack_name'),
    requestId: text('request_id'),
    /** `ok`, `unauthorized`, `forbidden` or `error`. */
    result: text('result').notNull(),
    status: integer('status'),
  },
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_stack').on(t.stackId),
    index('audit_log_key').on(t.keyName),
  ],
);

export type AuditRow = typeof auditLog.$inferSelect;
export type NewAuditRow = typeof auditLog.$inferInsert;
