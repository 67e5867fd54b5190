import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquireFileLock, type FileLock, LockHeldError } from '@simpledeploy/db';

/** Another simpledeploy process (a server, rotate-key) holds the data dir. */
export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `another simpledeploy server is already running on data directory ${dataDir} ` +
        `(pid ${holderPid ?? 'unknown'}); stop it or use another SIMPLEDEPLOY_DATA_DIR`,
    );
    this.name = 'DataDirBusyError';
  }
}

export const lockFilePath = (dataDir: string) => join(dataDir, 'server.lock');

/**
 * Creates the data dir if needed (0700) and takes its lock, `<dataDir>/server.lock`, for
 * the life of the process: a second server on the same dir would stop the first one's
 * compose processes as orphans and deploy the same stacks. Throws DataDirBusyError at
 * once when another process holds it; the OS drops the lock when its holder dies.
 */
export function lockDataDir(dataDir: string): FileLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    return acquireFileLock(lockFilePath(dataDir));
  } catch (error) {
    if (error instanceof LockHeldError) throw new DataDirBusyError(dataDir, error.holderPid);
    throw error;
  }
}
