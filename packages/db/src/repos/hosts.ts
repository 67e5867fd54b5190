import { asc, count, eq, or } from 'drizzle-orm';
import type { Db } from '../client';
import { type HostRow, hosts, type NewHostRow, stacks } from '../schema';

export const insertHost = (db: Db, row: NewHostRow): HostRow =>
  db.insert(hosts).values(row).returning().get();

/** `{host}` in a path accepts the id or the name. */
export const findHost = (db: Db, idOrName: string): HostRow | undefined =>
  db
    .select()
    .from(hosts)
    .where(or(eq(hosts.id, idOrName), eq(hosts.name, idOrName)))
    .get();

export const listHosts = (db: Db): HostRow[] =>
  db.select().from(hosts).orderBy(asc(hosts.name)).all();

export const updateHost = (db: Db, id: string, patch: Partial<NewHostRow>): HostRow | undefined =>
  db.update(hosts).set(patch).where(eq(hosts.id, id)).returning().get();

export const deleteHost = (db: Db, id: string): void => {
  db.delete(hosts).where(eq(hosts.id, id)).run();
};

/** How many stacks target a host (a host with stacks cannot be deleted). */
export const countStacksOnHost = (db: Db, hostId: string): number =>
  db.select({ n: count() }).from(stacks).where(eq(stacks.hostId, hostId)).get()?.n ?? 0;
