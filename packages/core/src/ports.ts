/** One line of output from a child process, as it is produced. */
export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunOptions {
  cwd?: string;
  /** The complete environment of the child: nothing is inherited from the server. */
  env?: Record<string, string>;
  /** Aborting kills the child's whole process group. */
  signal?: AbortSignal;
  onLine?: (line: OutputLine) => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** True when the process was killed because `signal` aborted. */
  aborted: boolean;
}

/**
 * Runs a program with an argv array (never a shell string). Resolves with the exit
 * code even when it is non-zero; rejects only when the process cannot start.
 */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Time and timers, injectable so tests can move them. */
export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type LogFields = Record<string, unknown>;

/** Structured logger; every message passes through the redactor before it is written. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface GitCredentials {
  username?: string | undefined;
  token?: string | undefined;
}

export interface GitCheckout {
  /** Full commit sha that was checked out. */
  commit: string;
  /** Absolute directory of the work tree. */
  dir: string;
}

/** Git over smart HTTP: cheap remote ref listing and shallow checkouts. */
export interface GitClient {
  /** The commit a branch or tag points at on the remote, without cloning. Default branch when ref is undefined. */
  resolveRemote(
    url: string,
    ref: string | undefined,
    creds: GitCredentials,
  ): Promise<{ ref: string; commit: string }>;
  /**
   * Shallow checkout of ref (branch, tag or commit) into dir, reusing an existing clone
   * there. With `sparse`, a client that can may check out only the root's files and those
   * directories (the rest of the tree is not written).
   */
  checkout(
    url: string,
    ref: string | undefined,
    dir: string,
    creds: GitCredentials,
    options?: { sparse?: string[] | undefined },
  ): Promise<GitCheckout & { sparse?: string[] | undefined }>;
}
