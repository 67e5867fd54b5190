import type { DeploymentStatus, Trigger } from './types';

/** How one git-host webhook delivery ended: simpledeploy_webhook_deliveries_total{result}. */
export type WebhookResult = 'queued' | 'ignored' | 'ping' | 'rejected' | 'error';

/** Deployments waiting for a slot and deployments running, read when Prometheus scrapes. */
export interface QueueSample {
  queued: number;
  running: number;
}

/**
 * What the server counts for `GET /metrics` (api.md "Metrics"). Counters count since the
 * process started, as Prometheus expects of a counter (`rate()` handles the reset). The
 * prom-client adapter lives in @simpledeploy/deployer; `noopMetrics` is for tests and
 * callers built without one.
 */
export interface Metrics {
  /** A deployment reached an end state; the duration (seconds) is null when it never started. */
  deploymentEnded(e: {
    status: DeploymentStatus;
    trigger: Trigger;
    durationSeconds: number | null;
  }): void;
  /** Where queue depth and running deployments come from (read on every scrape). */
  observeQueue(sample: () => QueueSample): void;
  /** A poll of a stack's git remote failed. */
  pollFailed(): void;
  webhookDelivery(result: WebhookResult): void;
  /** A stack's containers drifted from its version (counted when the drift appears or changes). */
  driftDetected(): void;
  /** Services (across stacks) whose registry digest differs from the running one. */
  setImageUpdatesAvailable(count: number): void;
  /** Whether a Docker host answered its last probe. */
  setHostUp(host: string, up: boolean): void;
  /** Forgets a host's gauge (a deleted host). */
  removeHost(host: string): void;
}

const nothing = () => {};

export const noopMetrics: Metrics = {
  deploymentEnded: nothing,
  observeQueue: nothing,
  pollFailed: nothing,
  webhookDelivery: nothing,
  driftDetected: nothing,
  setImageUpdatesAvailable: nothing,
  setHostUp: nothing,
  removeHost: nothing,
};
