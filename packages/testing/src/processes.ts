import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// scripts/test.sh sets this so it can kill servers a crashed test run left behind.
const pidDir = process.env.SD_TEST_PID_DIR;

function track(pid: number, name: string): void {
  if (pidDir) writeFileSync(join(pidDir, String(pid)), `${name}\n`);
}

function untrack(pid: number): void {
  if (pidDir) rmSync(join(pidDir, String(pid)), { force: true });
}

export interface Daemon {
  readonly child: ChildProcess;
  /** Resolves once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running helper process with its output appended to logFile. */
export function startDaemon(
  file: string,
  args: readonly string[],
  { logFile, env }: { logFile: string; env?: NodeJS.ProcessEnv },
): Daemon {
  const fd = openSync(logFile, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  closeSync(fd);
  const pid = child.pid;
  if (pid !== undefined) track(pid, file);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      if (pid !== undefined) untrack(pid);
      resolve(code);
    });
    child.on('error', () => resolve(null));
  });
  return {
    child,
    exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
