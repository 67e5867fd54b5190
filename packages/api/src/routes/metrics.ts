import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { describeRoute } from '../openapi';

const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `GET /metrics`, open without a key: the server's registry in the Prometheus text
 * format (api.md "Metrics"). Without deps.metrics the body is empty.
 */
export function metricsRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get(
    '/metrics',
    describeRoute({
      id: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      description:
        'Process metrics and simpledeploy_deployments_total{status,trigger}, simpledeploy_deployment_duration_seconds, simpledeploy_queue_depth, simpledeploy_deployments_running, simpledeploy_poll_failures_total, simpledeploy_webhook_deliveries_total{result}, simpledeploy_drift_detected_total, simpledeploy_image_updates_available, simpledeploy_host_up{host}. Counters count since the process started.',
      tag: 'health',
      auth: 'open',
      responses: { 200: { description: 'Prometheus text format', type: 'text/plain' } },
    }),
    async (c) => {
      const m = deps.metrics;
      if (!m) return c.body('', 200, { 'Content-Type': TEXT_FORMAT });
      return c.body(await m.render(), 200, { 'Content-Type': m.contentType });
    },
  );
}
