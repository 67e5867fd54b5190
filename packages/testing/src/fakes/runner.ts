import type { CommandRunner, OutputLine, RunOptions, RunResult } from '@simpledeploy/core';
import { fakeComposeConfig } from './compose-config';

export interface FakeCall {
  file: string;
  args: string[];
  options: RunOptions;
}

/** What a scripted command does: output lines, an exit code, and optionally waiting on a gate. */
export interface FakeResponse {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  lines?: OutputLine[];
  /** The command does not finish until this promise resolves (or the signal aborts). */
  until?: Promise<void>;
}

type Matcher = (args: string[]) => boolean;
type Responder = FakeResponse | ((call: FakeCall) => FakeResponse);

/** `args` contains the subcommand word, e.g. `sub('up')` matches `docker compose ... up -d`. */
export const sub =
  (word: string): Matcher =>
  (args) =>
    args.includes(word);

/**
 * A CommandRunner that records every call and answers from a script keyed by argv.
 * Unscripted commands succeed with no output, but for `compose config --format json`,
 * which answers a model of the files (fakeComposeConfig). `alive` counts calls in progress.
 */
export function createFakeRunner() {
  const calls: FakeCall[] = [];
  const script: { match: Matcher; respond: Responder; once: boolean }[] = [];
  let alive = 0;
  let maxAlive = 0;

  const runner: CommandRunner & {
    calls: FakeCall[];
    on(match: Matcher, respond: Responder): void;
    once(match: Matcher, respond: Responder): void;
    readonly alive: number;
    readonly maxAlive: number;
    /** Compose subcommands in call order, e.g. ['config', 'pull', 'up']. */
    subcommands(): string[];
  } = {
    calls,
    on(match, respond) {
      script.push({ match, respond, once: false });
    },
    once(match, respond) {
      script.push({ match, respond, once: true });
    },
    get alive() {
      return alive;
    },
    get maxAlive() {
      return maxAlive;
    },
    subcommands() {
      return calls.map((c) => composeSubcommand(c.args));
    },
    async run(file, args, options = {}): Promise<RunResult> {
      const call = { file, args: [...args], options };
      calls.push(call);
      // Latest matching rule wins, so a test can override a default.
      const idx = findLastIndex(script, (s) => s.match(call.args));
      const rule = idx >= 0 ? script[idx] : undefined;
      if (rule?.once) script.splice(idx, 1);
      // Unscripted `config --format json` answers a model read from the files, as compose would.
      const res = rule
        ? typeof rule.respond === 'function'
          ? rule.respond(call)
          : rule.respond
        : isConfigJson(call.args)
          ? fakeComposeConfig(call)
          : {};
      alive++;
      maxAlive = Math.max(maxAlive, alive);
      try {
        for (const l of res.lines ?? []) options.onLine?.(l);
        let aborted = options.signal?.aborted ?? false;
        if (res.until && !aborted) {
          aborted = await new Promise<boolean>((resolve) => {
            const onAbort = () => resolve(true);
            options.signal?.addEventListener('abort', onAbort, { once: true });
            res.until?.then(() => {
              options.signal?.removeEventListener('abort', onAbort);
              resolve(false);
            });
          });
        }
        // Yield once so concurrent work interleaves as it would with real processes.
        await Promise.resolve();
        return {
          exitCode: aborted ? 143 : (res.exitCode ?? 0),
          stdout: res.stdout ?? '',
          stderr: res.stderr ?? '',
          durationMs: 1,
          aborted,
        };
      } finally {
        alive--;
      }
    },
  };
  return runner;
}

export type FakeRunner = ReturnType<typeof createFakeRunner>;

/** The compose subcommand of `compose -p x -f a [--env-file e] <sub> ...`. */
export function composeSubcommand(args: string[]): string {
  let i = args[0] === 'compose' ? 1 : 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (['-p', '-f', '--env-file', '--project-directory', '--profile'].includes(a)) i += 2;
    else return a;
  }
  return '';
}

const isConfigJson = (args: string[]) =>
  composeSubcommand(args) === 'config' && args.includes('--format') && args.includes('json');

function findLastIndex<T>(arr: T[], pred: (t: T) => boolean): number {
  for (let i = arr.length - 1; i >= 0; i--) if (pred(arr[i] as T)) return i;
  return -1;
}

/** A promise with its resolver, to hold a fake command open until the test says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}
