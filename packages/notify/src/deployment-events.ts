import type { Notification, NotificationEvent } from '@simpledeploy/core';

/** The fields of a deployment a notification needs (the deployer's DeploymentView has them). */
export interface FinishedDeployment {
  id: string;
  stack_id: string;
  status: string;
  trigger: string;
  ref: string | null;
  git_commit: string | null;
  version_id: string | null;
  error: string | null;
  duration_ms: number | null;
}

const EVENTS: Record<string, NotificationEvent> = {
  succeeded: 'deployment.succeeded',
  failed: 'deployment.failed',
  rolled_back: 'deployment.rolled_back',
  canceled: 'deployment.canceled',
};

/**
 * The notification for a deployment that just ended, or undefined for statuses that
 * are not events (queued, running, and interrupted, which is a restart's bookkeeping).
 */
export function deploymentNotification(
  d: FinishedDeployment,
  stackName: string,
): Notification | undefined {
  const event = EVENTS[d.status];
  if (!event) return undefined;
  const what = d.git_commit ? ` of ${d.git_commit.slice(0, 12)}` : '';
  const seconds = d.duration_ms === null ? '' : ` in ${(d.duration_ms / 1000).toFixed(1)} s`;
  const message =
    d.status === 'succeeded'
      ? `Deployment${what} of ${stackName} succeeded${seconds}.`
      : d.status === 'canceled'
        ? `Deployment${what} of ${stackName} was canceled.`
        : d.status === 'rolled_back'
          ? `Deployment${what} of ${stackName} failed and was rolled back${d.error ? `: ${d.error}` : '.'}`
          : `Deployment${what} of ${stackName} failed${d.error ? `: ${d.error}` : '.'}`;
  return {
    event,
    stack: d.stack_id,
    deployment: d.id,
    message,
    details: {
      status: d.status,
      trigger: d.trigger,
      ref: d.ref,
      git_commit: d.git_commit,
      version_id: d.version_id,
      error: d.error,
      duration_ms: d.duration_ms,
    },
  };
}
