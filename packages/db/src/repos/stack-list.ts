import { asc, desc, eq, getTableColumns, gt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { deployments, type StackRow, stacks } from '../schema';
import type { DeploymentSummary } from './deployments';

/**
 * A number that changes whenever this connection has written a row (SQLite's
 * total_changes(): inserts, updates and deletes since the connection opened, triggers
 * included). The server has one connection, so two equal readings mean nothing the stack
 * list shows has changed in between: a cheap version for ETags and cached answers. It
 * also moves on writes the list does not show (audit entries, logs): never stale, at
 * worst an answer built again.
 */
export function dataVersion(db: Db): number {
  return db.get<{ n: number }>(sql`select total_changes() as n`).n;
}

/**
 * Stacks in name order after `after` (exclusive), at most `limit` of them (all without
 * one): keyset pages, so a stack created or deleted elsewhere in the list never shifts
 * or repeats the stacks of the pages around it.
 */
export function listStacksPage(db: Db, opts: { after?: string; limit?: number }): StackRow[] {
  const q = db
    .select()
    .from(stacks)
    .where(opts.after === undefined ? undefined : gt(stacks.name, opts.after))
    .orderBy(asc(stacks.name));
  return opts.limit === undefined ? q.all() : q.limit(opts.limit).all();
}

/**
 * The latest deployment (by queued_at, then insertion) of each stack in `stackIds`, each
 * found with one seek on the (stack_id, queued_at) index: the cost follows the stacks
 * asked for, not the length of the deployment history.
 */
export function latestDeploymentsOf(db: Db, stackIds: string[]): Map<string, DeploymentSummary> {
  const out = new Map<string, DeploymentSummary>();
  if (stackIds.length === 0) return out;
  const stmt = latestStatement(db);
  for (const id of stackIds) {
    const row = stmt.get({ id });
    if (row) out.set(id, row);
  }
  return out;
}

// The columns a list shows: everything but the stored log and the host.
const { log: _log, hostId: _host, ...summaryColumns } = getTableColumns(deployments);

const prepareLatest = (db: Db) =>
  db
    .select(summaryColumns)
    .from(deployments)
    .where(eq(deployments.stackId, sql.placeholder('id')))
    .orderBy(desc(deployments.queuedAt), desc(sql`rowid`))
    .limit(1)
    .prepare();

// Prepared once per database (the query builder would compile the SQL for every stack).
const statements = new WeakMap<Db, ReturnType<typeof prepareLatest>>();
function latestStatement(db: Db) {
  let stmt = statements.get(db);
  if (!stmt) {
    stmt = prepareLatest(db);
    statements.set(db, stmt);
  }
  return stmt;
}
