import { AppError } from '@simpledeploy/core';
import Database from 'better-sqlite3';

/** Seconds a client is told to wait (Retry-After) when another process holds the database. */
export const LOCKED_RETRY_AFTER_SECONDS = 1;

const LOCK_CODE = /^SQLITE_(BUSY|LOCKED)(_|$)/;

/**
 * True when the error (or its cause, as drizzle wraps some) is SQLite's "database is
 * locked" or "busy": another connection held a lock longer than the busy timeout.
 */
export function isDatabaseLocked(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof Database.SqliteError) return LOCK_CODE.test(e.code);
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The AppError for a database error a client can act on, else undefined: a lock held by
 * another process is `UNAVAILABLE` with `details.retry_after_seconds` (the api's
 * Retry-After), not a 500. apps/server hands this to the api as `translateError`.
 */
export function databaseAppError(error: unknown): AppError | undefined {
  if (!isDatabaseLocked(error)) return undefined;
  return new AppError(
    'UNAVAILABLE',
    'the database is locked by another process; retry in a moment',
    {
      retry_after_seconds: LOCKED_RETRY_AFTER_SECONDS,
    },
  );
}
