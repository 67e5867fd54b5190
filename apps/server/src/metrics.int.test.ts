import { createHmac } from 'node:crypto';
import { cleanupProject, parsePrometheusText, sampleValue } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, registryFields, startInProcessServer, until } from './test-server';

const registry = inject('registry');
const images = inject('images');
const SECRET = 'metrics-webhook-secret-0123';

let server: InProcessServer;
const made: string[] = [];

async function scrape() {
  const res = await fetch(`${server.base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return parsePrometheusText(await res.text());
}

async function createStack(name: string, image: string) {
  made.push(name);
  const res = await server.api('POST', '/api/v1/stacks', {
    name,
    compose: `services:\n  app:\n    image: ${image}\n`,
    webhook_secret: SECRET,
    ...registryFields(registry),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
}

beforeAll(async () => {
  server = await startInProcessServer();
});

afterAll(async () => {
  for (const name of made) await cleanupProject(`${server.prefix}-${name}`);
  await server?.stop();
});

describe('GET /metrics on the real server', () => {
  it('counts a deploy, a failed deploy and webhook deliveries in the exposition format', async () => {
    const before = await scrape();
    // Every name api.md lists is there from the start (labelled ones once they have a series).
    for (const name of [
      'simpledeploy_deployments_total',
      'simpledeploy_deployment_duration_seconds',
      'simpledeploy_queue_depth',
      'simpledeploy_deployments_running',
      'simpledeploy_poll_failures_total',
      'simpledeploy_webhook_deliveries_total',
      'simpledeploy_drift_detected_total',
      'simpledeploy_image_updates_available',
      'simpledeploy_host_up',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(before.has(name), name).toBe(true);
    }
    expect(before.get('simpledeploy_deployment_duration_seconds')?.type).toBe('histogram');
    expect(before.get('simpledeploy_deployments_total')?.type).toBe('counter');
    expect(sampleValue(before, 'simpledeploy_deployment_duration_seconds_count')).toBe(0);
    // The local engine answers: host_up{host="local"} is 1.
    expect(sampleValue(before, 'simpledeploy_host_up', { host: 'local' })).toBe(1);

    await createStack('good', images.sleeper);
    const ok = await server.api('POST', '/api/v1/stacks/good/deploy?wait=true');
    expect(ok.json.deployment.status, JSON.stringify(ok.json.deployment.error)).toBe('succeeded');

    // An image the registry does not have: the pull fails, so does the deploy.
    await createStack('bad', `${registry.host}/simpledeploy-test/absent:v1`);
    const bad = await server.api('POST', '/api/v1/stacks/bad/deploy?wait=true');
    expect(bad.status).toBe(422);
    expect(bad.json.deployment.status).toBe('failed');

    // A signed push for the inline stack deploys it (trigger webhook); an unsigned one is refused.
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const hook = (headers: Record<string, string>) =>
      fetch(`${server.base}/api/v1/stacks/good/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-GitHub-Event': 'push', ...headers },
        body,
      });
    const signed = await hook({ 'X-Hub-Signature-256': signature });
    expect(signed.status).toBe(202);
    const queued = ((await signed.json()) as { deployment: { id: string } }).deployment.id;
    const unsigned = await hook({ 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` });
    expect(unsigned.status).toBe(401);
    await until(
      async () =>
        ['succeeded', 'failed'].includes(
          (await server.api('GET', `/api/v1/deployments/${queued}`)).json.deployment?.status,
        ),
      60_000,
      'the webhook deploy to end',
    );

    const after = await scrape();
    const total = (status: string, trigger: string) =>
      sampleValue(after, 'simpledeploy_deployments_total', { status, trigger });
    expect(total('succeeded', 'manual')).toBe(1);
    expect(total('failed', 'manual')).toBe(1);
    expect(total('succeeded', 'webhook')).toBe(1);
    expect(sampleValue(after, 'simpledeploy_deployment_duration_seconds_count')).toBe(3);
    expect(sampleValue(after, 'simpledeploy_deployment_duration_seconds_sum')).toBeGreaterThan(0);
    expect(
      sampleValue(after, 'simpledeploy_deployment_duration_seconds_bucket', { le: '+Inf' }),
    ).toBe(3);
    expect(sampleValue(after, 'simpledeploy_webhook_deliveries_total', { result: 'queued' })).toBe(
      1,
    );
    expect(
      sampleValue(after, 'simpledeploy_webhook_deliveries_total', { result: 'rejected' }),
    ).toBe(1);
    expect(sampleValue(after, 'simpledeploy_queue_depth')).toBe(0);
    expect(sampleValue(after, 'simpledeploy_deployments_running')).toBe(0);
    expect(sampleValue(after, 'simpledeploy_host_up', { host: 'local' })).toBe(1);
  });

  it('keeps its series apart from another server in the same process', async () => {
    const other = await startInProcessServer();
    try {
      const res = await fetch(`${other.base}/metrics`);
      const families = parsePrometheusText(await res.text());
      expect(
        families.get('simpledeploy_deployments_total')?.samples.filter((s) => s.value > 0),
      ).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});
