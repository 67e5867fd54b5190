import {
  type ContainerState,
  type ContainerUsage,
  composeProjectArgs,
  parseComposeLogLine,
  parseStatsJson,
} from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  conflict,
  isServiceName,
  type Redact,
  type SecretBox,
  validation,
} from '@simpledeploy/core';
import type { StackRow } from '@simpledeploy/db';
import type { Deployer } from './deployer';
import { stderrTail } from './output-tail';
import { rowRedactor } from './stack-secrets';

/** Lines a snapshot may ask for; a follow starts from at most as many. */
export const MAX_LOG_TAIL = 10_000;
export const DEFAULT_LOG_TAIL = 200;
/** `docker logs --since`: a duration (`90s`, `10m`, `1.5h`), a Unix time or an RFC 3339 time. */
const SINCE =
  /^(\d+(\.\d+)?[smh]|\d+(\.\d+)?|\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?)$/;

export interface ContainerLogOptions {
  /** Lines from the end of each container's log (default 200, at most 10 000). */
  tail?: number | undefined;
  /** Only lines newer than this (see SINCE). */
  since?: string | undefined;
}

/** One line a container wrote, redacted with the stack's secrets. */
export interface ContainerLogLine {
  seq: number;
  /** When the container wrote it (the engine's timestamp); null when unknown. */
  ts: string | null;
  container: string;
  service: string;
  text: string;
}

/** A container's state with its resource use and restarts (GET .../stats/containers). */
export interface ContainerStats extends ContainerUsage {
  service: string;
  state: string;
  health: string;
  restart_count: number | null;
  started_at: string | null;
}

export interface ContainerServiceDeps {
  deployer: Pick<Deployer, 'requireStack' | 'projectOf' | 'engineEnv' | 'services'>;
  runner: CommandRunner;
  clock: Clock;
  secrets: SecretBox;
  redact: Redact;
  docker?: string | undefined;
}

/** What a container that is not running (or that stats did not report) shows. */
const NO_USAGE: Omit<ContainerUsage, 'container'> = {
  cpu_percent: null,
  memory_usage_bytes: null,
  memory_limit_bytes: null,
  memory_percent: null,
  network_rx_bytes: null,
  network_tx_bytes: null,
  pids: null,
};

interface RawInspect {
  Name?: string;
  RestartCount?: number;
  State?: { StartedAt?: string };
}

/**
 * What runs in a stack's containers: their logs (a snapshot or a follow, from `docker
 * compose logs` on the stack's host) and a stats snapshot (one `docker stats` and one
 * `docker inspect` for all of them). Every line is redacted with the stack's secrets.
 */
export function createContainerService(deps: ContainerServiceDeps) {
  const { deployer, runner } = deps;
  const docker = deps.docker ?? 'docker';

  const unavailable = (what: string, stack: StackRow, stderr: string) =>
    new AppError(
      'UNAVAILABLE',
      `cannot ${what} of ${stack.name}: the Docker engine did not answer`,
      {
        reason: stderrTail(stderr, rowRedactor(stack, deps.secrets, deps.redact)),
      },
    );

  function composeStack(stackIdOrName: string): StackRow {
    const stack = deployer.requireStack(stackIdOrName);
    if (stack.engine === 'swarm') {
      throw conflict(
        `stack ${stack.name} runs as a swarm stack: its container logs and stats come from the swarm's nodes (docker service logs), which simpledeploy does not read yet`,
      );
    }
    return stack;
  }

  /** The stack and its containers; NOT_FOUND when the service has none. */
  async function serviceTarget(stackIdOrName: string, service: string) {
    if (!isServiceName(service))
      throw validation('the service name is not a compose service name', { field: 'service' });
    const stack = composeStack(stackIdOrName);
    const rows = await deployer.services(stack.id);
    if (!rows.some((r) => r.service === service)) {
      const known = [...new Set(rows.map((r) => r.service))].sort();
      throw new AppError(
        'NOT_FOUND',
        known.length
          ? `stack ${stack.name} has no service "${service}" with containers; its services are: ${known.join(', ')}`
          : `stack ${stack.name} has no containers: deploy it first`,
        { service, services: known },
      );
    }
    return { stack, rows };
  }

  function logArgs(stack: StackRow, service: string, opts: ContainerLogOptions, follow: boolean) {
    const tail = opts.tail ?? DEFAULT_LOG_TAIL;
    if (!Number.isInteger(tail) || tail < 0 || tail > MAX_LOG_TAIL)
      throw validation(`tail must be a whole number from 0 to ${MAX_LOG_TAIL}`, { field: 'tail' });
    if (opts.since !== undefined && !SINCE.test(opts.since))
      throw validation(
        'since must be a duration (90s, 10m, 2h), a Unix time or an RFC 3339 time (2026-11-30T10:00:00Z)',
        { field: 'since' },
      );
    const extra = ['--no-color', '--timestamps', '--tail', String(tail)];
    if (opts.since !== undefined) extra.push('--since', opts.since);
    if (follow) extra.push('--follow');
    extra.push(service);
    return composeProjectArgs(deployer.projectOf(stack), 'logs', extra);
  }

  /** Compose prefixes a line with `<service>-<n>`: named here by the container's full name. */
  const lineMaker = (stack: StackRow, service: string, rows: ContainerState[]) => {
    const redact = rowRedactor(stack, deps.secrets, deps.redact);
    const names = rows.filter((r) => r.service === service).map((r) => r.container);
    const fullName = (prefix: string) =>
      names.find((n) => n === prefix || n.endsWith(`-${prefix}`)) ?? prefix;
    let seq = 0;
    return (raw: string): ContainerLogLine => {
      const e = parseComposeLogLine(raw);
      return {
        seq: ++seq,
        ts: e.ts,
        container: fullName(e.container),
        service,
        text: redact(e.text),
      };
    };
  };

  return {
    /** The last lines of a service's containers (all replicas, in compose's order). */
    async logs(
      stackIdOrName: string,
      service: string,
      opts: ContainerLogOptions = {},
    ): Promise<{ stack_id: string; service: string; lines: ContainerLogLine[] }> {
      const { stack, rows } = await serviceTarget(stackIdOrName, service);
      const args = logArgs(stack, service, opts, false);
      const res = await runner.run(docker, args, { env: await deployer.engineEnv(stack) });
      if (res.exitCode !== 0) throw unavailable('read the logs', stack, res.stderr);
      const line = lineMaker(stack, service, rows);
      const lines = res.stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map(line);
      return { stack_id: stack.id, service, lines };
    },

    /**
     * Checks the request (404 for a service without containers, 400 for bad options) and
     * returns the follower: it calls `onLine` with the tail, then each new line, until
     * `signal` aborts (the client left: the `docker compose logs` process group is killed)
     * or the containers go away, and resolves once the process has exited.
     */
    async openFollow(
      stackIdOrName: string,
      service: string,
      opts: ContainerLogOptions = {},
    ): Promise<
      (
        onLine: (line: ContainerLogLine) => void,
        signal: AbortSignal,
      ) => Promise<{ aborted: boolean }>
    > {
      const { stack, rows } = await serviceTarget(stackIdOrName, service);
      const args = logArgs(stack, service, opts, true);
      const env = await deployer.engineEnv(stack);
      return async (onLine, signal) => {
        const line = lineMaker(stack, service, rows);
        const res = await runner.run(docker, args, {
          env,
          signal,
          onLine: (l) => {
            if (l.stream === 'stdout') onLine(line(l.text));
          },
        });
        return { aborted: res.aborted };
      };
    },

    /** Resource use and restarts of every container of the stack, in one stats and one inspect call. */
    async stats(
      stackIdOrName: string,
    ): Promise<{ checked_at: string; containers: ContainerStats[] }> {
      const stack = composeStack(stackIdOrName);
      const rows: ContainerState[] = await deployer.services(stack.id);
      const env = await deployer.engineEnv(stack);
      const names = rows.map((r) => r.container);
      const running = rows.filter((r) => r.state === 'running').map((r) => r.container);
      const [stats, inspect] = await Promise.all([
        running.length
          ? runner.run(docker, ['stats', '--no-stream', '--format', '{{json .}}', ...running], {
              env,
            })
          : undefined,
        names.length ? runner.run(docker, ['inspect', ...names], { env }) : undefined,
      ]);
      // A container removed between ps and these calls fails the call for it alone.
      if (stats && stats.exitCode !== 0 && !stats.stdout.trim())
        throw unavailable('read the container stats', stack, stats.stderr);
      const usage = new Map(parseStatsJson(stats?.stdout ?? '').map((u) => [u.container, u]));
      const inspected = new Map<string, RawInspect>();
      const text = inspect?.stdout.trim() ?? '';
      if (text.startsWith('[')) {
        for (const r of JSON.parse(text) as RawInspect[])
          inspected.set((r.Name ?? '').replace(/^\//, ''), r);
      }
      const containers = rows.map(
        (r): ContainerStats => ({
          ...NO_USAGE,
          ...usage.get(r.container),
          container: r.container,
          service: r.service,
          state: r.state,
          health: r.health,
          restart_count: inspected.get(r.container)?.RestartCount ?? null,
          started_at: inspected.get(r.container)?.State?.StartedAt ?? null,
        }),
      );
      return { checked_at: deps.clock.now().toISOString(), containers };
    },
  };
}

export type ContainerService = ReturnType<typeof createContainerService>;
