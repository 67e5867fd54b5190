import type { CommandRunner } from '@simpledeploy/core';
import { listProjectContainers, type ProjectContainer } from './project-containers';

/**
 * Compose recreates a container through a temporary name `<id12>_<name>` (compose 2.26
 * creates the replacement under it, stops and removes the old container, then renames the
 * replacement; older releases renamed the old container instead). A compose killed in
 * between (a cancel, a `kill -9` of the server) leaves a container under the temporary
 * name, and a later `up` can fail with `Conflict. The container name … is already in use`.
 *
 * The repair, before every `up`: a temporary-named container that was never started,
 * beside one that has the real name, is a half-made replacement and is removed (the
 * one with the real name holds the data and keeps running); one alone gets the real name
 * back, so compose recreates or starts it normally and carries its volumes over.
 * Returns one line per repair, for the deployment log. `listed` is the project's
 * containers when the caller has asked the engine already.
 */
export async function repairInterruptedRecreate(
  runner: CommandRunner,
  docker: string,
  project: string,
  opts: { env: Record<string, string>; signal?: AbortSignal | undefined },
  listed?: ProjectContainer[],
): Promise<string[]> {
  const run = (args: string[]) =>
    runner.run(docker, args, { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) });
  const rows = listed ?? (await listProjectContainers(runner, docker, project, opts));
  if (!rows) return [];
  const taken = new Set(rows.map((r) => r.name));
  const done: string[] = [];
  for (const r of rows) {
    const canonical = r.name.replace(/^([0-9a-f]{12}_)+/, '');
    if (canonical === r.name || !canonical) continue;
    if (taken.has(canonical)) {
      if (r.state !== 'created') continue; // started: not compose's leftover to judge
      const rm = await run(['rm', '-f', r.id]);
      if (rm.exitCode === 0)
        done.push(`removed ${r.name}, a replacement an interrupted recreate had only half made`);
      continue;
    }
    const mv = await run(['rename', r.id, canonical]);
    if (mv.exitCode === 0) {
      taken.add(canonical);
      done.push(`renamed ${r.name} back to ${canonical} (left by an interrupted recreate)`);
    }
  }
  return done;
}
