import type Database from 'better-sqlite3';
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

/** The better-sqlite3 connection under a drizzle database (drizzle keeps it as `$client`). */
const clientOf = (db: Db): Database.Database => (db as Db & { $client: Database.Database }).$client;

/**
 * A plain SQLite statement prepared once per database, run with positional values: for
 * the few writes that run once per request in a burst, where drizzle's placeholder
 * filling (a type check per value) and a named-values object per row cost more than
 * SQLite's own insert.
 */
export function statementPerDb(sql: string): (db: Db) => Database.Statement {
  return preparedPerDb((db) => clientOf(db).prepare(sql));
}
