import type { Clock, CommandRunner, Logger } from '@simpledeploy/core';
import { type Db, type HostNode, type HostRow, listHosts, updateHost } from '@simpledeploy/db';
import type { HostConnections } from './connections';

export interface HostHealthDeps {
  db: Db;
  runner: CommandRunner;
  docker: string;
  clock: Clock;
  logger: Logger;
  connections: HostConnections;
  timeoutMs?: number;
}

const firstLine = (s: string) => s.trim().split('\n').at(-1)?.slice(0, 300) ?? '';

/**
 * A host's health, checked through the same connection deploys use: the engine's version,
 * compose's (the CLI here runs it), the swarm role and, for a manager, its nodes. The row
 * keeps the last answer, so GET /hosts and /health never wait on a slow host.
 */
export function createHostHealth(deps: HostHealthDeps) {
  const { runner, docker } = deps;
  let composeVersion: string | undefined;
  /** Called after every check; `reachable` flips are what notifications and metrics care about. */
  const listeners: ((host: HostRow, previous: HostRow) => void)[] = [];

  async function run(args: string[], env: Record<string, string>) {
    const signal = AbortSignal.timeout(deps.timeoutMs ?? 15_000);
    return runner.run(docker, args, { env, signal });
  }

  async function check(host: HostRow): Promise<HostRow> {
    const at = deps.clock.now().toISOString();
    let patch: Partial<HostRow>;
    try {
      const why = await deps.connections.unreachable(host.id);
      if (why) throw new Error(why);
      const env = await deps.connections.env(host.id);
      const version = await run(['version', '--format', '{{.Server.Version}}'], env);
      if (version.exitCode !== 0)
        throw new Error(firstLine(version.stderr) || 'the engine did not answer');
      if (!composeVersion) {
        const c = await run(['compose', 'version', '--short'], env);
        if (c.exitCode === 0) composeVersion = c.stdout.trim();
      }
      const info = await run(
        ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'],
        env,
      );
      const [state, control] = info.stdout.trim().split(' ');
      const swarmState =
        state === 'active' ? (control === 'true' ? 'manager' : 'worker') : 'inactive';
      let nodes: HostNode[] | null = null;
      if (swarmState === 'manager') {
        const ls = await run(['node', 'ls', '--format', '{{json .}}'], env);
        nodes = ls.stdout
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => {
            const n = JSON.parse(l) as Record<string, string>;
            return {
              id: n.ID ?? '',
              hostname: n.Hostname ?? '',
              role: n.ManagerStatus ? 'manager' : 'worker',
              state: (n.Status ?? '').toLowerCase(),
              availability: (n.Availability ?? '').toLowerCase(),
            } satisfies HostNode;
          });
      }
      patch = {
        reachable: true,
        engineVersion: version.stdout.trim(),
        composeVersion: composeVersion ?? null,
        swarmState,
        nodes,
        error: null,
        lastCheckedAt: at,
      };
    } catch (err) {
      patch = {
        reachable: false,
        error: err instanceof Error ? err.message : String(err),
        lastCheckedAt: at,
      };
    }
    const updated = updateHost(deps.db, host.id, patch) ?? host;
    for (const l of listeners) l(updated, host);
    return updated;
  }

  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let stopped = false;

  return {
    check,
    onChecked(listener: (host: HostRow, previous: HostRow) => void) {
      listeners.push(listener);
    },
    /** Checks every host now, in parallel. */
    checkAll: () => Promise.all(listHosts(deps.db).map((h) => check(h))),
    /** Checks every host on an interval until stop(). */
    start(intervalMs: number) {
      const loop = async () => {
        if (stopped) return;
        await this.checkAll().catch((err: unknown) =>
          deps.logger.error('host health check failed', { err }),
        );
        if (!stopped) timer = deps.clock.setTimeout(loop, intervalMs);
      };
      void loop();
    },
    stop() {
      stopped = true;
      if (timer) deps.clock.clearTimeout(timer);
    },
  };
}

export type HostHealth = ReturnType<typeof createHostHealth>;
