import { and, desc, eq, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type AuditRow, auditLog, type NewAuditRow } from '../schema';

export const insertAudit = (db: Db, row: NewAuditRow): void => {
  db.insert(auditLog).values(row).run();
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
