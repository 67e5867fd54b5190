import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { describeRoute } from '../openapi';

const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function metric(name: string, type: 'counter' | 'gauge', help: string, value: number | string) {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
}

/** Process metrics in the Prometheus text exposition format (no client library needed for these). */
export function processMetrics(version: string): string {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  // timeOrigin is when this process started, in ms since the epoch.
  const startSeconds = Math.round(performance.timeOrigin / 1000);
  return [
    `# HELP simpledeploy_build_info simpledeploy's version.\n# TYPE simpledeploy_build_info gauge\nsimpledeploy_build_info{version="${escapeLabel(version)}"} 1\n`,
    metric(
      'process_cpu_user_seconds_total',
      'counter',
      'User CPU time spent, in seconds.',
      cpu.user / 1e6,
    ),
    metric(
      'process_cpu_system_seconds_total',
      'counter',
      'System CPU time spent, in seconds.',
      cpu.system / 1e6,
    ),
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size, in bytes.', mem.rss),
    metric(
      'process_start_time_seconds',
      'gauge',
      'Start time of the process since the Unix epoch, in seconds.',
      startSeconds,
    ),
    metric('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size, in bytes.', mem.heapTotal),
    metric('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used, in bytes.', mem.heapUsed),
    metric(
      'nodejs_external_memory_bytes',
      'gauge',
      'Memory of C++ objects bound to JavaScript, in bytes.',
      mem.external,
    ),
  ].join('');
}

/** `GET /metrics`, open without a key: process metrics plus whatever deps.metrics adds. */
export function metricsRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get(
    '/metrics',
    describeRoute({
      id: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag: 'health',
      auth: 'open',
      responses: { 200: { description: 'Prometheus text format', type: 'text/plain' } },
    }),
    async (c) => {
      const extra = deps.metrics ? await deps.metrics() : '';
      const body =
        processMetrics(deps.version) + (extra && !extra.endsWith('\n') ? `${extra}\n` : extra);
      return c.body(body, 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    },
  );
}
