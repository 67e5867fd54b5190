import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** SQLite's default: a commit that finds this many pages in the WAL checkpoints them itself. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointerOptions {
  /** The database file the connection has open. */
  path: string;
  /** How often the worker copies the WAL back into the database file. */
  everyMs?: number;
  /** The worker failed: checkpoints are back on the connection's own commits. */
  onError?: (error: unknown) => void;
}

export interface Checkpointer {
  /** Ends the worker (after a last checkpoint); the connection checkpoints on its own again. */
  stop(): Promise<void>;
}

// The worker, as a script: the bundled server has no file of its own for it. It opens its
// own connection and checkpoints PASSIVE (never waiting for a lock, never blocking a
// reader or the writer) every `everyMs`; a message 'stop' ends it after a last one.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// SQLite's errors cross to the parent thread as their code alone: say what happened.
const plain = (error) => new Error(String((error && error.message) || error));
let db, checkpoint;
try {
  const Database = require(workerData.module);
  db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
  checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
} catch (error) {
  throw plain(error);
}
let timer;
const run = () => {
  try {
    checkpoint.get();
  } catch (error) {
    // Busy: another checkpoint runs (a sqlite3 shell's); the next turn tries again.
    if (!error || error.code !== 'SQLITE_BUSY') throw plain(error);
  }
};
const loop = () => {
  run();
  timer = setTimeout(loop, workerData.everyMs);
};
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  run();
  db.close();
  parentPort.close();
});
loop();
`;

/**
 * Moves the WAL's checkpoints off the event loop: the connection stops checkpointing in
 * its own commits (wal_autocheckpoint = 0) and a worker thread with a connection of its
 * own copies the WAL into the database file every second. In SQLite's default, the
 * commit that finds 1000 pages in the WAL copies them all and syncs both files, on the
 * thread that serves requests: in a burst of signed webhooks that was about half of the
 * time their audit rows and delivery ids took to commit.
 *
 * If the worker cannot start or fails, checkpoints go back to the connection's commits
 * (onError says so), so the WAL never grows without bound.
 */
export function startCheckpointer(
  sqlite: Database.Database,
  opts: CheckpointerOptions,
): Checkpointer {
  const restore = () => {
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  sqlite.pragma('wal_autocheckpoint = 0');
  let stopping = false;
  let worker: Worker;
  try {
    worker = new Worker(WORKER, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: opts.path,
        everyMs: opts.everyMs ?? 1000,
      },
      // A worker is a V8 isolate of its own: keep it small.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
  } catch (error) {
    restore();
    opts.onError?.(error);
    return { stop: async () => {} };
  }
  // The worker must not keep a server that is done from exiting.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // A failing worker emits 'error' and then 'exit': the failure is reported once.
  let reported = false;
  const failed = (error: unknown) => {
    restore();
    if (stopping || reported) return;
    reported = true;
    opts.onError?.(error);
  };
  worker.on('error', failed);
  worker.once('exit', (code) => {
    if (code === 0) restore();
    else failed(new Error(`the checkpoint worker exited with ${code}`));
  });
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
