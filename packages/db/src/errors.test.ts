import { AppError } from '@simpledeploy/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { databaseAppError, isDatabaseLocked } from './errors';

const sqliteError = (code: string) => new Database.SqliteError('database is locked', code);

describe('database errors', () => {
  it('knows SQLite busy and locked errors, extended codes and drizzle-wrapped ones included', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']) {
      expect(isDatabaseLocked(sqliteError(code)), code).toBe(true);
    }
    expect(isDatabaseLocked(new Error('query failed', { cause: sqliteError('SQLITE_BUSY') }))).toBe(
      true,
    );
    for (const e of [
      sqliteError('SQLITE_CONSTRAINT_UNIQUE'),
      new Error('SQLITE_BUSY'),
      undefined,
    ]) {
      expect(isDatabaseLocked(e)).toBe(false);
    }
  });

  it('turns a lock into 503-worthy UNAVAILABLE with a retry delay, and nothing else', () => {
    const e = databaseAppError(sqliteError('SQLITE_BUSY'));
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'the database is locked by another process; retry in a moment',
      details: { retry_after_seconds: 1 },
    });
    expect(databaseAppError(sqliteError('SQLITE_CONSTRAINT'))).toBeUndefined();
  });
});
