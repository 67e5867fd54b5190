import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ComposeTarget,
  composeArgs,
  composeProjectArgs,
  DEFAULT_HOST_POLICY,
  type HostPolicy,
  mergeExceptions,
  parsePsJson,
} from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  canonicalJson,
  conflict,
  type DeploymentStatus,
  type DesiredState,
  type Logger,
  type LogLine,
  notFound,
  projectName,
  type Redact,
  type RunResult,
  type SecretBox,
  sha256,
  type Trigger,
  validation,
} from '@simpledeploy/core';
import {
  type Db,
  type DeploymentRow,
  findDeploymentsByStatus,
  findStack,
  findStackDeploymentsByStatus,
  findVersionBySha,
  getDeployment,
  getVersion,
  insertDeployment,
  insertVersion,
  lastGoodVersion,
  listDeployments,
  listStacks,
  listVersions,
  type StackRow,
  stackStats,
  updateDeployment,
  updateStack,
  updateVersion,
  type VersionRow,
} from '@simpledeploy/db';
import pLimit from 'p-limit';
import { type ComposeSession, openComposeSession } from './compose-session';
import { repairInterruptedRecreate } from './interrupted-recreate';
import { createLogBus, type LogBus } from './log-bus';
import { checkPolicy, policyError, policyMessage } from './policy-gate';
import type { SourceResolver } from './sources';
import {
  decryptSecrets,
  registryLogins,
  rowRedactor,
  type StackSecrets,
  stackRedactor,
} from './stack-secrets';
import { startFirstUpdate } from './start-first';
import {
  type DeploymentDetail,
  type DeploymentView,
  toDeploymentView,
  toVersionView,
  type VersionView,
} from './views';
import { clearRunDir } from './workspace';

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
}

export interface DeployOptions {
  trigger: Trigger;
  ref?: string | undefined;
  force?: boolean | undefined;
}

export type DeployerEvent =
  | { type: 'deployment'; deployment: DeploymentView }
  | { type: 'stack'; stackId: string };

/** Why a running deployment was aborted. */
type AbortReason = 'cancel' | 'timeout' | 'shutdown';

interface Active {
  stackId: string;
  controller: AbortController;
}

/** Services of compose's model that have a build section, within the service filter. */
function buildableServices(model: unknown, filter: string[]): string[] {
  const services =
    (model as { services?: Record<string, { build?: unknown }> } | undefined)?.services ?? {};
  return Object.entries(services)
    .filter(([name, svc]) => svc?.build !== undefined && (!filter.length || filter.includes(name)))
    .map(([name]) => name);
}

/** A failure of one deploy step: its message is what the deployment's `error` says. */
class StepError extends Error {}

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
 */
export function createDeployer(deps: DeployerDeps) {
  const { db, runner, clock, logger, config } = deps;
  const ids = deps.ids ?? defaultIds(clock);
  const docker = config.dockerBin ?? 'docker';
  const limit = pLimit(config.maxConcurrent);
  const bus: LogBus = createLogBus();
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  /** Per stack, the tail of its chain of deployments and control commands. */
  const chains = new Map<string, Promise<void>>();
  const active = new Map<string, Active>();
  const waiters = new Map<string, ((d: DeploymentView) => void)[]>();
  const retryDelay = config.reapplyRetryDelayMs ?? 3000;
  const reapplyAttempts = config.reapplyAttempts ?? 3;
  const maxStoredLines = config.maxStoredLines ?? 5000;
  let closing = false;

  const now = () => clock.now().toISOString();
  const stackDir = (stackId: string) => join(config.dataDir, 'stacks', stackId);
  /** Private session files (DOCKER_CONFIG, variables); cleared at start-up. */
  const runDir = join(config.dataDir, 'run');
  const serverPolicy = config.policy ?? DEFAULT_HOST_POLICY;
  /** The policy in force for one stack: the server's, plus the stack's own exceptions. */
  const policyFor = (stack: StackRow) =>
    mergeExceptions(serverPolicy, stack.policyExceptions ?? []);

  /**
   * A session in a fresh directory under the run dir, for reading what compose makes of a
   * version (policy of an unsaved stack, drift) without touching the deploy dir. No
   * registry logins: nothing is pulled there. dispose() removes the directory.
   */
  async function scratchSession(stackName: string, state: DesiredState): Promise<ComposeSession> {
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(join(runDir, 'scratch-'));
    const drop = () => rm(dir, { recursive: true, force: true });
    const s = await openComposeSession({
      dir: join(dir, 'stack'),
      state,
      project: projectName(config.projectPrefix, stackName),
      registries: [],
      childEnv: config.childEnv,
      runDir,
    }).catch(async (err: unknown) => {
      await drop();
      throw err;
    });
    return {
      ...s,
      dispose: async () => {
        await s.dispose();
        await drop();
      },
    };
  }

  /** One compose session over a version in a stack directory (deploy or check). */
  const session = (stack: StackRow, secrets: StackSecrets, state: DesiredState, dir: string) =>
    openComposeSession({
      dir,
      state,
      project: project(stack),
      registries: registryLogins(secrets.registries),
      childEnv: config.childEnv,
      runDir,
    });
  const project = (stack: StackRow) => projectName(config.projectPrefix, stack.name);

  const emit = (e: DeployerEvent) => emitter.emit('change', e);

  function requireStack(idOrName: string): StackRow {
    const s = findStack(db, idOrName);
    if (!s) throw notFound('stack', idOrName);
    return s;
  }

  function requireDeployment(id: string): DeploymentRow {
    const d = getDeployment(db, id);
    if (!d) throw notFound('deployment', id);
    return d;
  }

  /** Runs fn after everything already chained for the stack; never rejects the chain. */
  function chain(stackId: string, fn: () => Promise<void>): Promise<void> {
    const prev = chains.get(stackId) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => {
      logger.error('stack task failed unexpectedly', { stackId, err });
    });
    chains.set(stackId, next);
    void next.then(() => {
      if (chains.get(stackId) === next) chains.delete(stackId);
    });
    return next;
  }

  function finish(id: string, status: DeploymentStatus, patch: Partial<DeploymentRow> = {}) {
    const row = getDeployment(db, id);
    const finishedAt = now();
    const started = row?.startedAt ? Date.parse(row.startedAt) : undefined;
    const lines = bus.lines(id) ?? [];
    const updated = updateDeployment(db, id, {
      status,
      finishedAt,
      durationMs: started !== undefined ? Date.parse(finishedAt) - started : null,
      log: lines.slice(-maxStoredLines),
      ...patch,
    });
    bus.end(id, status);
    if (updated) {
      const view = toDeploymentView(updated);
      emit({ type: 'deployment', deployment: view });
      for (const w of waiters.get(id) ?? []) w(view);
    }
    waiters.delete(id);
  }

  function schedule(dep: DeploymentRow) {
    bus.open(dep.id);
    void chain(dep.stackId, () => limit(() => execute(dep.id)));
  }

  function upsertVersion(
    stackId: string,
    state: DesiredState,
    commit: string | undefined,
  ): VersionRow {
    const sha = sha256(canonicalJson(state));
    const existing = findVersionBySha(db, stackId, sha);
    if (existing) return existing;
    return insertVersion(db, {
      id: ids('ver'),
      stackId,
      sha256: sha,
      gitCommit: commit ?? null,
      state,
      createdAt: now(),
    });
  }

  /** Runs one compose command for a deployment, streaming its output into the log. */
  async function compose(
    depId: string,
    redact: Redact,
    target: ComposeTarget,
    sub: string,
    extra: string[],
    env: Record<string, string>,
    signal: AbortSignal,
    cwd: string,
  ) {
    const args = composeArgs(target, sub, extra);
    bus.append(depId, 'system', redact(`$ ${docker} ${args.join(' ')}`), now());
    const res = await runner.run(docker, args, {
      cwd,
      env,
      signal,
      onLine: (l) => bus.append(depId, l.stream, redact(l.text), now()),
    });
    return res;
  }

  /** The last lines of stderr make the error message; compose puts the reason there. */
  const tail = (text: string, redact: Redact) =>
    redact(
      text
        .trim()
        .split('\n')
        .filter((l) => l.trim())
        .slice(-3)
        .join(' | '),
    ).slice(0, 1000);

  interface Applied {
    ok: boolean;
    aborted: boolean;
    error?: string;
  }

  /**
   * Judges a session against the policy; a refusal becomes the step's error, with every
   * violation in the log. When the stack may run, returns compose's model of it.
   */
  async function gate(
    depId: string,
    stack: StackRow,
    s: ComposeSession,
    redact: Redact,
    signal: AbortSignal,
  ): Promise<Applied & { model?: unknown }> {
    const verdict = await checkPolicy(s, {
      runner,
      docker,
      policy: policyFor(stack),
      signal,
      describeFailure: (stderr) => tail(stderr, redact),
    });
    if (verdict.ok) return { ok: true, aborted: false, model: verdict.model };
    if ('error' in verdict) return { ok: false, aborted: verdict.aborted, error: verdict.error };
    for (const v of verdict.violations)
      bus.append(
        depId,
        'system',
        redact(`policy: ${v.rule} in ${v.service ?? 'project'} (${v.where}): ${v.value}`),
        now(),
      );
    return { ok: false, aborted: false, error: redact(policyMessage(verdict.violations)) };
  }

  /**
   * The policy on a fresh copy of a version, before its files go near the deploy dir: a
   * refused version leaves the running one's files as they were.
   */
  async function precheck(
    depId: string,
    stack: StackRow,
    secrets: StackSecrets,
    redact: Redact,
    state: DesiredState,
    signal: AbortSignal,
  ): Promise<void> {
    const dir = join(stackDir(stack.id), 'check');
    await rm(dir, { recursive: true, force: true });
    const s = await session(stack, secrets, state, dir);
    try {
      const judged = await gate(depId, stack, s, redact, signal);
      if (judged.aborted) throw new StepError('aborted');
      if (!judged.ok) throw new StepError(judged.error ?? 'the host policy refused the stack');
    } finally {
      await s.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `up` of a version: the only step that changes running containers. */
  async function up(
    depId: string,
    stack: StackRow,
    secrets: StackSecrets,
    redact: Redact,
    state: DesiredState,
    signal: AbortSignal,
    steps: { pull: boolean; converge?: boolean },
  ): Promise<Applied> {
    const s = await session(stack, secrets, state, join(stackDir(stack.id), 'deploy'));
    const { target, env, dir } = s;
    try {
      // The gate, as late as possible before anything is touched: on the files as they are
      // in the deploy dir now (a running container may have planted symlinks there).
      const judged = await gate(depId, stack, s, redact, signal);
      if (!judged.ok) return judged;
      if (steps.pull) {
        // Images built here are not in any registry: pull the others only.
        const pull = await compose(
          depId,
          redact,
          target,
          'pull',
          ['--ignore-buildable', ...state.services],
          env,
          signal,
          dir,
        );
        if (pull.aborted) return { ok: false, aborted: true };
        if (pull.exitCode !== 0) {
          return {
            ok: false,
            aborted: false,
            error: `pulling images failed: ${tail(pull.stderr, redact)}`,
          };
        }
      }
      // Built images come from the version's own files: built on every deploy and rollback
      // (the cache makes an unchanged build quick), so the tag holds this version's build.
      const buildable = buildableServices(judged.model, state.services);
      if (buildable.length && !steps.converge) {
        const build = await compose(depId, redact, target, 'build', buildable, env, signal, dir);
        if (build.aborted) return { ok: false, aborted: true };
        if (build.exitCode !== 0)
          return {
            ok: false,
            aborted: false,
            error: `building images failed: ${tail(build.stderr, redact)}`,
          };
      }
      // A compose killed mid-recreate (a cancel, a kill -9 of the server) left its work
      // half done; put the containers back or this up fails on a name conflict.
      for (const line of await repairInterruptedRecreate(runner, docker, target.project, {
        env,
        signal,
      }))
        bus.append(depId, 'system', line, now());
      touched.add(depId);
      const run = (sub: string, extra: string[]) =>
        compose(depId, redact, target, sub, extra, env, signal, dir);
      if (stack.updateOrder === 'start-first' && !steps.converge) {
        const rolled = await startFirstUpdate(judged.model, state.services, {
          runner,
          docker,
          target,
          env,
          cwd: dir,
          signal,
          log: (text) => bus.append(depId, 'system', redact(text), now()),
          compose: run,
          sleep,
          now: () => clock.now().getTime(),
          healthTimeoutMs: stack.deployTimeoutSeconds * 1000,
        });
        if (!rolled.ok) return { ok: false, aborted: rolled.aborted, error: rolled.error };
      }
      const failed = (r: RunResult): Applied | undefined => {
        if (r.aborted) return { ok: false, aborted: true };
        if (r.exitCode !== 0) {
          return {
            ok: false,
            aborted: false,
            error: `docker compose up failed: ${tail(r.stderr, redact)}`,
          };
        }
        return undefined;
      };
      if (steps.converge) {
        // Content already running: `up --wait` would poll health for half a second even
        // when nothing changed, so converge first and wait only if something is not healthy.
        const quick = await run('up', ['-d', '--remove-orphans', ...state.services]);
        const bad = failed(quick);
        if (bad) return bad;
        const ps = await run('ps', ['--all', '--format', 'json', ...state.services]);
        const settled =
          ps.exitCode === 0 &&
          parsePsJson(ps.stdout).every(
            (c) => c.state === 'running' && (c.health === '' || c.health === 'healthy'),
          );
        if (settled) return { ok: true, aborted: false };
      }
      const res = await run('up', ['-d', '--remove-orphans', '--wait', ...state.services]);
      const bad = failed(res);
      if (bad) return bad;
      return { ok: true, aborted: false };
    } finally {
      await s.dispose();
    }
  }

  /** Deployments whose `up` started: only those need a re-apply when they fail or are killed. */
  const touched = new Set<string>();

  /** Re-applies a known-good version, retrying while the engine finishes a killed recreate. */
  async function reapply(
    depId: string,
    stack: StackRow,
    secrets: StackSecrets,
    redact: Redact,
    good: VersionRow,
  ) {
    let last: Applied = { ok: false, aborted: false };
    for (let attempt = 1; attempt <= reapplyAttempts; attempt++) {
      bus.append(
        depId,
        'system',
        `re-applying version ${good.id} (${good.sha256.slice(0, 12)}), attempt ${attempt}`,
        now(),
      );
      const controller = new AbortController();
      const timer = clock.setTimeout(() => controller.abort(), stack.deployTimeoutSeconds * 1000);
      try {
        last = await up(depId, stack, secrets, redact, good.state, controller.signal, {
          pull: false,
        });
      } finally {
        clock.clearTimeout(timer);
      }
      if (last.ok) {
        const t = now();
        updateVersion(db, good.id, { lastDeployedAt: t, lastSucceededAt: t });
        updateStack(db, stack.id, {
          currentVersionId: good.id,
          deployedCommit: good.gitCommit,
          updatedAt: t,
        });
        emit({ type: 'stack', stackId: stack.id });
        return last;
      }
      if (attempt < reapplyAttempts && retryDelay > 0) await sleep(retryDelay);
    }
    return last;
  }

  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));

  async function execute(depId: string): Promise<void> {
    const dep = getDeployment(db, depId);
    if (!dep || dep.status !== 'queued') return;
    if (closing) return;
    const stack = findStack(db, dep.stackId);
    if (!stack)
      return finish(depId, 'failed', {
        error: 'the stack was deleted before this deployment started',
      });

    let secrets: StackSecrets;
    try {
      secrets = decryptSecrets(stack, deps.secrets);
    } catch (err) {
      return finish(depId, 'failed', {
        error:
          err instanceof AppError
            ? err.message
            : 'cannot read the stack secrets: SIMPLEDEPLOY_SECRET_KEY may have changed; set the old key or enter the secrets again',
      });
    }
    const redact = stackRedactor(secrets, deps.redact);
    const controller = new AbortController();
    active.set(depId, { stackId: stack.id, controller });
    const timeoutMs = stack.deployTimeoutSeconds * 1000;
    const timer = clock.setTimeout(
      () => controller.abort('timeout' satisfies AbortReason),
      timeoutMs,
    );
    const started = updateDeployment(db, depId, { status: 'running', startedAt: now() });
    if (started) emit({ type: 'deployment', deployment: toDeploymentView(started) });
    const log = (text: string) => bus.append(depId, 'system', redact(text), now());
    const previousGood = stack.currentVersionId
      ? getVersion(db, stack.id, stack.currentVersionId)
      : undefined;

    let version: VersionRow | undefined;
    // The commit this deploy runs: a reused version may have been recorded under an older
    // commit with the same content (a revert, an empty commit).
    let commit: string | null = null;
    try {
      if (dep.targetVersionId) {
        version = getVersion(db, stack.id, dep.targetVersionId);
        if (!version) throw new StepError(`version ${dep.targetVersionId} no longer exists`);
        log(`rolling back to version ${version.id} (${version.sha256.slice(0, 12)})`);
        // A version made under an older, looser policy is judged by today's.
        await precheck(depId, stack, secrets, redact, version.state, controller.signal);
      } else {
        log(`resolving the ${stack.repoUrl ? 'git' : 'inline'} source of ${stack.name}`);
        const src = await deps.sources
          .resolve(stack, secrets, {
            ref: dep.ref ?? undefined,
            signal: controller.signal,
            log,
            cacheDir: join(stackDir(stack.id), 'repo'),
          })
          .catch((err: unknown) => {
            if (controller.signal.aborted) throw err;
            throw new StepError(
              err instanceof AppError ? redact(err.message) : 'reading the stack source failed',
            );
          });
        // Before it becomes a version: what the policy refuses never runs and is never kept.
        if (sha256(canonicalJson(src.state)) !== previousGood?.sha256 || dep.force)
          await precheck(depId, stack, secrets, redact, src.state, controller.signal);
        version = upsertVersion(stack.id, src.state, src.commit);
        commit = src.commit ?? null;
      }
      commit ??= version.gitCommit;
      updateDeployment(db, depId, { versionId: version.id, gitCommit: commit });
      log(`version ${version.id} sha256 ${version.sha256}`);
      if (controller.signal.aborted) throw new StepError('aborted');

      // Identical content that already runs needs no config check and no pull: a no-op
      // redeploy converges containers only. `force` pulls anyway (a moved :latest tag).
      const unchanged = version.id === stack.currentVersionId && !dep.force && !dep.targetVersionId;
      if (unchanged)
        log(
          'content unchanged since the last good deploy: converging without pull (send "force": true to pull)',
        );
      // A rollback uses the images it ran with (up fetches only what is missing), so it
      // needs no registry round-trip.
      const res = await up(depId, stack, secrets, redact, version.state, controller.signal, {
        pull: !unchanged && !dep.targetVersionId,
        converge: unchanged,
      });
      if (res.ok) {
        const t = now();
        updateVersion(db, version.id, { lastDeployedAt: t, lastSucceededAt: t });
        updateStack(db, stack.id, {
          currentVersionId: version.id,
          deployedCommit: commit,
          updatedAt: t,
        });
        emit({ type: 'stack', stackId: stack.id });
        log('deployment succeeded');
        return finish(depId, 'succeeded');
      }
      if (!res.aborted) throw new StepError(res.error ?? 'the deployment failed');
      throw new StepError('aborted');
    } catch (err) {
      const reason = controller.signal.aborted
        ? (controller.signal.reason as AbortReason)
        : undefined;
      const message =
        reason === 'cancel'
          ? 'canceled'
          : reason === 'timeout'
            ? `timed out after ${stack.deployTimeoutSeconds} s`
            : reason === 'shutdown'
              ? 'simpledeploy was shut down during this deployment'
              : err instanceof StepError
                ? err.message
                : // A domain error (a path outside the stack dir, say) already says what to fix.
                  err instanceof AppError
                  ? redact(err.message)
                  : 'the deployment failed unexpectedly; the server log has the details';
      if (!(err instanceof StepError) && !(err instanceof AppError) && !reason)
        logger.error('deployment crashed', { depId, err });
      if (version) updateVersion(db, version.id, { lastDeployedAt: now() });
      log(`deployment ${reason ?? 'failed'}: ${message}`);
      const status: DeploymentStatus =
        reason === 'cancel' ? 'canceled' : reason === 'shutdown' ? 'interrupted' : 'failed';

      // Containers were not touched: the running version is still the good one.
      if (!touched.has(depId) || reason === 'shutdown') {
        if (previousGood && status === 'failed') log(`version ${previousGood.id} is still running`);
        return finish(depId, status, { error: message });
      }
      if (reason === 'cancel') {
        // The cancel ends now; re-applying the last good version is its own deployment
        // (trigger rollback), queued next for this stack, so the history shows it.
        if (!previousGood) return finish(depId, 'canceled', { error: message });
        const rb = enqueue(stack, { trigger: 'rollback', targetVersionId: previousGood.id });
        log(
          `compose was stopped mid-update; deployment ${rb.id} re-applies version ${previousGood.id}`,
        );
        return finish(depId, 'canceled', {
          error: `canceled during docker compose up; deployment ${rb.id} re-applies version ${previousGood.id}`,
        });
      }
      // Back to what ran when this deployment started, and never further: a failed re-apply
      // must not cascade into an older version the user had rolled away from.
      const good = stack.autoRollback ? previousGood : undefined;
      if (!good) return finish(depId, status, { error: message });
      const back = await reapply(depId, stack, secrets, redact, good);
      if (back.ok) {
        log(`rolled back to version ${good.id}`);
        return finish(depId, 'rolled_back', {
          error: `${message}; rolled back to version ${good.id}`,
        });
      }
      return finish(depId, 'failed', {
        error: `${message}; rolling back to version ${good.id} failed too: ${back.error ?? 'aborted'}`,
      });
    } finally {
      clock.clearTimeout(timer);
      active.delete(depId);
      touched.delete(depId);
    }
  }

  function enqueue(stack: StackRow, opts: DeployOptions & { targetVersionId?: string }) {
    if (closing)
      throw new AppError('UNAVAILABLE', 'simpledeploy is shutting down; try again in a moment');
    const row = insertDeployment(db, {
      id: ids('dep'),
      stackId: stack.id,
      status: 'queued',
      trigger: opts.trigger,
      ref: opts.ref ?? null,
      force: !!opts.force,
      targetVersionId: opts.targetVersionId ?? null,
      queuedAt: now(),
    });
    emit({ type: 'deployment', deployment: toDeploymentView(row) });
    schedule(row);
    return row;
  }

  return {
    logs: bus,

    /** Subscribes to deployment and stack state changes (the UI's push channel). */
    onChange(listener: (e: DeployerEvent) => void): () => void {
      emitter.on('change', listener);
      return () => emitter.off('change', listener);
    },

    /**
     * Queues a deployment. A trigger for a stack that already has one queued joins it
     * (`coalesced`), so a burst of webhooks runs at most one more deploy.
     */
    deploy(
      stackIdOrName: string,
      opts: DeployOptions,
    ): { deployment: DeploymentView; coalesced: boolean } {
      const stack = requireStack(stackIdOrName);
      // A trigger with its own ref or force asks for something the queued one may not do.
      const queued =
        opts.ref || opts.force
          ? undefined
          : findStackDeploymentsByStatus(db, stack.id, ['queued']).find(
              (d) => d.trigger !== 'rollback',
            );
      if (queued) return { deployment: toDeploymentView(queued), coalesced: true };
      return { deployment: toDeploymentView(enqueue(stack, opts)), coalesced: false };
    },

    /** Re-applies an earlier version; by default the last good one before the current. */
    rollback(stackIdOrName: string, versionId?: string): DeploymentView {
      const stack = requireStack(stackIdOrName);
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

    cancel(id: string): DeploymentView {
      const dep = requireDeployment(id);
      if (dep.status === 'queued') {
        finish(id, 'canceled', { error: 'canceled before it started' });
        return toDeploymentView(requireDeployment(id));
      }
      const a = active.get(id);
      if (dep.status === 'running' && a) {
        a.controller.abort('cancel' satisfies AbortReason);
        return toDeploymentView(dep);
      }
      throw conflict(`deployment ${id} has already ended (${dep.status})`, { status: dep.status });
    },

    /** Cancels the stack's running deployment, else its queued one. */
    cancelStack(stackIdOrName: string): DeploymentView {
      const stack = requireStack(stackIdOrName);
      const open = findStackDeploymentsByStatus(db, stack.id, ['running', 'queued']);
      const target = open.find((d) => d.status === 'running') ?? open[0];
      if (!target) throw conflict(`stack ${stack.name} has no running or queued deployment`);
      return this.cancel(target.id);
    },

    /** Resolves when the deployment has ended (at once if it already has). */
    waitFor(id: string): Promise<DeploymentView> {
      const dep = requireDeployment(id);
      if (dep.status !== 'queued' && dep.status !== 'running')
        return Promise.resolve(toDeploymentView(dep));
      return new Promise((resolve) => {
        const list = waiters.get(id) ?? [];
        list.push(resolve);
        waiters.set(id, list);
      });
    },

    getDeployment(id: string): DeploymentDetail {
      const dep = requireDeployment(id);
      const live = bus.lines(id);
      return { ...toDeploymentView(dep), log: live ?? dep.log ?? [] };
    },

    /** The stored log, for deployments the bus no longer holds. */
    storedLog(id: string): { lines: LogLine[]; status: DeploymentStatus } {
      const dep = requireDeployment(id);
      return { lines: bus.lines(id) ?? dep.log ?? [], status: dep.status };
    },

    listDeployments(stackIdOrName: string): DeploymentView[] {
      const stack = requireStack(stackIdOrName);
      return listDeployments(db, stack.id, 50).map(toDeploymentView);
    },

    /** The stack's running deployment, else its latest. */
    currentDeploymentId(stackIdOrName: string): string {
      const stack = requireStack(stackIdOrName);
      const open = findStackDeploymentsByStatus(db, stack.id, ['running']);
      const id = open[0]?.id ?? listDeployments(db, stack.id, 1)[0]?.id;
      if (!id) throw notFound('deployment for stack', stack.name);
      return id;
    },

    listVersions(stackIdOrName: string): VersionView[] {
      const stack = requireStack(stackIdOrName);
      return listVersions(db, stack.id).map((v) => toVersionView(v, stack.currentVersionId));
    },

    getVersion(stackIdOrName: string, versionId: string) {
      const stack = requireStack(stackIdOrName);
      const v = getVersion(db, stack.id, versionId);
      if (!v) throw notFound('version', versionId);
      const redact = stackRedactor(decryptSecrets(stack, deps.secrets), deps.redact);
      const redactRecord = (r: Record<string, string>) =>
        Object.fromEntries(Object.entries(r).map(([k, val]) => [k, redact(val)]));
      return {
        ...toVersionView(v, stack.currentVersionId),
        compose_files: v.state.composeFiles,
        env_file: v.state.envFile ?? null,
        services: v.state.services,
        files: redactRecord(v.state.files),
        variables: redactRecord(v.state.variables),
      };
    },

    stats(stackIdOrName: string) {
      const stack = requireStack(stackIdOrName);
      const s = stackStats(db, stack.id);
      const last = listDeployments(db, stack.id, 20).find((d) => d.finishedAt);
      return {
        deployments_total: s.total,
        succeeded: s.succeeded,
        failed: s.failed,
        canceled: s.canceled,
        last_deployed_at: last?.finishedAt ?? null,
        last_status: last?.status ?? null,
        mean_duration_ms: s.meanDurationMs === null ? null : Math.round(s.meanDurationMs),
      };
    },

    /** Containers of the stack's compose project, from the engine. */
    async services(stackIdOrName: string) {
      const stack = requireStack(stackIdOrName);
      const res = await runner.run(
        docker,
        composeProjectArgs(project(stack), 'ps', ['--all', '--format', 'json']),
        {
          env: config.childEnv,
        },
      );
      if (res.exitCode !== 0) {
        throw new AppError(
          'UNAVAILABLE',
          `cannot list the containers of ${stack.name}: the Docker engine did not answer`,
          {
            reason: tail(res.stderr, rowRedactor(stack, deps.secrets, deps.redact)),
          },
        );
      }
      return parsePsJson(res.stdout);
    },

    /**
     * Marks deployments a previous process left queued or running as interrupted, so no
     * deployment stays "running" forever after a crash. Returns how many it marked.
     */
    /** Removes the session files (registry logins) a killed process left behind. */
    clearSessions: () => clearRunDir(runDir),

    /** The policy in force for a stack, and the server's. */
    policyFor,
    serverPolicy,

    /**
     * Judges a stack that is not saved yet (inline create or update) on compose's model of
     * its files, in a scratch directory; throws `POLICY` with every violation.
     */
    async judge(
      draft: Pick<StackRow, 'name' | 'policyExceptions'>,
      state: DesiredState,
    ): Promise<{ model: unknown; root: string }> {
      const s = await scratchSession(draft.name, state);
      try {
        const verdict = await checkPolicy(s, {
          runner,
          docker,
          policy: mergeExceptions(serverPolicy, draft.policyExceptions ?? []),
          describeFailure: (stderr) => tail(stderr, deps.redact),
        });
        if (verdict.ok) return { model: verdict.model, root: s.dir };
        if ('error' in verdict) throw validation(verdict.error, { field: 'compose' });
        throw policyError(verdict.violations);
      } finally {
        await s.dispose();
      }
    },

    scratchSession,

    /** Throws `POLICY` when a session's files are not allowed for the stack (lifecycle commands). */
    async gateSession(stack: StackRow, s: ComposeSession): Promise<void> {
      const verdict = await checkPolicy(s, {
        runner,
        docker,
        policy: policyFor(stack),
        describeFailure: (stderr) => tail(stderr, rowRedactor(stack, deps.secrets, deps.redact)),
      });
      if (verdict.ok) return;
      if ('error' in verdict) throw validation(verdict.error);
      throw policyError(verdict.violations);
    },

    /**
     * A session in the stack's deploy dir over one of its versions (lifecycle commands).
     * Not judged here: only a version a deploy judged is ever current.
     */
    openSession: (stack: StackRow, secrets: StackSecrets, state: DesiredState) =>
      session(stack, secrets, state, join(stackDir(stack.id), 'deploy')),

    recoverInterrupted(): number {
      const stale = findDeploymentsByStatus(db, ['queued', 'running']);
      for (const d of stale) {
        updateDeployment(db, d.id, {
          status: 'interrupted',
          finishedAt: now(),
          error:
            d.status === 'running'
              ? 'simpledeploy stopped while this deployment was running; it did not finish'
              : 'simpledeploy stopped before this queued deployment started',
        });
      }
      if (stale.length)
        logger.warn('marked deployments interrupted by a restart', { count: stale.length });
      return stale.length;
    },

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

    /** Project name of a stack, for callers that run their own compose commands. */
    projectOf: project,
    stackDir,
    chain,
    requireStack,
    emit,

    isBusy(stackId: string): boolean {
      return findStackDeploymentsByStatus(db, stackId, ['queued', 'running']).length > 0;
    },

    /** Stops taking work, interrupts what runs, and waits (bounded) for the chains to settle. */
    async shutdown(timeoutMs = 15_000): Promise<void> {
      closing = true;
      for (const d of findDeploymentsByStatus(db, ['queued'])) {
        finish(d.id, 'interrupted', {
          error: 'simpledeploy was shut down before this deployment started',
        });
      }
      for (const a of active.values()) a.controller.abort('shutdown' satisfies AbortReason);
      const all = Promise.allSettled([...chains.values()]);
      await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    },

    /** Removes a stack's working files (the row is deleted by the caller). */
    async removeFiles(stackId: string) {
      await rm(stackDir(stackId), { recursive: true, force: true });
    },
  };
}

export type Deployer = ReturnType<typeof createDeployer>;
