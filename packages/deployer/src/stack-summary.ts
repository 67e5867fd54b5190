import type { DeploymentStatus, Redact, StackStatus } from '@simpledeploy/core';
import type { DeploymentSummary, StackRow } from '@simpledeploy/db';

/**
 * What the web UI's stack list shows of a stack (`GET /api/v1/stacks?view=summary`):
 * no compose file, no variables, no registry logins, so the answer for 1000 stacks stays
 * small and nothing is decrypted to build it.
 */
export interface StackSummaryView {
  id: string;
  uuid: string;
  name: string;
  source: 'inline' | 'git';
  repo_url: string | null;
  repo_branch: string | null;
  status: StackStatus;
  last_deployment: { id: string; status: DeploymentStatus; finished_at: string | null } | null;
  current_version_id: string | null;
  deployed_commit: string | null;
  remote_commit: string | null;
  behind: boolean;
  auto_deploy: boolean;
  auto_update: boolean;
  /** The last image update check: services whose tag points at a newer digest. */
  image_updates: { checked_at: string | null; available: number };
  reconcile_interval_seconds: number;
  poll: { last_poll_at: string | null; last_error: string | null; failures: number };
  updated_at: string;
}

/** `redact` masks the stack's secrets in a poll error (a git error may quote a URL). */
export function toStackSummary(
  row: StackRow,
  status: StackStatus,
  last: DeploymentSummary | undefined,
  redact: () => Redact,
): StackSummaryView {
  return {
    id: row.id,
    uuid: row.uuid ?? row.id,
    name: row.name,
    source: row.repoUrl ? 'git' : 'inline',
    repo_url: row.repoUrl,
    repo_branch: row.repoBranch,
    status,
    last_deployment: last
      ? { id: last.id, status: last.status, finished_at: last.finishedAt }
      : null,
    current_version_id: row.currentVersionId,
    deployed_commit: row.deployedCommit,
    remote_commit: row.remoteCommit,
    behind: !!row.repoUrl && !!row.remoteCommit && row.remoteCommit !== row.deployedCommit,
    auto_deploy: row.autoDeploy,
    auto_update: row.autoUpdate ?? false,
    image_updates: {
      checked_at: row.updateCheck?.checked_at ?? null,
      available: row.updateCheck?.services.filter((s) => s.update_available).length ?? 0,
    },
    reconcile_interval_seconds: row.reconcileIntervalSeconds,
    poll: {
      last_poll_at: row.lastPollAt,
      last_error: row.lastPollError && redact()(row.lastPollError),
      failures: row.pollFailures,
    },
    updated_at: row.updatedAt,
  };
}
