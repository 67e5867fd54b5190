import type { DeploymentStatus, LogLine, StackStatus, Trigger } from '@simpledeploy/core';
import type {
  CommandRow,
  DeploymentRow,
  DeploymentSummary,
  StackRow,
  VersionRow,
} from '@simpledeploy/db';
import type { CommitStatusKind } from './stack-input';
import type { StackSecrets } from './stack-secrets';

/** The API's deployment object (api.md, snake_case). */
export interface DeploymentView {
  id: string;
  stack_id: string;
  status: DeploymentStatus;
  trigger: Trigger;
  ref: string | null;
  git_commit: string | null;
  version_id: string | null;
  error: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

export interface DeploymentDetail extends DeploymentView {
  log: LogLine[];
}

export const toDeploymentView = (d: DeploymentSummary | DeploymentRow): DeploymentView => ({
  id: d.id,
  stack_id: d.stackId,
  status: d.status,
  trigger: d.trigger,
  ref: d.ref,
  git_commit: d.gitCommit,
  version_id: d.versionId,
  error: d.error,
  queued_at: d.queuedAt,
  started_at: d.startedAt,
  finished_at: d.finishedAt,
  duration_ms: d.durationMs,
});

export interface VersionView {
  id: string;
  sha256: string;
  git_commit: string | null;
  created_at: string;
  last_deployed_at: string | null;
  last_succeeded_at: string | null;
  current: boolean;
}

export const toVersionView = (v: VersionRow, currentId: string | null): VersionView => ({
  id: v.id,
  sha256: v.sha256,
  git_commit: v.gitCommit,
  created_at: v.createdAt,
  last_deployed_at: v.lastDeployedAt,
  last_succeeded_at: v.lastSucceededAt,
  current: v.id === currentId,
});

export interface CommandView {
  id: string;
  stack_id: string;
  kind: string;
  detail: Record<string, unknown>;
  status: string;
  exit_code: number | null;
  output: string | null;
  created_at: string;
}

export const toCommandView = (e: CommandRow): CommandView => ({
  id: e.id,
  stack_id: e.stackId,
  kind: e.kind,
  detail: e.detail,
  status: e.status,
  exit_code: e.exitCode,
  output: e.output,
  created_at: e.createdAt,
});

export interface StackView {
  id: string;
  /** A random UUID; `{stack}` in a path accepts it too (Supervisor's stack id). */
  uuid: string;
  name: string;
  source: 'inline' | 'git';
  compose: string | null;
  repo_url: string | null;
  repo_username: string | null;
  repo_branch: string | null;
  compose_path: string | null;
  compose_includes: string[];
  compose_variables: Record<string, string>;
  service_filter: string[];
  /** Host policy rules and host path prefixes this stack may use beyond the server's policy. */
  policy_exceptions: string[];
  /** `stop-first` (compose's recreate) or `start-first` (new containers beside the old ones). */
  update_order: 'stop-first' | 'start-first';
  /** The host the stack runs on (its name; `local` is the server's own engine). */
  host: string;
  engine: 'compose' | 'swarm';
  auto_deploy: boolean;
  reconcile_interval_seconds: number;
  auto_rollback: boolean;
  auto_update: boolean;
  update_check_interval_seconds: number;
  /** The last image update check: when, and how many services have a newer digest. */
  image_updates: { checked_at: string | null; available: number };
  commit_status: CommitStatusKind;
  commit_status_api_url: string | null;
  deploy_timeout_seconds: number;
  docker_registry: string | null;
  docker_username: string | null;
  registries: { registry: string; username: string; has_password: boolean }[];
  has_repo_token: boolean;
  has_webhook_secret: boolean;
  /** A header of the stack's own that carries the webhook's HMAC, besides the git hosts' headers. */
  webhook_signature_header: string | null;
  has_docker_password: boolean;
  status: StackStatus;
  last_deployment: { id: string; status: DeploymentStatus; finished_at: string | null } | null;
  current_version_id: string | null;
  deployed_commit: string | null;
  remote_commit: string | null;
  behind: boolean;
  poll: { last_poll_at: string | null; last_error: string | null; failures: number };
  created_at: string;
  updated_at: string;
}

export function toStackView(
  row: StackRow,
  secrets: StackSecrets,
  status: StackStatus,
  last: DeploymentSummary | undefined,
): StackView {
  const reg = secrets.registries;
  return {
    id: row.id,
    uuid: row.uuid ?? row.id,
    name: row.name,
    source: row.repoUrl ? 'git' : 'inline',
    compose: row.compose,
    repo_url: row.repoUrl,
    repo_username: row.repoUsername,
    repo_branch: row.repoBranch,
    compose_path: row.composePath,
    compose_includes: row.composeIncludes,
    compose_variables: row.composeVariables,
    service_filter: row.serviceFilter,
    policy_exceptions: row.policyExceptions ?? [],
    update_order: row.updateOrder ?? 'stop-first',
    host: row.hostId,
    engine: row.engine ?? 'compose',
    auto_deploy: row.autoDeploy,
    reconcile_interval_seconds: row.reconcileIntervalSeconds,
    auto_rollback: row.autoRollback,
    auto_update: row.autoUpdate ?? false,
    update_check_interval_seconds: row.updateCheckIntervalSeconds ?? 0,
    image_updates: {
      checked_at: row.updateCheck?.checked_at ?? null,
      available: row.updateCheck?.services.filter((s) => s.update_available).length ?? 0,
    },
    commit_status: row.commitStatus ?? 'auto',
    commit_status_api_url: row.commitStatusApiUrl ?? null,
    deploy_timeout_seconds: row.deployTimeoutSeconds,
    docker_registry: reg.docker?.registry ?? null,
    docker_username: reg.docker?.username ?? null,
    registries: reg.extra.map((r) => ({
      registry: r.registry,
      username: r.username,
      has_password: !!r.password,
    })),
    has_repo_token: !!secrets.repoToken,
    has_webhook_secret: !!secrets.webhookSecret,
    webhook_signature_header: row.webhookSignatureHeader,
    has_docker_password: !!reg.docker?.password,
    status,
    last_deployment: last
      ? { id: last.id, status: last.status, finished_at: last.finishedAt }
      : null,
    current_version_id: row.currentVersionId,
    deployed_commit: row.deployedCommit,
    remote_commit: row.remoteCommit,
    behind: !!row.repoUrl && !!row.remoteCommit && row.remoteCommit !== row.deployedCommit,
    poll: {
      last_poll_at: row.lastPollAt,
      last_error: row.lastPollError,
      failures: row.pollFailures,
    },
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
