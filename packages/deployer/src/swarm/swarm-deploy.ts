import type { CommandRunner, RunResult } from '@simpledeploy/core';
import {
  imageDigests,
  type ServiceProgress,
  type SwarmService,
  serviceProgress,
} from './service-status';
import {
  readStack,
  type SwarmCommandOptions,
  SwarmQueryError,
  stackDeployArgs,
} from './swarm-engine';

export interface SwarmDeployOptions {
  runner: CommandRunner;
  docker: string;
  env: Record<string, string>;
  signal: AbortSignal;
  /** The stack file renderForSwarm wrote. */
  file: string;
  stack: string;
  /** Appends one (already redacted) line to the deployment's live log. */
  log: (stream: 'stdout' | 'stderr' | 'system', text: string) => void;
  sleep: (ms: number) => Promise<void>;
  /**
   * The stack's services as they were before this deploy (readStack), when the caller read
   * them already; read here otherwise.
   */
  before?: Promise<{ services: SwarmService[] }> | undefined;
  /** Pause between two looks at the services. */
  pollMs?: number;
  /** Last lines of a failed command's stderr, redacted. */
  describeFailure: (stderr: string) => string;
}

export type SwarmDeployed =
  | { ok: true; aborted: false; imageDigests: Record<string, string> }
  | { ok: false; aborted: boolean; error?: string };

/** The CLI's own wait prints the same countdown line many times a second. */
const NOISE =
  /^(verify: Waiting \d+ seconds? to verify that tasks are stable|overall progress: |\d+\/\d+:)/;

/**
 * `docker stack deploy`, then a wait that trusts the services, not the exit code (it is 0
 * after Swarm rolled an update back): every service's update must have completed and its
 * replicas run the spec's image. A paused or rolled-back update fails the deploy as soon
 * as it is seen, even while the CLI still waits. Ends on the signal (cancel, timeout) with
 * the CLI's process group killed.
 */
export async function deployAndWait(o: SwarmDeployOptions): Promise<SwarmDeployed> {
  const pollMs = o.pollMs ?? 1000;
  // Killed when the deploy is over either way: the CLI's wait must not outlive ours.
  const cli = new AbortController();
  const stop = () => cli.abort();
  o.signal.addEventListener('abort', stop, { once: true });
  const q: SwarmCommandOptions = {
    runner: o.runner,
    docker: o.docker,
    env: o.env,
    signal: o.signal,
  };
  let deploying: Promise<{ done: true; r: RunResult }> | undefined;
  try {
    // Update states from before this deploy are an earlier deploy's business.
    const before = await (o.before ?? readStack(q, o.stack));
    const baseline = new Map(before.services.map((s) => [s.service, s.update?.startedAt]));

    const args = stackDeployArgs(o.file, o.stack);
    o.log('system', `$ ${o.docker} ${args.join(' ')}`);
    let previous = '';
    const cliRun = o.runner
      .run(o.docker, args, {
        env: o.env,
        signal: cli.signal,
        onLine: (l) => {
          const text = l.text.trimEnd();
          if (!text || text === previous || NOISE.test(text)) return;
          previous = text;
          o.log(l.stream, text);
        },
      })
      .then((r) => ({ done: true as const, r }));
    deploying = cliRun;

    let exited: { done: true; r: RunResult } | undefined;
    let lastLines = '';
    for (;;) {
      if (o.signal.aborted) return { ok: false, aborted: true };
      const now = await readStack(q, o.stack);
      const progress: ServiceProgress[] = now.services.map((s) =>
        serviceProgress(s, now.tasks, baseline.get(s.service)),
      );
      const lines = progress.map((p) => p.line).join(' | ');
      if (lines && lines !== lastLines) o.log('system', `swarm: ${lines}`);
      lastLines = lines;
      const failed = progress.filter((p) => p.failure);
      if (failed.length) {
        return { ok: false, aborted: false, error: failed.map((p) => p.failure).join('; ') };
      }
      if (exited && exited.r.exitCode !== 0 && !exited.r.aborted)
        return {
          ok: false,
          aborted: false,
          error: `docker stack deploy failed: ${o.describeFailure(exited.r.stderr)}`,
        };
      if (exited && progress.length && progress.every((p) => p.done))
        return { ok: true, aborted: false, imageDigests: imageDigests(now.services) };
      // The next look: after a pause, or as soon as the CLI is done waiting.
      const next = await Promise.race([
        o.sleep(pollMs).then(() => undefined),
        ...(exited ? [] : [cliRun]),
      ]);
      if (next) exited = next;
    }
  } catch (err) {
    if (o.signal.aborted) return { ok: false, aborted: true };
    if (err instanceof SwarmQueryError)
      return {
        ok: false,
        aborted: false,
        error: `${err.message} failed: ${o.describeFailure(err.result.stderr)}`,
      };
    throw err;
  } finally {
    // No process outlives the deploy: the CLI's group is killed and waited for.
    stop();
    await deploying;
    o.signal.removeEventListener('abort', stop);
  }
}
