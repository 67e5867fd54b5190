import { and, desc, eq, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type AuditRow, auditLog, type NewAuditRow } from '../schema';
import { preparedPerDb } from './prepared';

const AUDIT_COLUMNS = [
  'at',
  'keyId',
  'keyName',
  'via',
  'action',
  'target',
  'stackId',
  'stackName',
  'requestId',
  'result',
  'status',
] as const;

const insertStatement = preparedPerDb((db) =>
  db
    .insert(auditLog)
    .values(
      Object.fromEntries(
        AUDIT_COLUMNS.map((k) => [k, sql.placeholder(k)]),
      ) as unknown as NewAuditRow,
    )
    .prepare(),
);

/**
 * One audit row, through a statement prepared once per database: every change and every
 * signed webhook writes one, and building the INSERT each time (drizzle's sqlToQuery and
 * prepareOneTimeQuery) was most of the audit trail's CPU in a burst of 1000 pushes.
 */
export const insertAudit = (db: Db, row: NewAuditRow): void => {
  insertStatement(db).run(
    Object.fromEntries(AUDIT_COLUMNS.map((k) => [k, row[k] ?? null])) as Record<string, unknown>,
  );
};

/** Several audit rows in one transaction: one commit for a tick's worth of requests. */
export const insertAudits = (db: Db, rows: readonly NewAuditRow[]): void => {
  db.transaction(() => {
    for (const row of rows) insertAudit(db, row);
  });
};

export interface AuditQuery {
  /** A stack's id or name. */
  stack?: string | undefined;
  /** A key's name or id. */
  key?: string | undefined;
  /** Only entries of these stack ids (a key limited to some stacks). */
  stackIds?: string[] | undefined;
  limit: number;
}

/** Newest first. */
export function listAudit(db: Db, q: AuditQuery): AuditRow[] {
  const where: (SQL | undefined)[] = [];
  if (q.stack) where.push(or(eq(auditLog.stackId, q.stack), eq(auditLog.stackName, q.stack)));
  if (q.key) where.push(or(eq(auditLog.keyName, q.key), eq(auditLog.keyId, q.key)));
  if (q.stackIds) where.push(q.stackIds.length ? inArray(auditLog.stackId, q.stackIds) : sql`0`);
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.seq))
    .limit(q.limit)
    .all();
}

/** Deletes entries older than `before` (ISO time); returns how many. */
export const pruneAudit = (db: Db, before: string): number =>
  db.delete(auditLog).where(lt(auditLog.at, before)).run().changes;
