import type { DesiredState } from '@simpledeploy/core';
import { index, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { stacks } from './stacks';

/** One distinct desired state of a stack, keyed by the sha256 of its content. */
export const versions = sqliteTable(
  'versions',
  {
    id: text('id').primaryKey(),
    stackId: text('stack_id')
      .notNull()
      .references(() => stacks.id, { onDelete: 'cascade' }),
    sha256: text('sha256').notNull(),
    gitCommit: text('git_commit'),
    /** Everything needed to deploy again without git or the network. */
    state: text('state', { mode: 'json' }).$type<DesiredState>().notNull(),
    createdAt: text('created_at').notNull(),
    lastDeployedAt: text('last_deployed_at'),
    /** Image digest per service at this version's last success (Swarm rollbacks pin them). */
    imageDigests: text('image_digests', { mode: 'json' }).$type<Record<string, string>>(),
    /** Set when a deploy of this version succeeded at least once. */
    lastSucceededAt: text('last_succeeded_at'),
  },
  (t) => [
    uniqueIndex('versions_stack_sha').on(t.stackId, t.sha256),
    index('versions_stack_created').on(t.stackId, t.createdAt),
  ],
);

export type VersionRow = typeof versions.$inferSelect;
