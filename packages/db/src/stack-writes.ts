import type Database from 'better-sqlite3';

/**
 * A count of this connection's writes to `stacks`, bumped by temporary triggers on every
 * INSERT, UPDATE and DELETE of a row, whichever code or statement made it (a repository
 * function, raw SQL, a foreign key action). A cache of stack rows compares it to know
 * whether anything it holds may have changed, without reading the table again: every
 * statement opens a read transaction, two fcntl calls on the WAL's shared memory, and a
 * signed push to a stack costs one read of its row otherwise.
 *
 * Writes by other processes (a sqlite3 shell) are not counted: a cache must not outlive
 * the turn of the event loop it was filled in (see tickCache).
 */
interface StackWrites {
  sqlite: Database.Database;
  count: number;
  /** The triggers exist: they are created on first use, once the table does. */
  armed: boolean;
}

const watched = new WeakMap<object, StackWrites>();

const FUNCTION = 'simpledeploy_stack_written';

/** Starts counting `db`'s writes to stacks (createDb does, for every connection). */
export function watchStackWrites(db: object, sqlite: Database.Database): void {
  const w: StackWrites = { sqlite, count: 0, armed: false };
  sqlite.function(FUNCTION, { deterministic: false }, () => {
    w.count++;
    return null;
  });
  watched.set(db, w);
}

/**
 * Drops the triggers' record after a migration: one that rebuilds `stacks` drops its
 * triggers with the old table, and they are created again on the next use.
 */
export function rearmStackWrites(db: object): void {
  const w = watched.get(db);
  if (w) w.armed = false;
}

/** This connection's writes to stacks so far; undefined when they are not counted. */
export function stackWriteCount(db: object): number | undefined {
  const w = watched.get(db);
  if (!w) return undefined;
  if (!w.armed) {
    try {
      for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
        w.sqlite.exec(
          `CREATE TEMP TRIGGER IF NOT EXISTS simpledeploy_stacks_${op.toLowerCase()} AFTER ${op} ON main.stacks BEGIN SELECT ${FUNCTION}(); END`,
        );
      }
    } catch {
      // No stacks table (not migrated yet): nothing to cache either.
      return undefined;
    }
    w.armed = true;
    // Whatever happened before the triggers existed is unknown: count it as a write.
    w.count++;
  }
  return w.count;
}

/**
 * A per-connection cache of stack rows that lives for one turn of the event loop (it is
 * dropped at the next setImmediate) and is emptied as soon as this connection writes to
 * stacks. The requests parsed in one turn (17 pushes on average in a burst of 1000
 * signed webhooks) then read a stack once. Without a write count (a connection createDb
 * did not open) it caches nothing.
 */
export function tickCache<V>(): (db: object) => Map<string, V> | undefined {
  const caches = new WeakMap<object, { writes: number; rows: Map<string, V> }>();
  return (db) => {
    const writes = stackWriteCount(db);
    if (writes === undefined) return undefined;
    let cache = caches.get(db);
    if (!cache) {
      cache = { writes, rows: new Map() };
      caches.set(db, cache);
      setImmediate(() => caches.delete(db));
    } else if (cache.writes !== writes) {
      cache.writes = writes;
      cache.rows.clear();
    }
    return cache.rows;
  };
}
