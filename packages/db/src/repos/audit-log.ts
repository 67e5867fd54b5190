import { and, desc, eq, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type AuditRow, auditLog, type NewAuditRow } from '../schema';
import { statementPerDb } from './prepared';

const insertStatement = statementPerDb(
  `INSERT INTO audit_log (at, key_id, key_name, via, action, target, stack_id, stack_name, request_id, result, status)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);

/**
 * One audit row, through a plain statement prepared once per database: every change and
 * every signed webhook writes one. Building the INSERT each time (drizzle's sqlToQuery)
 * was most of the audit trail's CPU in a burst of 1000 pushes; then drizzle's named
 * placeholders (an object per row, a type check per value) still cost about a quarter
 * of it: 33-55 us per push against 26-40 for an audit row and a delivery id as plain
 * statements, 17 of each per commit (a micro-benchmark, no checkpoints).
 */
export const insertAudit = (db: Db, row: NewAuditRow): void => {
  insertStatement(db).run(
    row.at,
    row.keyId ?? null,
    row.keyName ?? null,
    row.via,
    row.action,
    row.target ?? null,
    row.stackId ?? null,
    row.stackName ?? null,
    row.requestId ?? null,
    row.result,
    row.status ?? null,
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
