import { composeProjectArgs } from '@simpledeploy/compose';
import type { CommandRunner, OutputLine, RunResult } from '@simpledeploy/core';
import {
  parseServiceInspect,
  parseServicePs,
  STACK_NAMESPACE_LABEL,
  type SwarmService,
  type SwarmTask,
} from './service-status';

export interface SwarmCommandOptions {
  runner: CommandRunner;
  docker: string;
  /** The session's environment: DOCKER_HOST (and TLS/SSH) of the stack's host, DOCKER_CONFIG. */
  env: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** argv of `docker stack deploy` as a deployment runs it. */
export const stackDeployArgs = (file: string, stack: string): string[] => [
  'stack',
  'deploy',
  // The nodes pull with the registry logins of the session's DOCKER_CONFIG, and the
  // service spec records the digest each tag resolved to.
  '--with-registry-auth',
  '--prune',
  '--detach=false',
  '-c',
  file,
  stack,
];

export const stackRmArgs = (stack: string): string[] => ['stack', 'rm', stack];

const run = (o: SwarmCommandOptions, args: string[], onLine?: (l: OutputLine) => void) =>
  o.runner.run(o.docker, args, {
    env: o.env,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(onLine ? { onLine } : {}),
  });

export class SwarmQueryError extends Error {
  constructor(
    what: string,
    readonly result: RunResult,
  ) {
    super(what);
  }
}

/** The services of a stack and their tasks, as the manager reports them now. */
export async function readStack(
  o: SwarmCommandOptions,
  stack: string,
): Promise<{ services: SwarmService[]; tasks: SwarmTask[] }> {
  const ls = await run(o, [
    'service',
    'ls',
    '-q',
    '--filter',
    `label=${STACK_NAMESPACE_LABEL}=${stack}`,
  ]);
  if (ls.exitCode !== 0) throw new SwarmQueryError(`listing the services of ${stack}`, ls);
  const ids = ls.stdout.split('\n').filter((l) => l.trim());
  if (!ids.length) return { services: [], tasks: [] };
  const [inspect, ps] = await Promise.all([
    run(o, ['service', 'inspect', ...ids]),
    run(o, ['service', 'ps', '--no-trunc', '--format', '{{json .}}', ...ids]),
  ]);
  // A service removed between ls and inspect fails for itself alone: keep what answered.
  if (inspect.exitCode !== 0 && !inspect.stdout.trim().startsWith('['))
    throw new SwarmQueryError(`inspecting the services of ${stack}`, inspect);
  return {
    services: parseServiceInspect(inspect.stdout, stack),
    tasks: ps.exitCode === 0 ? parseServicePs(ps.stdout, stack) : [],
  };
}

/** Names of a stack's configs and secrets (`kind` = config | secret). */
export async function stackObjects(
  o: SwarmCommandOptions,
  kind: 'config' | 'secret',
  stack: string,
): Promise<string[]> {
  const res = await run(o, [
    kind,
    'ls',
    '--filter',
    `label=${STACK_NAMESPACE_LABEL}=${stack}`,
    '--format',
    '{{.Name}}',
  ]);
  return res.exitCode === 0 ? res.stdout.split('\n').filter((l) => l.trim()) : [];
}

/**
 * Removes a stack's configs and secrets that the file just deployed no longer names
 * (content-hash names pile up otherwise). One still used by a task is refused by the
 * engine and stays until the next deploy.
 */
export async function pruneStackObjects(
  o: SwarmCommandOptions,
  stack: string,
  keep: { configs: string[]; secrets: string[] },
): Promise<string[]> {
  const kinds = ['config', 'secret'] as const;
  const removed = await Promise.all(
    kinds.map(async (kind) => {
      const wanted = new Set(kind === 'config' ? keep.configs : keep.secrets);
      const stale = (await stackObjects(o, kind, stack)).filter((n) => !wanted.has(n));
      if (!stale.length) return [];
      const res = await run(o, [kind, 'rm', ...stale]);
      return res.exitCode === 0 ? stale : [];
    }),
  );
  return removed.flat();
}

/**
 * argv that takes a stack's project down on its host: `docker stack rm` for the swarm
 * engine (Swarm keeps named volumes on each node: they are not removed), compose's `down`
 * otherwise.
 */
export function takeDownArgs(
  engine: 'compose' | 'swarm' | undefined,
  project: string,
  opts: { removeVolumes?: boolean } = {},
): string[] {
  if (engine === 'swarm') return stackRmArgs(project);
  return composeProjectArgs(project, 'down', [
    '--remove-orphans',
    ...(opts.removeVolumes ? ['-v'] : []),
  ]);
}
