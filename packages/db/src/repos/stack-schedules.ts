import { and, asc, isNotNull, lte, ne } from 'drizzle-orm';
import type { Db } from '../client';
import { type StackRow, stacks } from '../schema';
import { preparedPerDb } from './prepared';

/** What a background schedule needs of a stack: its id and its intervals. */
export type StackSchedule = Pick<
  StackRow,
  'id' | 'reconcileIntervalSeconds' | 'updateCheckIntervalSeconds'
>;

const schedules = preparedPerDb((db) =>
  db
    .select({
      id: stacks.id,
      reconcileIntervalSeconds: stacks.reconcileIntervalSeconds,
      updateCheckIntervalSeconds: stacks.updateCheckIntervalSeconds,
    })
    .from(stacks)
    .prepare(),
);

/**
 * Every stack's intervals, without the rest of its row: schedulers re-read them every
 * minute, and 1000 whole rows (compose files, encrypted secrets) a minute were garbage
 * that outlived the young generation (issue 14).
 */
export const listStackSchedules = (db: Db): StackSchedule[] => schedules(db).all();

const unreconciled = preparedPerDb((db) =>
  db
    .select()
    .from(stacks)
    .where(
      and(
        isNotNull(stacks.currentVersionId),
        lte(stacks.reconcileIntervalSeconds, 0),
        ne(stacks.engine, 'swarm'),
      ),
    )
    .orderBy(asc(stacks.name))
    .prepare(),
);

/** Deployed compose stacks that do not reconcile (reconcile_interval_seconds 0), by name. */
export const listDeployedUnreconciledStacks = (db: Db): StackRow[] => unreconciled(db).all();
