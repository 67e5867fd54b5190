import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import type { Logger } from '@simpledeploy/core';

export interface OrphanProcess {
  pid: number;
  pgid: number;
  args: string[];
}

const readArgs = (procDir: string, pid: string) =>
  readFileSync(join(procDir, pid, 'cmdline'), 'utf8')
    .split('\0')
    .filter(Boolean);

// Field 5 of /proc/<pid>/stat, after the parenthesised command name (which may hold spaces).
const readPgid = (procDir: string, pid: string) => {
  const stat = readFileSync(join(procDir, pid, 'stat'), 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
};

/**
 * A compose command line: `docker compose -p …`, the plugin as the CLI runs it
 * (`…/docker-compose compose -p …`), or the plugin run directly (`…/docker-compose -p …`,
 * the server's own way when it found the plugin).
 */
const isCompose = (args: string[]) =>
  args.includes('-p') && (args.includes('compose') || basename(args[0] ?? '') === 'docker-compose');

/**
 * `docker compose` processes that a previous server on this data dir started and left
 * running: they run in a stack's working directory under `<dataDir>/stacks/`. Only
 * Linux has /proc; elsewhere (or when it cannot be read) nothing is found.
 */
export function findOrphanCompose(dataDir: string, procDir = '/proc'): OrphanProcess[] {
  const stacksDir = join(dataDir, 'stacks') + sep;
  let entries: string[];
  try {
    entries = readdirSync(procDir).filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const found: OrphanProcess[] = [];
  for (const pid of entries) {
    if (Number(pid) === process.pid) continue;
    try {
      const args = readArgs(procDir, pid);
      if (!isCompose(args)) continue;
      if (!`${readlinkSync(join(procDir, pid, 'cwd'))}${sep}`.startsWith(stacksDir)) continue;
      found.push({ pid: Number(pid), pgid: readPgid(procDir, pid), args });
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function signal(p: OrphanProcess, leaders: Set<number>, sig: NodeJS.Signals) {
  try {
    // The runner makes each command a process-group leader: end the whole group, helpers included.
    if (leaders.has(p.pgid)) process.kill(-p.pgid, sig);
    else process.kill(p.pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Stops the compose processes a crashed server left behind (its deployments are
 * about to be marked interrupted): a compose that outlives the deployment it belonged
 * to would keep changing containers, and race the next deploy of the stack. SIGTERM,
 * then SIGKILL for what is still alive after graceMs. Returns how many it found.
 */
export async function stopOrphanCompose(
  dataDir: string,
  logger: Logger,
  { graceMs = 2000, procDir = '/proc' }: { graceMs?: number; procDir?: string } = {},
): Promise<number> {
  const orphans = findOrphanCompose(dataDir, procDir);
  if (orphans.length === 0) return 0;
  const leaders = new Set(orphans.map((p) => p.pid));
  const projects = [...new Set(orphans.map((p) => p.args[p.args.indexOf('-p') + 1]))];
  logger.warn('stopping docker compose processes a previous run left behind', {
    count: orphans.length,
    projects,
  });
  for (const p of orphans) signal(p, leaders, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (orphans.some((p) => alive(p.pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const p of orphans) if (alive(p.pid)) signal(p, leaders, 'SIGKILL');
  return orphans.length;
}
