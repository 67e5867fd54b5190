import type { CommandRunner, OutputLine, RunOptions, RunResult } from '@simpledeploy/core';
import { execa } from 'execa';

/** Output kept in memory per stream; the log bus has the full stream as lines. */
const MAX_CAPTURE = 1024 * 1024;

export interface ExecaRunnerOptions {
  /** Time between SIGTERM and SIGKILL of the process group on abort. */
  killGraceMs?: number;
  /**
   * The compose plugin binary (findComposePlugin): `docker compose …` then runs it
   * directly as `<plugin> …`, as a standalone compose.
   */
  composePlugin?: string | undefined;
}

/**
 * `docker compose …` as the plugin run directly. Through the docker CLI a compose call
 * is three Go processes (the CLI, the plugin asked for its metadata, then the plugin);
 * run directly it is one, with a third of the CPU (`compose ls`: 89-94 ms of CPU through
 * the CLI, 31-32 ms direct, on the 2-core test machine), paid by every deploy, status and
 * drift check.
 */
function program(file: string, args: readonly string[], plugin: string | undefined) {
  if (plugin && file === 'docker' && args[0] === 'compose')
    return { file: plugin, args: args.slice(1) };
  return { file, args };
}

/**
 * Runs each command in its own process group (detached), so cancelling kills compose
 * and every helper it spawned, not just the direct child.
 */
export function createExecaRunner(opts: ExecaRunnerOptions = {}): CommandRunner {
  const grace = opts.killGraceMs ?? 5000;
  return {
    async run(file, args, options: RunOptions = {}): Promise<RunResult> {
      const started = performance.now();
      if (options.signal?.aborted) {
        return { exitCode: -1, stdout: '', stderr: '', durationMs: 0, aborted: true };
      }
      const run = program(file, args, opts.composePlugin);
      const child = execa(run.file, run.args, {
        cwd: options.cwd,
        env: options.env ?? {},
        extendEnv: false,
        detached: true,
        reject: false,
        stdin: 'ignore',
        buffer: false,
        stripFinalNewline: false,
      });
      // execa rejects synchronously-spawn failures through the promise; surface them as a rejection.
      let aborted = false;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (sig: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          // The group is already gone.
        }
      };
      const onAbort = () => {
        aborted = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), grace);
        killTimer.unref();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const out = collect(child.stdout, 'stdout', options.onLine);
      const err = collect(child.stderr, 'stderr', options.onLine);
      try {
        const result = await child;
        const [stdout, stderr] = await Promise.all([out, err]);
        if (result.failed && result.exitCode === undefined && !result.isTerminated && !aborted) {
          // The program could not be started at all (ENOENT and the like).
          throw new Error(
            `cannot run ${run.file}: ${result.originalMessage ?? result.shortMessage}`,
          );
        }
        return {
          exitCode: result.exitCode ?? (result.isTerminated ? 137 : -1),
          stdout,
          stderr,
          durationMs: performance.now() - started,
          aborted,
        };
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        // A process group member may outlive the leader; make sure nothing stays behind.
        if (aborted) killGroup('SIGKILL');
        if (killTimer) clearTimeout(killTimer);
      }
    },
  };
}

function collect(
  stream: NodeJS.ReadableStream | null,
  name: OutputLine['stream'],
  onLine: RunOptions['onLine'],
): Promise<string> {
  return new Promise((resolve) => {
    if (!stream) return resolve('');
    let captured = '';
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (captured.length < MAX_CAPTURE) captured += chunk.slice(0, MAX_CAPTURE - captured.length);
      if (!onLine) return;
      partial += chunk;
      // Compose redraws progress with \r; treat it as a line break so nothing is lost.
      const parts = partial.split(/\r?\n|\r/);
      partial = parts.pop() ?? '';
      for (const text of parts) if (text.length > 0) onLine({ stream: name, text });
    });
    stream.on('end', () => {
      if (onLine && partial.length > 0) onLine({ stream: name, text: partial });
      resolve(captured);
    });
    stream.on('error', () => resolve(captured));
  });
}
