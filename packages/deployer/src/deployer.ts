import { rm } from 'node:fs/promises';
import {
  type ContainerState,
  composeProjectArgs,
  type HostPolicy,
  parsePsJson,
} from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  conflict,
  type Logger,
  notFound,
  type Redact,
  type SecretBox,
  type Trigger,
} from '@simpledeploy/core';
import {
  type Db,
  type DeploymentRow,
  findDeploymentsByStatus,
  findStackDeploymentsByStatus,
  getVersion,
  insertDeployment,
  lastGoodVersion,
  listStacks,
  type StackRow,
  updateStack,
  type VersionRow,
} from '@simpledeploy/db';
import { createApplier } from './apply';
import { type ChangeBus, type ChangeEvent, createChangeBus } from './change-bus';
import { createComposeSessions } from './compose-sessions';
import { type AbortReason, createDeployQueue } from './deploy-queue';
import { createHistory, recoverInterrupted } from './history';
import { type HostConnections, LOCAL_HOST } from './hosts';
import { createLogBus } from './log-bus';
import { stderrTail } from './output-tail';
import { createPipeline } from './pipeline';
import type { SourceResolver } from './sources';
import { createStackLocator, type StackLocator } from './stack-locator';
import { rowRedactor } from './stack-secrets';
import type { SwarmService, SwarmTask } from './swarm/service-status';
import { readStack, SwarmQueryError, takeDownArgs } from './swarm/swarm-engine';
import { swarmTaskRows } from './swarm/swarm-view';
import { type DeploymentView, toDeploymentView } from './views';

export type { ChangeEvent } from './change-bus';

export interface DeployerConfig {
  dataDir: string;
  projectPrefix: string;
  maxConcurrent: number;
  /** The child's whole environment before per-deploy additions: PATH, HOME, DOCKER_HOST. */
  childEnv: Record<string, string>;
  /** Program that provides `compose` (docker). */
  dockerBin?: string;
  /** Pause before re-applying a version after compose was killed mid-recreate. */
  reapplyRetryDelayMs?: number;
  reapplyAttempts?: number;
  /** Lines kept in the stored log of one deployment. */
  maxStoredLines?: number;
  /**
   * The server-wide host policy (README "Security"): host path prefixes and rules every
   * stack may use. Default: nothing outside the stack directory, no rule switched off.
   */
  policy?: HostPolicy;
}

export interface DeployerDeps {
  db: Db;
  runner: CommandRunner;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  /** Server-wide redaction (the API key); each stack adds its own secrets on top. */
  redact: Redact;
  sources: SourceResolver;
  config: DeployerConfig;
  ids?: (prefix: string) => string;
  /** Shared with the other services (built in createServices); a private one otherwise. */
  changes?: ChangeBus;
  locator?: StackLocator;
  /** How the CLI reaches each host (shared with the host service). */
  hosts: HostConnections;
}

export interface DeployOptions {
  trigger: Trigger;
  ref?: string | undefined;
  force?: boolean | undefined;
}

export function defaultIds(clock: Clock) {
  let counter = 0;
  return (prefix: string) => {
    counter = (counter + 1) % 1296;
    const time = clock.now().getTime().toString(36).padStart(9, '0');
    const rand = crypto.randomUUID().replace(/-/g, '').slice(0, 10);
    return `${prefix}_${time}${counter.toString(36).padStart(2, '0')}${rand}`;
  };
}

/**
 * Deployments: a FIFO queue capped at `maxConcurrent` across stacks, one at a time per
 * stack, coalescing of triggers, versions, automatic rollback, cancellation and timeouts.
 * The parts live in their own modules (deploy-queue, pipeline, apply, compose-sessions,
 * history); this wires them and holds the commands.
 */
export function createDeployer(deps: DeployerDeps) {
  const { db, runner, clock, logger, config } = deps;
  const ids = deps.ids ?? defaultIds(clock);
  const docker = config.dockerBin ?? 'docker';
  const logs = createLogBus();
  const changes = deps.changes ?? createChangeBus();
  const locator = deps.locator ?? createStackLocator(db, config);
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  const { hosts } = deps;
  const sessions = createComposeSessions({
    hosts,
    runner,
    docker,
    locator,
    secrets: deps.secrets,
    redact: deps.redact,
    childEnv: config.childEnv,
    policy: config.policy,
  });
  const queue = createDeployQueue({
    db,
    clock,
    logger,
    logs,
    changes,
    maxConcurrent: config.maxConcurrent,
    hostCap: (hostId) =>
      hostId === LOCAL_HOST ? null : hosts.requireHost(hostId).maxConcurrentDeploys,
    maxStoredLines: config.maxStoredLines ?? 5000,
  });
  const applier = createApplier({ runner, docker, clock, logs, locator, sessions, hosts, sleep });
  const history = createHistory({ db, logs, locator, secrets: deps.secrets, redact: deps.redact });
  const hostName = (id: string) => {
    try {
      return hosts.requireHost(id).name;
    } catch {
      return id;
    }
  };
  const pipeline = createPipeline({
    db,
    clock,
    logger,
    secrets: deps.secrets,
    redact: deps.redact,
    sources: deps.sources,
    logs,
    changes,
    locator,
    queue,
    applier,
    ids,
    sleep,
    enqueueReapply: (stack, versionId) =>
      enqueue(stack, { trigger: 'rollback', targetVersionId: versionId }),
    moved: async (t, fromHostId) => {
      updateStack(db, t.stack.id, { hostId: t.hostId, updatedAt: clock.now().toISOString() });
      changes.emit({ type: 'stack', stackId: t.stack.id });
      await takeDown(t.depId, t.stack, fromHostId);
    },
    abandonMove: (t) => takeDown(t.depId, t.stack, t.hostId),
    hostName,
    reapplyAttempts: config.reapplyAttempts ?? 3,
    reapplyRetryDelayMs: config.reapplyRetryDelayMs ?? 3000,
  });

  /** `down` of a stack's project on one host (a move's old or abandoned side), logged. */
  async function takeDown(depId: string, stack: StackRow, hostId: string): Promise<void> {
    const name = hostName(hostId);
    const at = () => clock.now().toISOString();
    logs.append(depId, 'system', `taking ${stack.name} down on host ${name}`, at());
    try {
      const res = await runner.run(docker, takeDownArgs(stack.engine, locator.projectOf(stack)), {
        env: await hosts.env(hostId),
        signal: AbortSignal.timeout(stack.deployTimeoutSeconds * 1000),
      });
      if (res.exitCode !== 0)
        logs.append(
          depId,
          'system',
          `taking ${stack.name} down on host ${name} failed; remove the project there by hand: ${stderrTail(res.stderr, rowRedactor(stack, deps.secrets, deps.redact))}`,
          at(),
        );
    } catch (err) {
      logger.error('taking a stack down after a move failed', { stack: stack.name, err });
    }
  }

  /** A Swarm stack's services and tasks, from its host's manager. */
  async function swarmState(
    stack: StackRow,
  ): Promise<{ services: SwarmService[]; tasks: SwarmTask[] }> {
    try {
      return await readStack(
        { runner, docker, env: await hosts.env(stack.hostId) },
        locator.projectOf(stack),
      );
    } catch (err) {
      if (!(err instanceof SwarmQueryError)) throw err;
      throw new AppError(
        'UNAVAILABLE',
        `cannot list the services of ${stack.name}: the Swarm manager on host ${hostName(stack.hostId)} did not answer`,
        { reason: stderrTail(err.result.stderr, rowRedactor(stack, deps.secrets, deps.redact)) },
      );
    }
  }

  function enqueue(
    stack: StackRow,
    opts: DeployOptions & { targetVersionId?: string; hostId?: string },
  ) {
    if (queue.closing)
      throw new AppError('UNAVAILABLE', 'simpledeploy is shutting down; try again in a moment');
    const row = insertDeployment(db, {
      id: ids('dep'),
      stackId: stack.id,
      status: 'queued',
      trigger: opts.trigger,
      ref: opts.ref ?? null,
      force: !!opts.force,
      targetVersionId: opts.targetVersionId ?? null,
      hostId: opts.hostId ?? stack.hostId,
      queuedAt: clock.now().toISOString(),
    });
    changes.emit({ type: 'deployment', deployment: toDeploymentView(row) });
    queue.schedule(row, pipeline.execute);
    return row;
  }

  function cancel(id: string): DeploymentView {
    const dep = locator.requireDeployment(id);
    if (dep.status === 'queued') {
      queue.finish(id, 'canceled', { error: 'canceled before it started' });
      return toDeploymentView(locator.requireDeployment(id));
    }
    if (dep.status === 'running' && queue.abort(id, 'cancel' satisfies AbortReason))
      return toDeploymentView(dep);
    throw conflict(`deployment ${id} has already ended (${dep.status})`, { status: dep.status });
  }

  // The database's last answer to joinable() per stack, so a burst of pushes asks once
  // (the query was ~20 us a push in a CPU profile of a burst). The answer only changes
  // through what the change bus announces: only enqueue() inserts deployments, every status
  // change of a queued one (started, canceled, interrupted) is announced, and deleting a
  // stack is. Any deployment or stack event drops the stack's entry; a miss asks again.
  const joinableAnswers = new Map<string, DeploymentRow>();
  changes.onChange((e) => {
    joinableAnswers.delete(e.type === 'stack' ? e.stackId : e.deployment.stack_id);
  });

  /** A queued deployment a new trigger joins; not for a trigger with its own ref or force. */
  function joinable(stackId: string, opts: DeployOptions) {
    // A trigger with its own ref or force asks for something the queued one may not do.
    if (opts.ref || opts.force) return undefined;
    const known = joinableAnswers.get(stackId);
    if (known) return known;
    const found = findStackDeploymentsByStatus(db, stackId, ['queued']).find(
      (d) => d.trigger !== 'rollback',
    );
    if (found) joinableAnswers.set(stackId, found);
    return found;
  }

  /**
   * Queues a deployment. A trigger for a stack that already has one queued joins it
   * (`coalesced`), so a burst of webhooks runs at most one more deploy.
   */
  function deploy(
    stackIdOrName: string,
    opts: DeployOptions,
  ): { deployment: DeploymentView; coalesced: boolean } {
    const stack = locator.requireStack(stackIdOrName);
    const queued = joinable(stack.id, opts);
    if (queued) return { deployment: toDeploymentView(queued), coalesced: true };
    return { deployment: toDeploymentView(enqueue(stack, opts)), coalesced: false };
  }

  return {
    logs,
    ...history,
    ...sessions,

    /** Subscribes to deployment and stack state changes (the UI's push channel). */
    onChange: (listener: (e: ChangeEvent) => void) => changes.onChange(listener),

    deploy,

    /**
     * deploy() for a stack id the caller has just read (a git-host push): joining a
     * queued deployment does not read the stack again, since a queued deployment means
     * the stack exists (deleting a stack deletes its deployments). Queuing a new one
     * reads it as deploy() does. A burst of pushes mostly joins.
     */
    deployStackId(
      stackId: string,
      opts: DeployOptions,
    ): { deployment: DeploymentView; coalesced: boolean } {
      const queued = joinable(stackId, opts);
      if (queued) return { deployment: toDeploymentView(queued), coalesced: true };
      return deploy(stackId, opts);
    },

    /** Re-applies an earlier version; by default the last good one before the current. */
    rollback(stackIdOrName: string, versionId?: string): DeploymentView {
      const stack = locator.requireStack(stackIdOrName);
      let target: VersionRow | undefined;
      if (versionId) {
        target = getVersion(db, stack.id, versionId);
        if (!target) throw notFound('version', versionId);
      } else {
        target = lastGoodVersion(db, stack.id, stack.currentVersionId ?? undefined);
        if (!target)
          throw conflict(`stack ${stack.name} has no earlier good version to roll back to`);
      }
      return toDeploymentView(enqueue(stack, { trigger: 'rollback', targetVersionId: target.id }));
    },

    cancel,

    /**
     * Moves a stack to another host: its current version is deployed there (trigger `api`),
     * and only once it is healthy there is the project taken down on the old host. A move
     * that fails leaves the stack where it was.
     */
    move(stackIdOrName: string, hostIdOrName: string): DeploymentView {
      const stack = locator.requireStack(stackIdOrName);
      const host = hosts.requireHost(hostIdOrName);
      if (host.id === stack.hostId)
        throw conflict(`stack ${stack.name} already runs on ${host.name}`);
      if (!stack.currentVersionId)
        throw conflict(
          `stack ${stack.name} has no running version to move: deploy it first, or change its host`,
        );
      if (findStackDeploymentsByStatus(db, stack.id, ['queued', 'running']).length)
        throw conflict(
          `stack ${stack.name} has a deployment queued or running: wait for it or cancel it first`,
        );
      return toDeploymentView(
        enqueue(stack, {
          trigger: 'api',
          targetVersionId: stack.currentVersionId,
          hostId: host.id,
        }),
      );
    },

    /** Cancels the stack's running deployment, else its queued one. */
    cancelStack(stackIdOrName: string): DeploymentView {
      const stack = locator.requireStack(stackIdOrName);
      const open = findStackDeploymentsByStatus(db, stack.id, ['running', 'queued']);
      const target = open.find((d) => d.status === 'running') ?? open[0];
      if (!target) throw conflict(`stack ${stack.name} has no running or queued deployment`);
      return cancel(target.id);
    },

    /** Resolves when the deployment has ended (at once if it already has). */
    waitFor(id: string): Promise<DeploymentView> {
      const dep = locator.requireDeployment(id);
      if (dep.status !== 'queued' && dep.status !== 'running')
        return Promise.resolve(toDeploymentView(dep));
      return queue.wait(id);
    },

    /** Containers of the stack's compose project (a Swarm stack's tasks, with their node), from the engine. */
    async services(stackIdOrName: string): Promise<ContainerState[]> {
      const stack = locator.requireStack(stackIdOrName);
      if (stack.engine === 'swarm') return swarmTaskRows((await swarmState(stack)).tasks);
      const res = await runner.run(
        docker,
        composeProjectArgs(locator.projectOf(stack), 'ps', ['--all', '--format', 'json']),
        { env: await hosts.env(stack.hostId) },
      );
      if (res.exitCode !== 0) {
        throw new AppError(
          'UNAVAILABLE',
          `cannot list the containers of ${stack.name}: the Docker engine did not answer`,
          { reason: stderrTail(res.stderr, rowRedactor(stack, deps.secrets, deps.redact)) },
        );
      }
      return parsePsJson(res.stdout);
    },

    recoverInterrupted: () => recoverInterrupted(db, clock, logger),

    swarmState,

    /** For `POST /webhook` without a name: the stack named `default`, else the oldest stack. */
    defaultStackName(): string {
      const all = listStacks(db);
      const pick =
        all.find((s) => s.name === 'default') ??
        all.reduce<StackRow | undefined>(
          (o, s) => (!o || s.createdAt < o.createdAt ? s : o),
          undefined,
        );
      if (!pick) throw notFound('stack', 'default');
      return pick.name;
    },

    /** Where stacks are and what they are called (shared with the other services). */
    locator,
    /** Project name of a stack, for callers that run their own compose commands. */
    projectOf: locator.projectOf,
    stackDir: locator.stackDir,
    requireStack: locator.requireStack,
    /** Runs a task in the stack's chain, after its queued deployments (lifecycle commands). */
    chain: queue.chain,
    emit: changes.emit,

    /** How the CLI reaches each host. */
    hosts,

    /** Stops taking work, interrupts what runs, and waits (bounded) for the chains to settle. */
    async shutdown(timeoutMs = 15_000): Promise<void> {
      queue.stopTaking();
      for (const d of findDeploymentsByStatus(db, ['queued'])) {
        queue.finish(d.id, 'interrupted', {
          error: 'simpledeploy was shut down before this deployment started',
        });
      }
      await queue.drain(timeoutMs);
    },

    /** Removes a stack's working files (the row is deleted by the caller). */
    async removeFiles(stackId: string) {
      await rm(locator.stackDir(stackId), { recursive: true, force: true });
    },
  };
}

export type Deployer = ReturnType<typeof createDeployer>;
