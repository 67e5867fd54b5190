import type { Db } from '../client';

/**
 * A query prepared once per database and reused: drizzle's builder compiles the SQL and
 * SQLite prepares a new statement on every call otherwise, which costs more than running
 * a lookup by key (a webhook request looks its stack up several times).
 */
export function preparedPerDb<P>(prepare: (db: Db) => P): (db: Db) => P {
  const byDb = new WeakMap<Db, P>();
  return (db) => {
    let p = byDb.get(db);
    if (p === undefined) {
      p = prepare(db);
      byDb.set(db, p);
    }
    return p;
  };
}
