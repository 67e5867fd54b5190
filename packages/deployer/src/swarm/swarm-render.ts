import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composeArgs } from '@simpledeploy/compose';
import type { CommandRunner } from '@simpledeploy/core';
import type { ComposeSession } from '../compose-session';
import { renderStackFile } from './stack-file';
import { type SwarmProblem, swarmProblems, swarmProblemsMessage } from './unsupported-keys';

export interface SwarmRenderOptions {
  runner: CommandRunner;
  docker: string;
  session: ComposeSession;
  /** The Swarm stack's name (the stack's compose project name). */
  stack: string;
  /** The version's service filter; empty means all. */
  services: readonly string[];
  pin?: Record<string, string> | null | undefined;
  /** Where the private directory for the stack file is made (the server's run dir). */
  runDir: string;
  signal?: AbortSignal | undefined;
  /** Last lines of a failed command's stderr, redacted. */
  describeFailure: (stderr: string) => string;
}

export type SwarmRender =
  | {
      ok: true;
      /** The stack file: private, it holds the services' environment. */
      file: string;
      configs: string[];
      secrets: string[];
      dispose(): Promise<void>;
    }
  | { ok: false; aborted: boolean; error: string; problems?: SwarmProblem[] };

const namesOf = (defs: unknown): string[] =>
  Object.values((defs ?? {}) as Record<string, { name?: string; external?: boolean }>)
    .filter((d) => d && !d.external && d.name)
    .map((d) => d.name as string);

/**
 * The version as the file `docker stack deploy` reads, which interpolates nothing of
 * compose's: compose renders it (`.env`, compose_variables, includes and extends resolved,
 * default profiles only), what Swarm would reject or silently ignore is refused with every
 * key listed, and `docker stack config` validates the result before anything is deployed.
 */
export async function renderForSwarm(o: SwarmRenderOptions): Promise<SwarmRender> {
  const run = (args: string[]) =>
    o.runner.run(o.docker, args, {
      cwd: o.session.dir,
      env: o.session.env,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  const cfg = await run(
    composeArgs(o.session.target, 'config', ['--format', 'json', ...o.services]),
  );
  if (cfg.aborted) return { ok: false, aborted: true, error: 'aborted' };
  if (cfg.exitCode !== 0)
    return {
      ok: false,
      aborted: false,
      error: `the compose file is invalid: ${o.describeFailure(cfg.stderr)}`,
    };
  let model: unknown;
  try {
    model = JSON.parse(cfg.stdout);
  } catch {
    return { ok: false, aborted: false, error: 'docker compose config did not print JSON' };
  }
  const problems = swarmProblems(model);
  if (problems.length)
    return { ok: false, aborted: false, error: swarmProblemsMessage(problems), problems };

  const dir = await mkdtemp(join(o.runDir, 'swarm-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const doc = await renderStackFile(model, { stack: o.stack, pin: o.pin, privateDir: dir });
    const file = join(dir, 'stack.json');
    // JSON is YAML: the CLI reads it as a compose file.
    await writeFile(file, JSON.stringify(doc, null, 2), { mode: 0o600 });
    // Validated here, where nothing runs yet; its output (the environment) is not kept.
    const check = await run(['stack', 'config', '-c', file]);
    if (check.aborted) {
      await dispose();
      return { ok: false, aborted: true, error: 'aborted' };
    }
    if (check.exitCode !== 0) {
      await dispose();
      return {
        ok: false,
        aborted: false,
        error: `docker stack deploy would refuse this stack: ${o.describeFailure(check.stderr)}`,
      };
    }
    return {
      ok: true,
      file,
      configs: namesOf(doc.configs),
      secrets: namesOf(doc.secrets),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
