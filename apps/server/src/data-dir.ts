import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
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

/** What secureDataDir found and left alone: the data dir belongs to another user. */
export interface DataDirNotice {
  path: string;
  mode: string;
  owner: number;
}

const PRIVATE_DIR = 0o700;
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * Makes the data dir private to the server's user, whatever modes it was created with:
 * the data dir itself 0700 when that user owns it (a directory someone else owns, such
 * as a shared mount point, is left alone and returned so the caller can warn), and
 * `stacks/` and each stack directory 0700, since they hold compose files, `.env` files
 * and the data of relative bind mounts. Files inside a stack keep their modes:
 * containers read them through bind mounts and `COPY`. The database and key files are
 * 0600 on their own (createDb, the key files).
 */
export function secureDataDir(
  dataDir: string,
  uid: number | undefined = process.getuid?.(),
): DataDirNotice | undefined {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  let notice: DataDirNotice | undefined;
  const st = statSync(dataDir);
  if ((st.mode & 0o077) !== 0) {
    if (uid === undefined || st.uid === uid) chmodSync(dataDir, PRIVATE_DIR);
    else notice = { path: dataDir, mode: octal(st.mode), owner: st.uid };
  }
  const stacks = join(dataDir, 'stacks');
  mkdirSync(stacks, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(stacks, PRIVATE_DIR);
  for (const entry of readdirSync(stacks, { withFileTypes: true })) {
    if (entry.isDirectory()) chmodSync(join(stacks, entry.name), PRIVATE_DIR);
  }
  return notice;
}
