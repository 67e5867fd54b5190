import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../client';
import { type VersionRow, versions } from '../schema';

export const findVersionBySha = (db: Db, stackId: string, sha: string): VersionRow | undefined =>
  db
    .select()
    .from(versions)
    .where(and(eq(versions.stackId, stackId), eq(versions.sha256, sha)))
    .get();

export const insertVersion = (db: Db, row: typeof versions.$inferInsert): VersionRow =>
  db.insert(versions).values(row).returning().get();

export const getVersion = (db: Db, stackId: string, id: string): VersionRow | undefined =>
  db
    .select()
    .from(versions)
    .where(and(eq(versions.stackId, stackId), eq(versions.id, id)))
    .get();

export const listVersions = (db: Db, stackId: string): VersionRow[] =>
  db
    .select()
    .from(versions)
    .where(eq(versions.stackId, stackId))
    .orderBy(desc(versions.createdAt), desc(versions.id))
    .all();

export const updateVersion = (db: Db, id: string, patch: Partial<typeof versions.$inferInsert>) =>
  db.update(versions).set(patch).where(eq(versions.id, id)).run();

/** The version that most recently deployed successfully, other than `exceptId`. */
export const lastGoodVersion = (
  db: Db,
  stackId: string,
  exceptId?: string,
): VersionRow | undefined =>
  db
    .select()
    .from(versions)
    .where(and(eq(versions.stackId, stackId), isNotNull(versions.lastSucceededAt)))
    .orderBy(desc(versions.lastSucceededAt))
    .all()
    .find((v) => v.id !== exceptId);
