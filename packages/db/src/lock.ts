import Database from 'better-sqlite3';
import { makePrivateDbFile } from './client';
import { isDatabaseLocked } from './errors';

/** An exclusive lock a process holds until release() or its death. */
export interface FileLock {
  readonly path: string;
  /** Gives the lock up. Idempotent. */
  release(): void;
}

/** Another process holds the lock; `holderPid` is the pid it recorded, when it could be read. */
export class LockHeldError extends Error {
  constructor(
    readonly path: string,
    readonly holderPid: number | undefined,
  ) {
    super(`${path} is locked by another process (pid ${holderPid ?? 'unknown'})`);
    this.name = 'LockHeldError';
  }
}

/**
 * Takes an exclusive lock on the SQLite file at `path` (created 0600 if missing) for as
 * long as the process lives, or fails at once with LockHeldError. The lock is an open
 * write transaction: SQLite holds it with a POSIX lock, which the OS drops when the
 * process dies, kill -9 included, so a crash never leaves a stale lock behind. The
 * holder's pid is committed in the file first; WAL lets a refused process read it during
 * the holder's transaction.
 */
export function acquireFileLock(path: string, pid: number = process.pid): FileLock {
  makePrivateDbFile(path);
  const sqlite = new Database(path, { timeout: 0 });
  const begin = () => {
    try {
      sqlite.exec('BEGIN EXCLUSIVE');
      return true;
    } catch (e) {
      if (isDatabaseLocked(e)) return false;
      throw e;
    }
  };
  const holder = (): number | undefined => {
    try {
      const row = sqlite.prepare('SELECT pid FROM holder').get() as { pid: number } | undefined;
      return row?.pid;
    } catch {
      // Not created yet (the holder is starting up too): the pid is unknown.
      return undefined;
    }
  };
  const refuse = (committedOurs: boolean) => {
    const holderPid = holder();
    sqlite.close();
    // Our own record after we wrote it: the winner of a race has not committed its pid yet.
    return new LockHeldError(path, committedOurs && holderPid === pid ? undefined : holderPid);
  };
  try {
    sqlite.pragma('journal_mode = WAL');
    if (!begin()) throw refuse(false);
    sqlite.exec(
      'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL)',
    );
    sqlite.prepare('INSERT OR REPLACE INTO holder (id, pid) VALUES (1, ?)').run(pid);
    sqlite.exec('COMMIT');
    // Held again at once. A process that slipped in between holds it now, with its own pid
    // committed: refusing names it, and exactly one of the two ends up holding the lock.
    if (!begin()) throw refuse(true);
  } catch (e) {
    if (e instanceof LockHeldError) throw e;
    if (sqlite.open) sqlite.close();
    // Busy while switching to WAL: a holder is creating the file at this moment.
    if (isDatabaseLocked(e)) throw new LockHeldError(path, undefined);
    throw e;
  }
  return {
    path,
    release() {
      // Closing rolls the open transaction back, which drops the lock.
      if (sqlite.open) sqlite.close();
    },
  };
}
