import { join } from 'node:path';
import {
  AppError,
  type Clock,
  canonicalJson,
  type DeploymentStatus,
  type DesiredState,
  type Logger,
  type Redact,
  type SecretBox,
  sha256,
} from '@simpledeploy/core';
import {
  type Db,
  type DeploymentRow,
  findStack,
  findVersionBySha,
  getDeployment,
  getVersion,
  insertVersion,
  type StackRow,
  updateDeployment,
  updateStack,
  updateVersion,
  type VersionRow,
} from '@simpledeploy/db';
import { type Applied, type Applier, type DeployTarget, StepError } from './apply';
import type { ChangeBus } from './change-bus';
import type { AbortReason, DeployQueue } from './deploy-queue';
import type { LogBus } from './log-bus';
import type { SourceResolver } from './sources';
import type { StackLocator } from './stack-locator';
import { decryptSecrets, type StackSecrets, stackRedactor } from './stack-secrets';
import { toDeploymentView } from './views';

export interface PipelineDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  redact: Redact;
  sources: SourceResolver;
  logs: LogBus;
  changes: ChangeBus;
  locator: StackLocator;
  queue: DeployQueue;
  applier: Applier;
  ids: (prefix: string) => string;
  sleep: (ms: number) => Promise<void>;
  /** Queues the re-apply a cancel during `up` needs, as its own deployment. */
  enqueueReapply: (stack: StackRow, versionId: string) => DeploymentRow;
  reapplyAttempts: number;
  reapplyRetryDelayMs: number;
  /** After a move succeeded: the stack now runs on t.hostId; take it down on the old host. */
  moved: (t: DeployTarget, fromHostId: string) => Promise<void>;
  /** After a move failed: take down what started on the new host. */
  abandonMove: (t: DeployTarget) => Promise<void>;
  hostName: (hostId: string) => string;
}

/**
 * One deployment from start to end: resolve → judge on a fresh copy → record the version →
 * apply (gate, pull, build, up) → on failure, back to the version that ran when it started.
 */
export function createPipeline(deps: PipelineDeps) {
  const { db, clock, logs, changes, queue, applier } = deps;
  const now = () => clock.now().toISOString();

  function upsertVersion(stackId: string, state: DesiredState, commit?: string): VersionRow {
    const sha = sha256(canonicalJson(state));
    const existing = findVersionBySha(db, stackId, sha);
    if (existing) return existing;
    return insertVersion(db, {
      id: deps.ids('ver'),
      stackId,
      sha256: sha,
      gitCommit: commit ?? null,
      state,
      createdAt: now(),
    });
  }

  /**
   * Records a version as the one running, with the image digests it runs when the engine
   * reports them (Swarm): a later rollback to it runs exactly those, wherever the tags moved.
   */
  function markCurrent(
    stack: StackRow,
    version: VersionRow,
    commit: string | null,
    imageDigests?: Record<string, string>,
  ) {
    const t = now();
    updateVersion(db, version.id, {
      lastDeployedAt: t,
      lastSucceededAt: t,
      ...(imageDigests && Object.keys(imageDigests).length ? { imageDigests } : {}),
    });
    updateStack(db, stack.id, {
      currentVersionId: version.id,
      deployedCommit: commit,
      updatedAt: t,
    });
    changes.emit({ type: 'stack', stackId: stack.id });
  }

  /** Re-applies a known-good version, retrying while the engine finishes a killed recreate. */
  async function reapply(t: DeployTarget, good: VersionRow): Promise<Applied> {
    let last: Applied = { ok: false, aborted: false };
    for (let attempt = 1; attempt <= deps.reapplyAttempts; attempt++) {
      logs.append(
        t.depId,
        'system',
        `re-applying version ${good.id} (${good.sha256.slice(0, 12)}), attempt ${attempt}`,
        now(),
      );
      const controller = new AbortController();
      const timer = clock.setTimeout(() => controller.abort(), t.stack.deployTimeoutSeconds * 1000);
      try {
        last = await applier.up({ ...t, signal: controller.signal }, good.state, {
          pull: false,
          pin: good.imageDigests,
        });
      } finally {
        clock.clearTimeout(timer);
      }
      if (last.ok) {
        markCurrent(t.stack, good, good.gitCommit, last.imageDigests);
        return last;
      }
      if (attempt < deps.reapplyAttempts && deps.reapplyRetryDelayMs > 0)
        await deps.sleep(deps.reapplyRetryDelayMs);
    }
    return last;
  }

  /** The deployment's error, in one place: why it was aborted, or what went wrong. */
  function describeFailure(err: unknown, reason: AbortReason | undefined, t: DeployTarget) {
    if (reason === 'cancel') return 'canceled';
    if (reason === 'timeout') return `timed out after ${t.stack.deployTimeoutSeconds} s`;
    if (reason === 'shutdown') return 'simpledeploy was shut down during this deployment';
    if (err instanceof StepError) return err.message;
    // A domain error (a path outside the stack dir, say) already says what to fix.
    if (err instanceof AppError) return t.redact(err.message);
    deps.logger.error('deployment crashed', { depId: t.depId, err });
    return 'the deployment failed unexpectedly; the server log has the details';
  }

  /** Resolves what the deployment runs: a stored version (rollback), or the stack's source. */
  async function resolveVersion(dep: DeploymentRow, t: DeployTarget, previousGood?: VersionRow) {
    const log = (text: string) => logs.append(t.depId, 'system', t.redact(text), now());
    if (dep.targetVersionId) {
      const version = getVersion(db, t.stack.id, dep.targetVersionId);
      if (!version) throw new StepError(`version ${dep.targetVersionId} no longer exists`);
      log(
        t.hostId !== t.stack.hostId
          ? `moving to host ${deps.hostName(t.hostId)} with version ${version.id} (${version.sha256.slice(0, 12)})`
          : `rolling back to version ${version.id} (${version.sha256.slice(0, 12)})`,
      );
      // A version made under an older, looser policy is judged by today's.
      await applier.precheck(t, version.state);
      return { version, commit: version.gitCommit };
    }
    log(`resolving the ${t.stack.repoUrl ? 'git' : 'inline'} source of ${t.stack.name}`);
    const src = await deps.sources
      .resolve(t.stack, t.secrets, {
        ref: dep.ref ?? undefined,
        signal: t.signal,
        log,
        cacheDir: join(deps.locator.stackDir(t.stack.id), 'repo'),
      })
      .catch((err: unknown) => {
        if (t.signal.aborted) throw err;
        throw new StepError(
          err instanceof AppError ? t.redact(err.message) : 'reading the stack source failed',
        );
      });
    // A deploy of the tracked branch has just seen its head: the stack knows it too, so
    // remote_commit and behind are right even before (or without) a poll.
    if (!dep.ref && src.commit && t.stack.repoUrl && src.commit !== t.stack.remoteCommit)
      updateStack(db, t.stack.id, { remoteCommit: src.commit });
    // Before it becomes a version: what the policy refuses never runs and is never kept.
    if (sha256(canonicalJson(src.state)) !== previousGood?.sha256 || dep.force)
      await applier.precheck(t, src.state);
    // The commit this deploy runs: a reused version may have been recorded under an older
    // commit with the same content (a revert, an empty commit).
    const version = upsertVersion(t.stack.id, src.state, src.commit);
    return { version, commit: src.commit ?? version.gitCommit };
  }

  /** Runs one queued deployment to its end; never throws. */
  async function execute(depId: string): Promise<void> {
    const dep = getDeployment(db, depId);
    if (!dep || dep.status !== 'queued' || queue.closing) return;
    const stack = findStack(db, dep.stackId);
    if (!stack)
      return queue.finish(depId, 'failed', {
        error: 'the stack was deleted before this deployment started',
      });
    let secrets: StackSecrets;
    try {
      secrets = decryptSecrets(stack, deps.secrets);
    } catch (err) {
      return queue.finish(depId, 'failed', {
        error:
          err instanceof AppError
            ? err.message
            : 'cannot read the stack secrets: SIMPLEDEPLOY_SECRET_KEY may have changed; set the old key or enter the secrets again',
      });
    }
    const redact = stackRedactor(secrets, deps.redact);
    const controller = queue.start(depId, stack.id);
    const timer = clock.setTimeout(
      () => controller.abort('timeout' satisfies AbortReason),
      stack.deployTimeoutSeconds * 1000,
    );
    const t: DeployTarget = {
      depId,
      stack,
      secrets,
      redact,
      signal: controller.signal,
      hostId: dep.hostId ?? stack.hostId,
    };
    const started = updateDeployment(db, depId, { status: 'running', startedAt: now() });
    if (started) changes.emit({ type: 'deployment', deployment: toDeploymentView(started) });
    const log = (text: string) => logs.append(depId, 'system', redact(text), now());
    const previousGood = stack.currentVersionId
      ? getVersion(db, stack.id, stack.currentVersionId)
      : undefined;

    let version: VersionRow | undefined;
    try {
      const resolved = await resolveVersion(dep, t, previousGood);
      version = resolved.version;
      const resolvedRow = updateDeployment(db, depId, {
        versionId: version.id,
        gitCommit: resolved.commit,
      });
      // Listeners learn the commit and version as soon as they are known (commit statuses).
      if (resolvedRow)
        changes.emit({ type: 'deployment', deployment: toDeploymentView(resolvedRow) });
      log(`version ${version.id} sha256 ${version.sha256}`);
      if (controller.signal.aborted) throw new StepError('aborted');

      // Identical content that already runs needs no pull: a no-op redeploy converges
      // containers only. `force` pulls anyway (a moved :latest tag).
      const unchanged = version.id === stack.currentVersionId && !dep.force && !dep.targetVersionId;
      if (unchanged)
        log(
          'content unchanged since the last good deploy: converging without pull (send "force": true to pull)',
        );
      // A rollback uses the images it ran with (up fetches only what is missing), so it
      // needs no registry round-trip.
      const res = await applier.up(t, version.state, {
        pull: !unchanged && !dep.targetVersionId,
        converge: unchanged,
        pin: version.imageDigests,
      });
      if (res.ok) {
        markCurrent(stack, version, resolved.commit, res.imageDigests);
        if (t.hostId !== stack.hostId) await deps.moved(t, stack.hostId);
        log('deployment succeeded');
        return queue.finish(depId, 'succeeded');
      }
      throw new StepError(res.aborted ? 'aborted' : (res.error ?? 'the deployment failed'));
    } catch (err) {
      const reason = controller.signal.aborted
        ? (controller.signal.reason as AbortReason)
        : undefined;
      const message = describeFailure(err, reason, t);
      if (version) updateVersion(db, version.id, { lastDeployedAt: now() });
      log(`deployment ${reason ?? 'failed'}: ${message}`);
      const status: DeploymentStatus =
        reason === 'cancel' ? 'canceled' : reason === 'shutdown' ? 'interrupted' : 'failed';
      return recover(t, status, message, reason, previousGood);
    } finally {
      clock.clearTimeout(timer);
      queue.done(depId);
      applier.touched.delete(depId);
    }
  }

  /** After a failure: how the deployment ends, and on which version the stack is left. */
  async function recover(
    t: DeployTarget,
    status: DeploymentStatus,
    message: string,
    reason: AbortReason | undefined,
    previousGood: VersionRow | undefined,
  ): Promise<void> {
    const log = (text: string) => logs.append(t.depId, 'system', t.redact(text), now());
    // A failed move: the stack stays where it runs; what started on the new host goes.
    if (t.hostId !== t.stack.hostId) {
      if (applier.touched.has(t.depId)) await deps.abandonMove(t);
      return queue.finish(t.depId, status, {
        error: `${message}; the stack stays on host ${deps.hostName(t.stack.hostId)}`,
      });
    }
    // Containers were not touched: the running version is still the good one.
    if (!applier.touched.has(t.depId) || reason === 'shutdown') {
      if (previousGood && status === 'failed') log(`version ${previousGood.id} is still running`);
      return queue.finish(t.depId, status, { error: message });
    }
    if (reason === 'cancel') {
      // The cancel ends now; re-applying the running version is its own deployment
      // (trigger rollback), queued next for this stack, so the history shows it.
      if (!previousGood) return queue.finish(t.depId, 'canceled', { error: message });
      const rb = deps.enqueueReapply(t.stack, previousGood.id);
      log(
        `compose was stopped mid-update; deployment ${rb.id} re-applies version ${previousGood.id}`,
      );
      return queue.finish(t.depId, 'canceled', {
        error: `canceled during docker compose up; deployment ${rb.id} re-applies version ${previousGood.id}`,
      });
    }
    // Back to what ran when this deployment started, and never further: a failed re-apply
    // must not cascade into an older version the user had rolled away from.
    const good = t.stack.autoRollback ? previousGood : undefined;
    if (!good) return queue.finish(t.depId, status, { error: message });
    const back = await reapply(t, good);
    if (back.ok) {
      log(`rolled back to version ${good.id}`);
      return queue.finish(t.depId, 'rolled_back', {
        error: `${message}; rolled back to version ${good.id}`,
      });
    }
    return queue.finish(t.depId, 'failed', {
      error: `${message}; rolling back to version ${good.id} failed too: ${back.error ?? 'aborted'}`,
    });
  }

  return { execute };
}
