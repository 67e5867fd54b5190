import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as drizzleMigrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema';
import { rearmStackWrites, watchStackWrites } from './stack-writes';

export type Db = BetterSQLite3Database<typeof schema>;

/**
 * How long a statement waits for a lock another process holds before failing with
 * SQLITE_BUSY (databaseAppError: 503 with Retry-After). Short, because better-sqlite3
 * waits synchronously: the whole server stalls meanwhile. The server has one connection,
 * so only another process (a sqlite3 shell left in a transaction, say) holds a lock.
 */
export const BUSY_TIMEOUT_MS = 100;

export interface DbHandle {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

/**
 * Creates the SQLite file at path 0600 if missing, and sets it and its `-wal` and `-shm`
 * to 0600 if they exist with wider modes. SQLite would create the file 0644 and gives
 * `-wal` and `-shm` the database file's mode, so they all stay private after this.
 */
export function makePrivateDbFile(path: string): void {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return;
  closeSync(openSync(path, 'a', 0o600));
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(p, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Opens (or creates) the SQLite file, private to the user (0600, `-wal` and `-shm` too),
 * with WAL, foreign keys and a short busy timeout. `:memory:` for tests.
 */
export function createDb(path: string): DbHandle {
  makePrivateDbFile(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('synchronous = NORMAL');
  const db = drizzle(sqlite, { schema });
  watchStackWrites(db, sqlite);
  return { db, sqlite, close: () => sqlite.close() };
}

/** The committed migrations folder, found from this file in source and in the bundled server. */
export function defaultMigrationsFolder(): string {
  const candidates = [
    process.env.SIMPLEDEPLOY_MIGRATIONS_DIR,
    resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrations'),
    resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations'),
    resolve(process.cwd(), 'migrations'),
  ];
  for (const c of candidates) if (c && existsSync(resolve(c, 'meta/_journal.json'))) return c;
  throw new Error('cannot find the migrations folder; set SIMPLEDEPLOY_MIGRATIONS_DIR');
}

export function migrate(db: Db, migrationsFolder = defaultMigrationsFolder()): void {
  drizzleMigrate(db, { migrationsFolder });
  rearmStackWrites(db);
}

/** A fresh, migrated in-memory database: one per unit test. */
export function createTestDb(): DbHandle {
  const handle = createDb(':memory:');
  migrate(handle.db);
  return handle;
}
