import {
  type Clock,
  type DeploymentStatus,
  type Logger,
  type LogLine,
  notFound,
  type Redact,
  type SecretBox,
} from '@simpledeploy/core';
import {
  type Db,
  findDeploymentsByStatus,
  findStackDeploymentsByStatus,
  getVersion,
  listDeployments,
  listVersions,
  stackStats,
  updateDeployment,
} from '@simpledeploy/db';
import type { LogBus } from './log-bus';
import type { StackLocator } from './stack-locator';
import { decryptSecrets, stackRedactor } from './stack-secrets';
import {
  type DeploymentDetail,
  type DeploymentView,
  toDeploymentView,
  toVersionView,
  type VersionView,
} from './views';

export interface HistoryDeps {
  db: Db;
  logs: LogBus;
  locator: StackLocator;
  secrets: SecretBox;
  redact: Redact;
}

/** What happened: deployments with their logs, versions, and the numbers of a stack. */
export function createHistory(deps: HistoryDeps) {
  const { db, logs, locator } = deps;
  return {
    getDeployment(id: string): DeploymentDetail {
      const dep = locator.requireDeployment(id);
      const live = logs.lines(id);
      return { ...toDeploymentView(dep), log: live ?? dep.log ?? [] };
    },

    /** The stored log, for deployments the bus no longer holds. */
    storedLog(id: string): { lines: LogLine[]; status: DeploymentStatus } {
      const dep = locator.requireDeployment(id);
      return { lines: logs.lines(id) ?? dep.log ?? [], status: dep.status };
    },

    listDeployments(stackIdOrName: string): DeploymentView[] {
      const stack = locator.requireStack(stackIdOrName);
      return listDeployments(db, stack.id, 50).map(toDeploymentView);
    },

    /** The stack's running deployment, else its latest. */
    currentDeploymentId(stackIdOrName: string): string {
      const stack = locator.requireStack(stackIdOrName);
      const open = findStackDeploymentsByStatus(db, stack.id, ['running']);
      const id = open[0]?.id ?? listDeployments(db, stack.id, 1)[0]?.id;
      if (!id) throw notFound('deployment for stack', stack.name);
      return id;
    },

    listVersions(stackIdOrName: string): VersionView[] {
      const stack = locator.requireStack(stackIdOrName);
      return listVersions(db, stack.id).map((v) => toVersionView(v, stack.currentVersionId));
    },

    getVersion(stackIdOrName: string, versionId: string) {
      const stack = locator.requireStack(stackIdOrName);
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
      const stack = locator.requireStack(stackIdOrName);
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

    isBusy(stackId: string): boolean {
      return findStackDeploymentsByStatus(db, stackId, ['queued', 'running']).length > 0;
    },
  };
}

/**
 * Marks deployments a previous process left queued or running as interrupted, so no
 * deployment stays "running" forever after a crash. Returns how many it marked.
 */
export function recoverInterrupted(db: Db, clock: Clock, logger: Logger): number {
  const stale = findDeploymentsByStatus(db, ['queued', 'running']);
  for (const d of stale) {
    updateDeployment(db, d.id, {
      status: 'interrupted',
      finishedAt: clock.now().toISOString(),
      error:
        d.status === 'running'
          ? 'simpledeploy stopped while this deployment was running; it did not finish'
          : 'simpledeploy stopped before this queued deployment started',
    });
  }
  if (stale.length)
    logger.warn('marked deployments interrupted by a restart', { count: stale.length });
  return stale.length;
}
