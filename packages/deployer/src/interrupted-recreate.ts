import type { CommandRunner } from '@simpledeploy/core';

/**
 * Compose recreates a container by renaming the old one `<id12>_<name>`, creating the
 * new one as `<name>`, then removing the old. A compose killed in between (a cancel, a
 * `kill -9` of the server) leaves the renamed container behind, and every later `up` of
 * the project fails with `Conflict. The container name … is already in use`.
 *
 * The repair puts things back as they were before the recreate: the half-made new
 * container (never the one with the data) is removed, and the old one gets its name
 * back, so compose recreates it normally and carries its anonymous volumes over.
 * Returns one line per repair, for the deployment log.
 */
export async function repairInterruptedRecreate(
  runner: CommandRunner,
  docker: string,
  project: string,
  opts: { env: Record<string, string>; signal?: AbortSignal | undefined },
): Promise<string[]> {
  const run = (args: string[]) =>
    runner.run(docker, args, { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) });
  const ps = await run([
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--format',
    '{{.ID}}\t{{.Names}}',
  ]);
  if (ps.exitCode !== 0) return [];
  const names = new Set<string>();
  const renamed: { id: string; name: string; canonical: string }[] = [];
  for (const line of ps.stdout.split('\n')) {
    const [id, name] = line.trim().split('\t');
    if (!id || !name) continue;
    names.add(name);
    const m = /^([0-9a-f]{12})_(.+)$/.exec(name);
    if (m?.[2] && id.startsWith(m[1] as string)) renamed.push({ id, name, canonical: m[2] });
  }
  const done: string[] = [];
  for (const r of renamed) {
    if (names.has(r.canonical)) {
      const rm = await run(['rm', '-f', r.canonical]);
      if (rm.exitCode !== 0) continue;
      done.push(`removed ${r.canonical}, which an interrupted recreate had only half made`);
    }
    const mv = await run(['rename', r.id, r.canonical]);
    if (mv.exitCode === 0)
      done.push(`renamed ${r.name} back to ${r.canonical} (left by an interrupted recreate)`);
  }
  return done;
}
