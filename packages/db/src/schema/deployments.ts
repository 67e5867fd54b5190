import type { DeploymentStatus, LogLine, Trigger } from '@simpledeploy/core';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { stacks } from './stacks';

export const deployments = sqliteTable(
  'deployments',
  {
    id: text('id').primaryKey(),
    stackId: text('stack_id')
      .notNull()
      .references(() => stacks.id, { onDelete: 'cascade' }),
    status: text('status').$type<DeploymentStatus>().notNull(),
    trigger: text('trigger').$type<Trigger>().notNull(),
    /** Requested git ref (branch, tag or commit), if any. */
    ref: text('ref'),
    force: integer('force', { mode: 'boolean' }).notNull().default(false),
    /** For rollbacks: the version asked for. */
    targetVersionId: text('target_version_id'),
    /** The host the deployment ran on; differs from the stack's while the stack moves there. */
    hostId: text('host_id'),
    gitCommit: text('git_commit'),
    versionId: text('version_id'),
    error: text('error'),
    /** Redacted, bounded output, written when the deployment ends. */
    log: text('log', { mode: 'json' }).$type<LogLine[]>(),
    queuedAt: text('queued_at').notNull(),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
    durationMs: integer('duration_ms'),
  },
  (t) => [
    index('deployments_stack_queued').on(t.stackId, t.queuedAt),
    index('deployments_status').on(t.status),
  ],
);

export type DeploymentRow = typeof deployments.$inferSelect;
