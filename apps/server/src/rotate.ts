import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecretBox } from '@simpledeploy/core';
import { createDb, type FileLock, reencryptSecrets } from '@simpledeploy/db';
import { type Config, loadConfig } from './config';
import { databasePath } from './container';
import { DataDirBusyError, lockDataDir } from './data-dir';

export interface RotateOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Where progress and the result go, one line each. */
  out: (line: string) => void;
}

export interface RotateResult {
  stacks: number;
  values: number;
  /** Set when the new key was written to `<dataDir>/secret-key`. */
  keyFile?: string;
  /** Set when the operator must put the new key in SIMPLEDEPLOY_SECRET_KEY themselves. */
  printedKey?: string;
}

/** Thrown with a sentence for the operator; nothing was changed. */
export class RotateError extends Error {}

const MIN_KEY = 16;

/**
 * Re-encrypts every stored secret under a new key. The old key is SIMPLEDEPLOY_SECRET_KEY
 * or `<dataDir>/secret-key`; the new one SIMPLEDEPLOY_NEW_SECRET_KEY or a random one.
 * All rows change in one transaction, or none (a wrong old key changes nothing). With a
 * file-based key the new key replaces the file (0600); the old one is kept as
 * `secret-key.old` until the operator deletes it. Refused while a server runs on the
 * data dir: it holds the data dir's lock, and this takes it until done.
 */
export function rotateSecretKey(opts: RotateOptions): RotateResult {
  const config = loadConfig(opts.env, opts.cwd);
  const dbPath = databasePath(config);
  if (!existsSync(dbPath)) {
    throw new RotateError(`no database at ${dbPath}: set SIMPLEDEPLOY_DATA_DIR to the server's`);
  }
  // A running server keeps encrypting with the old key: it must be stopped, and stay so.
  let lock: FileLock;
  try {
    lock = lockDataDir(config.dataDir);
  } catch (error) {
    if (!(error instanceof DataDirBusyError)) throw error;
    throw new RotateError(
      `a simpledeploy server is running on data directory ${config.dataDir} (pid ${error.holderPid ?? 'unknown'}): stop it first; nothing was changed`,
    );
  }
  try {
    return rotate(config, dbPath, opts);
  } finally {
    lock.release();
  }
}

function rotate(config: Config, dbPath: string, opts: RotateOptions): RotateResult {
  const keyPath = join(config.dataDir, 'secret-key');
  const fromEnv = config.secretKey !== undefined;
  let oldKey = config.secretKey;
  if (!oldKey) {
    if (!existsSync(keyPath)) {
      throw new RotateError(
        `no current key: SIMPLEDEPLOY_SECRET_KEY is not set and ${keyPath} does not exist`,
      );
    }
    oldKey = readFileSync(keyPath, 'utf8').trim();
  }
  const givenNew = opts.env.SIMPLEDEPLOY_NEW_SECRET_KEY?.trim();
  if (
    givenNew !== undefined &&
    givenNew !== '' &&
    (givenNew.length < MIN_KEY || /\s/.test(givenNew))
  ) {
    throw new RotateError(
      `SIMPLEDEPLOY_NEW_SECRET_KEY must be at least ${MIN_KEY} characters without spaces`,
    );
  }
  const newKey = givenNew || randomBytes(32).toString('base64url');
  if (newKey === oldKey) throw new RotateError('the new key is the same as the current one');

  const oldBox = createSecretBox(oldKey);
  const newBox = createSecretBox(newKey);
  // The new key is on disk before any row depends on it, so a crash never loses it.
  const pending = `${keyPath}.new`;
  if (!fromEnv) {
    writeFileSync(pending, `${newKey}\n`, { mode: 0o600 });
    chmodSync(pending, 0o600);
  }
  const handle = createDb(dbPath);
  let counts: { stacks: number; values: number };
  try {
    try {
      counts = reencryptSecrets(handle, oldBox.decrypt, newBox.encrypt);
    } catch (error) {
      if (!fromEnv) rmSync(pending, { force: true });
      throw new RotateError(
        `nothing was changed: ${error instanceof Error ? error.message : 'the secrets could not be re-encrypted'}`,
      );
    }
    // Old ciphertext must not linger in free pages or the WAL, readable with the old key.
    handle.sqlite.exec('VACUUM');
    handle.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    handle.close();
  }
  opts.out(`re-encrypted ${counts.values} secret value(s) in ${counts.stacks} stack(s)`);
  if (!fromEnv) {
    const old = `${keyPath}.old`;
    writeFileSync(old, `${oldKey}\n`, { mode: 0o600 });
    chmodSync(old, 0o600);
    renameSync(pending, keyPath);
    opts.out(`wrote the new key to ${keyPath} (mode 0600); the previous key is in ${old}`);
    opts.out('check that the server starts, then delete the .old file and update your backups');
    return { ...counts, keyFile: keyPath };
  }
  if (givenNew) {
    opts.out(
      'set SIMPLEDEPLOY_SECRET_KEY to the value of SIMPLEDEPLOY_NEW_SECRET_KEY before starting the server',
    );
    return counts;
  }
  opts.out('set SIMPLEDEPLOY_SECRET_KEY to this new key before starting the server:');
  opts.out(newKey);
  return { ...counts, printedKey: newKey };
}
