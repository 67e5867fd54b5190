import type { CommandRunner } from '@simpledeploy/core';

/** One container of a compose project, as `docker ps -a` lists it. */
export interface ProjectContainer {
  id: string;
  name: string;
  /** running, exited, created, … */
  state: string;
  /** `Up 2 minutes (healthy)`: the health, when the container has a check, in parentheses. */
  status: string;
  service: string;
  /** A `docker compose run` container, not one of the services' own. */
  oneoff: boolean;
}

const FORMAT = [
  '{{.ID}}',
  '{{.Names}}',
  '{{.State}}',
  '{{.Status}}',
  '{{.Label "com.docker.compose.service"}}',
  '{{.Label "com.docker.compose.oneoff"}}',
].join('\t');

/**
 * Every container of a project, running or not, in one `docker ps -a`: what a deploy
 * asks the engine before `up` (the live mounts the policy counts, the leftovers of an
 * interrupted recreate, whether all is already running). Undefined when the engine
 * cannot answer.
 */
export async function listProjectContainers(
  runner: CommandRunner,
  docker: string,
  project: string,
  opts: { env: Record<string, string>; signal?: AbortSignal | undefined },
): Promise<ProjectContainer[] | undefined> {
  const ps = await runner.run(
    docker,
    ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', FORMAT],
    { env: opts.env, ...(opts.signal ? { signal: opts.signal } : {}) },
  );
  if (ps.exitCode !== 0) return undefined;
  return ps.stdout
    .split('\n')
    .map((l) => l.trim().split('\t'))
    .filter((r) => !!r[0] && !!r[1])
    .map(([id = '', name = '', state = '', status = '', service = '', oneoff = '']) => ({
      id,
      name,
      state,
      status,
      service,
      oneoff: oneoff === 'True',
    }));
}

/** Running, and healthy when it has a health check. */
export const isSettled = (c: ProjectContainer) =>
  c.state === 'running' && !/\((unhealthy|health: starting)\)/.test(c.status);
