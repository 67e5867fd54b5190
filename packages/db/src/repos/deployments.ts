import type { DeploymentStatus } from '@simpledeploy/core';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type DeploymentRow, deployments } from '../schema';
import { preparedPerDb } from './prepared';

export const insertDeployment = (db: Db, row: typeof deployments.$inferInsert): DeploymentRow =>
  db.insert(deployments).values(row).returning().get();

export const getDeployment = (db: Db, id: string): DeploymentRow | undefined =>
  db.select().from(deployments).where(eq(deployments.id, id)).get();

export const updateDeployment = (
  db: Db,
  id: string,
  patch: Partial<typeof deployments.$inferInsert>,
): DeploymentRow | undefined =>
  db.update(deployments).set(patch).where(eq(deployments.id, id)).returning().get();

/** The columns a list shows: everything but the stored log. */
const summary = {
  id: deployments.id,
  stackId: deployments.stackId,
  status: deployments.status,
  trigger: deployments.trigger,
  ref: deployments.ref,
  force: deployments.force,
  targetVersionId: deployments.targetVersionId,
  gitCommit: deployments.gitCommit,
  versionId: deployments.versionId,
  error: deployments.error,
  queuedAt: deployments.queuedAt,
  startedAt: deployments.startedAt,
  finishedAt: deployments.finishedAt,
  durationMs: deployments.durationMs,
};

/** Newest first, without the stored log (lists never need it). */
export const listDeployments = (db: Db, stackId: string, limit = 50) =>
  db
    .select(summary)
    .from(deployments)
    .where(eq(deployments.stackId, stackId))
    .orderBy(desc(deployments.queuedAt), desc(sql`rowid`))
    .limit(limit)
    .all();

/**
 * Every stack's latest deployment in one query (rows are inserted in queue order, so the
 * highest rowid is the latest): a list of many stacks costs one round, not one per stack.
 */
export const latestDeploymentPerStack = (db: Db): Map<string, DeploymentSummary> =>
  new Map(
    db
      .select(summary)
      .from(deployments)
      .where(
        sql`${deployments}.rowid in (select max(rowid) from ${deployments} group by ${deployments.stackId})`,
      )
      .all()
      .map((d) => [d.stackId, d]),
  );

export type DeploymentSummary = ReturnType<typeof listDeployments>[number];

// Prepared once: every stack view (a create, an update, a GET of one stack) asks for these,
// and the query builder compiled the SQL again each time (issue 14).
const latestOfStack = preparedPerDb((db) =>
  db
    .select(summary)
    .from(deployments)
    .where(eq(deployments.stackId, sql.placeholder('stackId')))
    .orderBy(desc(deployments.queuedAt), desc(sql`rowid`))
    .limit(1)
    .prepare(),
);

export const latestDeployment = (db: Db, stackId: string): DeploymentSummary | undefined =>
  latestOfStack(db).get({ stackId });

export const findDeploymentsByStatus = (db: Db, statuses: DeploymentStatus[]) =>
  db.select().from(deployments).where(inArray(deployments.status, statuses)).all();

const open = preparedPerDb((db) =>
  db
    .select({ stackId: deployments.stackId, status: deployments.status })
    .from(deployments)
    .where(inArray(deployments.status, ['queued', 'running']))
    .prepare(),
);

/** The stack and status of every queued or running deployment (what a stack view's status needs). */
export const listOpenDeploymentStatuses = (
  db: Db,
): { stackId: string; status: DeploymentStatus }[] => open(db).all();

const prepareStackByStatus = (db: Db, statuses: DeploymentStatus[]) =>
  db
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.stackId, sql.placeholder('stackId')),
        inArray(deployments.status, statuses),
      ),
    )
    .orderBy(desc(deployments.queuedAt))
    .prepare();

// One prepared statement per database and status list (the deployer asks a few lists, often).
const stackByStatus = new WeakMap<Db, Map<string, ReturnType<typeof prepareStackByStatus>>>();

export function findStackDeploymentsByStatus(
  db: Db,
  stackId: string,
  statuses: DeploymentStatus[],
): DeploymentRow[] {
  let perDb = stackByStatus.get(db);
  if (!perDb) {
    perDb = new Map();
    stackByStatus.set(db, perDb);
  }
  const key = statuses.join(',');
  let stmt = perDb.get(key);
  if (!stmt) {
    stmt = prepareStackByStatus(db, statuses);
    perDb.set(key, stmt);
  }
  return stmt.all({ stackId });
}

export interface StackStatsRow {
  total: number;
  succeeded: number;
  failed: number;
  canceled: number;
  meanDurationMs: number | null;
}

export const stackStats = (db: Db, stackId: string): StackStatsRow =>
  db
    .select({
      total: sql<number>`count(*)`,
      succeeded: sql<number>`coalesce(sum(case when ${deployments.status} = 'succeeded' then 1 else 0 end), 0)`,
      failed: sql<number>`coalesce(sum(case when ${deployments.status} in ('failed', 'rolled_back', 'interrupted') then 1 else 0 end), 0)`,
      canceled: sql<number>`coalesce(sum(case when ${deployments.status} = 'canceled' then 1 else 0 end), 0)`,
      meanDurationMs: sql<number | null>`avg(${deployments.durationMs})`,
    })
    .from(deployments)
    .where(eq(deployments.stackId, stackId))
    .get() ?? { total: 0, succeeded: 0, failed: 0, canceled: 0, meanDurationMs: null };
