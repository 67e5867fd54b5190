import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  /** Merged over process.env; a value of undefined removes that variable. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  /** Kills the child (SIGKILL) after this many milliseconds; default 5 minutes. */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Error thrown by runOk and friends when a command exits non-zero. */
export class CommandError extends Error {
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly result: RunResult,
  ) {
    const output = (result.stderr.trim() || result.stdout.trim()).slice(-4000);
    super(`${file} ${args.join(' ')} exited ${result.exitCode}: ${output}`);
    this.name = 'CommandError';
  }
}

function mergeEnv(env: RunOptions['env']): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env ?? {})) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/**
 * Runs a program with an argv array (never a shell) and captures its output.
 * Resolves with the exit code, even when it is non-zero; rejects only when the
 * program cannot be started.
 */
export function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: mergeEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: Math.round(performance.now() - started),
      });
    });
    // A child that exits without reading its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Like run, but throws a CommandError when the exit code is not 0. */
export async function runOk(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.exitCode !== 0) throw new CommandError(file, args, result);
  return result;
}

/** Runs `docker <args>`. */
export function docker(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return run('docker', args, options);
}

/** Runs `docker <args>` and throws when it fails. */
export function dockerOk(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return runOk('docker', args, options);
}

/** Runs `docker compose <args>`. */
export function compose(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return run('docker', ['compose', ...args], options);
}

/** Runs `docker compose <args>` and throws when it fails. */
export function composeOk(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return runOk('docker', ['compose', ...args], options);
}
