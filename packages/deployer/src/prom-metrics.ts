import type { Metrics, QueueSample } from '@simpledeploy/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Deploys take from a second (a no-op `up`) to many minutes (builds, slow health checks). */
const DURATION_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600];

/** The Metrics port on prom-client, plus what `GET /metrics` needs to render it. */
export interface PromMetrics extends Metrics {
  /** The exposition format's content type (Prometheus text 0.0.4). */
  readonly contentType: string;
  /** Every metric of this server in the exposition format. */
  render(): Promise<string>;
}

/**
 * The server's metrics on a Registry of its own (never prom-client's global one), so
 * tests and several servers in one process do not share counters or clash on names.
 * Process metrics are prom-client's default set.
 */
export function createPromMetrics(opts: { version: string }): PromMetrics {
  const registry = new Registry();
  // The event loop delay is sampled once a second, not prom-client's default every 10 ms:
  // that timer woke an idle server 100 times a second (0.5-0.8 % of a core spent doing
  // nothing, the whole idle baseline of the polling bench). The lag percentiles stay,
  // from 60 samples a minute.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  const registers = [registry];

  new Gauge({
    name: 'simpledeploy_build_info',
    help: "simpledeploy's version (always 1).",
    labelNames: ['version'],
    registers,
  }).set({ version: opts.version }, 1);

  const deployments = new Counter({
    name: 'simpledeploy_deployments_total',
    help: 'Deployments that ended since the process started, by end status and trigger.',
    labelNames: ['status', 'trigger'],
    registers,
  });
  const duration = new Histogram({
    name: 'simpledeploy_deployment_duration_seconds',
    help: 'How long deployments ran, from start to end, in seconds.',
    buckets: DURATION_BUCKETS,
    registers,
  });
  let sample: () => QueueSample = () => ({ queued: 0, running: 0 });
  new Gauge({
    name: 'simpledeploy_queue_depth',
    help: 'Deployments queued and waiting to start.',
    registers,
    collect() {
      this.set(sample().queued);
    },
  });
  new Gauge({
    name: 'simpledeploy_deployments_running',
    help: 'Deployments running now.',
    registers,
    collect() {
      this.set(sample().running);
    },
  });
  const pollFailures = new Counter({
    name: 'simpledeploy_poll_failures_total',
    help: "Polls of a stack's git remote that failed, since the process started.",
    registers,
  });
  const webhooks = new Counter({
    name: 'simpledeploy_webhook_deliveries_total',
    help: 'Git-host webhook deliveries since the process started, by result (queued, ignored, ping, rejected, error).',
    labelNames: ['result'],
    registers,
  });
  const drift = new Counter({
    name: 'simpledeploy_drift_detected_total',
    help: "Times a stack's containers were found drifted from its version (a new or changed drift), since the process started.",
    registers,
  });
  const updates = new Gauge({
    name: 'simpledeploy_image_updates_available',
    help: 'Services whose image has a newer digest in its registry than the running container.',
    registers,
  });
  const hostUp = new Gauge({
    name: 'simpledeploy_host_up',
    help: 'Whether a Docker host answered its last probe (1) or not (0).',
    labelNames: ['host'],
    registers,
  });

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    deploymentEnded(e) {
      deployments.inc({ status: e.status, trigger: e.trigger });
      if (e.durationSeconds !== null && e.durationSeconds >= 0) duration.observe(e.durationSeconds);
    },
    observeQueue(fn) {
      sample = fn;
    },
    pollFailed: () => pollFailures.inc(),
    webhookDelivery: (result) => webhooks.inc({ result }),
    driftDetected: () => drift.inc(),
    setImageUpdatesAvailable: (count) => updates.set(count),
    setHostUp: (host, up) => hostUp.set({ host }, up ? 1 : 0),
    removeHost: (host) => hostUp.remove({ host }),
  };
}
