import { describe, expect, it } from 'vitest';
import { createPromMetrics } from './prom-metrics';

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('createPromMetrics', () => {
  it('counts ended deployments by status and trigger and observes their duration', async () => {
    const m = createPromMetrics({ version: 't' });
    m.deploymentEnded({ status: 'succeeded', trigger: 'manual', durationSeconds: 4 });
    m.deploymentEnded({ status: 'succeeded', trigger: 'manual', durationSeconds: 40 });
    m.deploymentEnded({ status: 'canceled', trigger: 'webhook', durationSeconds: null });
    const text = await m.render();
    expect(value(text, 'simpledeploy_deployments_total{status="succeeded",trigger="manual"}')).toBe(
      2,
    );
    expect(value(text, 'simpledeploy_deployments_total{status="canceled",trigger="webhook"}')).toBe(
      1,
    );
    // A deployment that never started has no duration to observe.
    expect(value(text, 'simpledeploy_deployment_duration_seconds_count')).toBe(2);
    expect(value(text, 'simpledeploy_deployment_duration_seconds_sum')).toBe(44);
    expect(value(text, 'simpledeploy_deployment_duration_seconds_bucket{le="5"}')).toBe(1);
    expect(value(text, 'simpledeploy_deployment_duration_seconds_bucket{le="60"}')).toBe(2);
  });

  it('reads the queue gauges on each scrape', async () => {
    const m = createPromMetrics({ version: 't' });
    let sample = { queued: 3, running: 1 };
    m.observeQueue(() => sample);
    let text = await m.render();
    expect(value(text, 'simpledeploy_queue_depth')).toBe(3);
    expect(value(text, 'simpledeploy_deployments_running')).toBe(1);
    sample = { queued: 0, running: 2 };
    text = await m.render();
    expect(value(text, 'simpledeploy_queue_depth')).toBe(0);
    expect(value(text, 'simpledeploy_deployments_running')).toBe(2);
  });

  it('keeps the setters others feed: image updates and host health', async () => {
    const m = createPromMetrics({ version: 't' });
    m.setImageUpdatesAvailable(5);
    m.setHostUp('local', true);
    m.setHostUp('edge-1', false);
    m.pollFailed();
    m.webhookDelivery('queued');
    m.webhookDelivery('rejected');
    m.driftDetected();
    let text = await m.render();
    expect(value(text, 'simpledeploy_image_updates_available')).toBe(5);
    expect(value(text, 'simpledeploy_host_up{host="local"}')).toBe(1);
    expect(value(text, 'simpledeploy_host_up{host="edge-1"}')).toBe(0);
    expect(value(text, 'simpledeploy_poll_failures_total')).toBe(1);
    expect(value(text, 'simpledeploy_webhook_deliveries_total{result="rejected"}')).toBe(1);
    expect(value(text, 'simpledeploy_drift_detected_total')).toBe(1);
    m.removeHost('edge-1');
    text = await m.render();
    expect(value(text, 'simpledeploy_host_up{host="edge-1"}')).toBeUndefined();
  });

  it('gives each server its own registry', async () => {
    const a = createPromMetrics({ version: 'a' });
    const b = createPromMetrics({ version: 'b' });
    a.pollFailed();
    expect(value(await a.render(), 'simpledeploy_poll_failures_total')).toBe(1);
    expect(value(await b.render(), 'simpledeploy_poll_failures_total')).toBe(0);
    expect(await b.render()).toMatch(/^process_cpu_user_seconds_total /m);
  });
});
