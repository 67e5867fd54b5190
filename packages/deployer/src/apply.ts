import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ComposeTarget, composeArgs, parsePsJson } from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  type DesiredState,
  type Redact,
  type RunResult,
} from '@simpledeploy/core';
import type { StackRow } from '@simpledeploy/db';
import type { ComposeSession } from './compose-session';
import type { ComposeSessions } from './compose-sessions';
import { boundSourcesInside, type HostConnections, hostError, parseDockerHost } from './hosts';
import { repairInterruptedRecreate } from './interrupted-recreate';
import type { LogBus } from './log-bus';
import { stderrTail } from './output-tail';
import { checkPolicy, policyMessage, type VerdictMemo } from './policy-gate';
import { isSettled, listProjectContainers, type ProjectContainer } from './project-containers';
import type { StackLocator } from './stack-locator';
import type { StackSecrets } from './stack-secrets';
import { startFirstUpdate } from './start-first';
import { swarmUp } from './swarm/swarm-up';

/** How one step that touches compose ended. */
export interface Applied {
  ok: boolean;
  aborted: boolean;
  error?: string;
  /** service → `repo:tag@sha256:…` the services run after a success (the swarm engine reports them). */
  imageDigests?: Record<string, string>;
}

/** What an `up` does besides applying the version. */
export interface UpSteps {
  pull: boolean;
  /** Content already running: converge only. */
  converge?: boolean;
  /**
   * The digests recorded at the version's last success. The swarm engine runs them when it
   * does not pull (a rollback, a re-apply, a converge), since a tag may have moved since.
   */
  pin?: Record<string, string> | null | undefined;
}

/** A failure of one deploy step: its message is what the deployment's `error` says. */
export class StepError extends Error {}

export interface ApplyDeps {
  runner: CommandRunner;
  docker: string;
  clock: Clock;
  logs: LogBus;
  locator: StackLocator;
  sessions: ComposeSessions;
  hosts: HostConnections;
  sleep: (ms: number) => Promise<void>;
}

/** What a deployment does to compose: judge a version, then pull, build and `up` it. */
export interface DeployTarget {
  depId: string;
  stack: StackRow;
  secrets: StackSecrets;
  redact: Redact;
  signal: AbortSignal;
  /** The host this deployment runs on: the stack's, or the one it moves to. */
  hostId: string;
}

/** Services of compose's model that have a build section, within the service filter. */
function buildableServices(model: unknown, filter: string[]): string[] {
  const services =
    (model as { services?: Record<string, { build?: unknown }> } | undefined)?.services ?? {};
  return Object.entries(services)
    .filter(([name, svc]) => svc?.build !== undefined && (!filter.length || filter.includes(name)))
    .map(([name]) => name);
}

/** Every service container (of the filter, if any) was running and healthy before `up`. */
function settledBefore(containers: ProjectContainer[] | undefined, filter: string[]): boolean {
  const own = (containers ?? []).filter(
    (c) => !c.oneoff && (!filter.length || filter.includes(c.service)),
  );
  return own.length > 0 && own.every(isSettled);
}

/**
 * `up -d` reported every container as already `Running` and nothing else (no create,
 * recreate, start or removal). Any other output, from this or a later compose, means
 * the state is asked for again.
 */
function onlyRunning(r: RunResult): boolean {
  const lines = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length > 0 && lines.every((l) => /^Container \S+\s+Running$/.test(l));
}

/**
 * The steps of a deployment that run compose: the policy gate (on a fresh copy, then on
 * the deploy dir), pull, build, the repair of an interrupted recreate, start-first
 * updates and `up`. Every command's output streams into the deployment's log.
 */
export function createApplier(deps: ApplyDeps) {
  const { runner, docker, clock, logs, locator, sessions, hosts } = deps;
  const now = () => clock.now().toISOString();
  /** Deployments whose `up` started: only those need a re-apply when they fail or are killed. */
  const touched = new Set<string>();
  /** The deploy dir gate's passing verdicts: an unchanged redeploy skips `config` (policy-gate.ts). */
  const verdicts: VerdictMemo = new Map();
  /** Read-write bind sources per container, per host: fixed once a container exists. */
  const mountsByHost = new Map<string, Map<string, string[]>>();
  const mountsOn = (hostId: string) => {
    const known = mountsByHost.get(hostId);
    if (known) return known;
    const fresh = new Map<string, string[]>();
    mountsByHost.set(hostId, fresh);
    return fresh;
  };

  /** Runs one compose command for a deployment, streaming its output into the log. */
  async function compose(
    t: DeployTarget,
    target: ComposeTarget,
    sub: string,
    extra: string[],
    env: Record<string, string>,
    cwd: string,
  ) {
    const args = composeArgs(target, sub, extra);
    logs.append(t.depId, 'system', t.redact(`$ ${docker} ${args.join(' ')}`), now());
    return runner.run(docker, args, {
      cwd,
      env,
      signal: t.signal,
      onLine: (l) => logs.append(t.depId, l.stream, t.redact(l.text), now()),
    });
  }

  /**
   * Judges a session against the policy; a refusal becomes the step's error, with every
   * violation in the log. When the stack may run, returns compose's model of it.
   */
  async function gate(
    t: DeployTarget,
    s: ComposeSession,
    live?: { containers: ProjectContainer[] | undefined },
  ): Promise<Applied & { model?: unknown }> {
    const verdict = await checkPolicy(s, {
      runner,
      docker,
      policy: sessions.policyFor(t.stack),
      signal: t.signal,
      describeFailure: (stderr) => stderrTail(stderr, t.redact),
      // On the deploy dir, the running version's containers can still write there.
      liveProject: live ? s.target.project : undefined,
      running: live?.containers?.filter((c) => c.state === 'running').map((c) => c.id),
      mounts: live ? mountsOn(t.hostId) : undefined,
      memo: live ? verdicts : undefined,
    });
    if (verdict.ok) return { ok: true, aborted: false, model: verdict.model };
    if ('error' in verdict) return { ok: false, aborted: verdict.aborted, error: verdict.error };
    for (const v of verdict.violations)
      logs.append(
        t.depId,
        'system',
        t.redact(`policy: ${v.rule} in ${v.service ?? 'project'} (${v.where}): ${v.value}`),
        now(),
      );
    return { ok: false, aborted: false, error: t.redact(policyMessage(verdict.violations)) };
  }

  const stepFailed = (what: string, r: RunResult, t: DeployTarget): Applied | undefined => {
    if (r.aborted) return { ok: false, aborted: true };
    if (r.exitCode !== 0)
      return { ok: false, aborted: false, error: `${what}: ${stderrTail(r.stderr, t.redact)}` };
    return undefined;
  };

  /**
   * A failed step on a remote host: when the host itself is gone, that is the error (the
   * CLI only saw its local end of the connection close), named so the user knows where.
   */
  async function blameHost(t: DeployTarget, res: Applied): Promise<Applied> {
    if (res.ok || res.aborted || !hosts.isRemote(t.hostId)) return res;
    const why = await hosts.unreachable(t.hostId).catch(() => undefined);
    if (!why) return res;
    return {
      ok: false,
      aborted: false,
      error: hostError(hosts.requireHost(t.hostId), why).message,
    };
  }

  /**
   * Puts a version's files where the host's engine resolves bind mounts: the same path on an
   * SSH host, then judges confinement there (the host's own symlinks). A TCP host has no way
   * to receive files, so a stack that binds its own directory cannot run there.
   */
  async function place(t: DeployTarget, s: ComposeSession, state: DesiredState, model: unknown) {
    // One read of the host row for the whole step.
    const host = hosts.requireHost(t.hostId);
    const kind = parseDockerHost(host.dockerHost).kind;
    if (kind !== 'ssh' && kind !== 'tcp') return undefined;
    const inside = boundSourcesInside(model, s.dir);
    if (kind === 'tcp') {
      if (!inside.length) return undefined;
      return `host ${host.name} is reached over TCP, where files cannot be synced: ${inside.join(', ')} would not exist there; use an ssh:// host for stacks that bind their own files`;
    }
    logs.append(
      t.depId,
      'system',
      `syncing ${Object.keys(state.files).length} files to ${host.name}:${s.dir}`,
      now(),
    );
    const refuse = (escapes: string[]) =>
      t.redact(
        `policy: on host ${host.name}, ${escapes.join(', ')} resolve${escapes.length === 1 ? 's' : ''} outside the stack directory through a symlink there`,
      );
    try {
      // Judged before the sync, so a refused version leaves the running one's files alone,
      // and after it, since the host's containers keep running while files are written.
      const before = await hosts.escapes(t.hostId, s.dir, inside);
      if (before.length) return refuse(before);
      await hosts.sync(t.hostId, s.dir, state.files, t.signal);
      const after = await hosts.escapes(t.hostId, s.dir, inside);
      if (after.length) return refuse(after);
    } catch (err) {
      if (t.signal.aborted) throw err;
      const why = await hosts.unreachable(t.hostId).catch(() => undefined);
      return hostError(host, why ?? (err instanceof Error ? err.message : String(err))).message;
    }
    return undefined;
  }

  const applier = {
    touched,

    /**
     * The policy on a fresh copy of a version, before its files go near the deploy dir: a
     * refused version leaves the running one's files as they were.
     */
    async precheck(t: DeployTarget, state: DesiredState): Promise<void> {
      const dir = join(locator.stackDir(t.stack.id), 'check');
      await rm(dir, { recursive: true, force: true });
      const s = await sessions.session(t.stack, t.secrets, state, dir);
      try {
        const judged = await gate(t, s);
        if (judged.aborted) throw new StepError('aborted');
        if (!judged.ok) throw new StepError(judged.error ?? 'the host policy refused the stack');
      } finally {
        await s.dispose();
        await rm(dir, { recursive: true, force: true });
      }
    },

    /** `up` of a version: the only step that changes running containers. */
    async up(t: DeployTarget, state: DesiredState, steps: UpSteps): Promise<Applied> {
      let s: ComposeSession;
      try {
        s = await sessions.session(
          t.stack,
          t.secrets,
          state,
          join(locator.stackDir(t.stack.id), 'deploy'),
          t.hostId,
        );
      } catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND')
          return { ok: false, aborted: false, error: err.message };
        throw err;
      }
      const res = await upIn(t, s, state, steps).finally(() => s.dispose());
      return blameHost(t, res);
    },
  };

  async function upIn(
    t: DeployTarget,
    s: ComposeSession,
    state: DesiredState,
    steps: UpSteps,
  ): Promise<Applied> {
    const { target, env, dir } = s;
    const run = (sub: string, extra: string[]) => compose(t, target, sub, extra, env, dir);
    // One look at the project's containers serves the gate (their live mounts), the repair
    // of an interrupted recreate and the no-op check after `up`.
    const containers = await listProjectContainers(runner, docker, target.project, {
      env,
      signal: t.signal,
    });
    // The gate, as late as possible before anything is touched: on the files as they are
    // in the deploy dir now (a running container may have planted symlinks there).
    const judged = await gate(t, s, { containers });
    if (!judged.ok) return judged;
    const misplaced = await place(t, s, state, judged.model);
    if (misplaced) return { ok: false, aborted: t.signal.aborted, error: misplaced };
    if (t.stack.engine === 'swarm') return swarmIn(t, s, state, steps);
    if (steps.pull) {
      // Images built here are not in any registry: pull the others only.
      const bad = stepFailed(
        'pulling images failed',
        await run('pull', ['--ignore-buildable', ...state.services]),
        t,
      );
      if (bad) return bad;
    }
    // Built images come from the version's own files: built on every deploy and rollback
    // (the cache makes an unchanged build quick), so the tag holds this version's build.
    const buildable = buildableServices(judged.model, state.services);
    if (buildable.length && !steps.converge) {
      const bad = stepFailed('building images failed', await run('build', buildable), t);
      if (bad) return bad;
    }
    // A compose killed mid-recreate (a cancel, a kill -9 of the server) left its work
    // half done; put the containers back or this up fails on a name conflict.
    const repairs = await repairInterruptedRecreate(
      runner,
      docker,
      target.project,
      { env, signal: t.signal },
      containers,
    );
    for (const line of repairs) logs.append(t.depId, 'system', line, now());
    touched.add(t.depId);
    if (t.stack.updateOrder === 'start-first' && !steps.converge) {
      const rolled = await startFirstUpdate(judged.model, state.services, {
        runner,
        docker,
        target,
        env,
        cwd: dir,
        signal: t.signal,
        log: (text) => logs.append(t.depId, 'system', t.redact(text), now()),
        compose: run,
        sleep: deps.sleep,
        now: () => clock.now().getTime(),
        healthTimeoutMs: t.stack.deployTimeoutSeconds * 1000,
      });
      if (!rolled.ok) return { ok: false, aborted: rolled.aborted, error: rolled.error };
    }
    if (steps.converge) {
      // Content already running: `up --wait` would poll health for half a second even
      // when nothing changed, so converge first and wait only if something is not healthy.
      const quick = await run('up', ['-d', '--remove-orphans', ...state.services]);
      const bad = stepFailed('docker compose up failed', quick, t);
      if (bad) return bad;
      // All was running (and healthy) before, and up touched nothing: no need to ask again.
      if (settledBefore(containers, state.services) && onlyRunning(quick)) {
        return { ok: true, aborted: false };
      }
      const ps = await run('ps', ['--all', '--format', 'json', ...state.services]);
      const settled =
        ps.exitCode === 0 &&
        parsePsJson(ps.stdout).every(
          (c) => c.state === 'running' && (c.health === '' || c.health === 'healthy'),
        );
      if (settled) return { ok: true, aborted: false };
    }
    const res = await run('up', ['-d', '--remove-orphans', '--wait', ...state.services]);
    return stepFailed('docker compose up failed', res, t) ?? { ok: true, aborted: false };
  }

  /** The swarm engine's `up`: `docker stack deploy` of the rendered version, then the wait. */
  function swarmIn(
    t: DeployTarget,
    s: ComposeSession,
    state: DesiredState,
    steps: UpSteps,
  ): Promise<Applied> {
    return swarmUp(s, {
      runner,
      docker,
      runDir: locator.runDir,
      sleep: deps.sleep,
      signal: t.signal,
      stack: s.target.project,
      services: state.services,
      // A new deploy resolves the tags again; a stored version runs what it ran.
      pin: steps.pull ? undefined : steps.pin,
      log: (stream, text) => logs.append(t.depId, stream, t.redact(text), now()),
      describeFailure: (stderr) => stderrTail(stderr, t.redact),
      touching: () => touched.add(t.depId),
    });
  }

  return applier;
}

export type Applier = ReturnType<typeof createApplier>;
