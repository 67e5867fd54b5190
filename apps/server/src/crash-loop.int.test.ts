import { cleanupProject } from '@simpledeploy/testing';
import { type HttpReceiver, startHttpReceiver } from '@simpledeploy/testing/receivers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, registryFields, startInProcessServer, until } from './test-server';

const registry = inject('registry');
const images = inject('images');

let server: InProcessServer;
let receiver: HttpReceiver;
const made: string[] = [];

// Runs long enough for `up --wait` to see it running, then fails; the engine restarts it.
const compose = `services:
  crasher:
    image: ${images.sleeper}
    command: ["/bin/sh", "-c", "sleep 2; exit 1"]
    restart: always
  steady:
    image: ${images.sleeper}
`;

interface DriftItem {
  service: string;
  type: string;
  actual: string | null;
}

beforeAll(async () => {
  receiver = await startHttpReceiver();
  // A low threshold so the test needs seconds, not minutes, of crashing.
  server = await startInProcessServer({
    SIMPLEDEPLOY_CRASH_LOOP_RESTARTS: '2',
    SIMPLEDEPLOY_CRASH_LOOP_MINUTES: '10',
    SIMPLEDEPLOY_CRASH_LOOP_CHECK_SECONDS: '2',
  });
  const notifier = await server.api('POST', '/api/v1/notifiers', {
    name: 'drift-watch',
    kind: 'webhook',
    url: `${receiver.url}/drift`,
    secret: 'crash-loop-notifier-secret-0123',
    events: ['drift.detected'],
  });
  expect(notifier.status, JSON.stringify(notifier.json)).toBe(201);
});

afterAll(async () => {
  for (const name of made) await cleanupProject(`${server.prefix}-${name}`);
  await server?.stop();
  await receiver?.close();
});

describe('a crash-looping container on the real engine', () => {
  it('is drift of type crash_loop, notified as drift.detected, not redeployed, and counted', async () => {
    made.push('crashy');
    const created = await server.api('POST', '/api/v1/stacks', {
      name: 'crashy',
      compose,
      reconcile_interval_seconds: 5,
      ...registryFields(registry),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const dep = await server.api('POST', '/api/v1/stacks/crashy/deploy?wait=true');
    expect(dep.json.deployment.status, JSON.stringify(dep.json.deployment.error)).toBe('succeeded');

    const drift = await until(
      async () => {
        const res = await server.api('GET', '/api/v1/stacks/crashy/drift');
        const items = (res.json.services ?? []) as DriftItem[];
        return items.some((i) => i.type === 'crash_loop') ? res.json : undefined;
      },
      60_000,
      'crash_loop drift',
      1000,
    );
    const items = drift.services as DriftItem[];
    expect(drift.in_sync).toBe(false);
    // Only the crashing service, and only as a crash loop (not also as stopped).
    expect(items.map((i) => [i.service, i.type])).toEqual([['crasher', 'crash_loop']]);
    expect(items[0]?.actual).toMatch(/^restarted \d+ times in the last 10 minutes/);

    // The stats show the restarts too.
    const stats = await server.api('GET', '/api/v1/stacks/crashy/stats/containers');
    const crasher = stats.json.containers.find((c: { service: string }) => c.service === 'crasher');
    expect(crasher.restart_count).toBeGreaterThan(2);

    // The reconciler saw it and published drift.detected to the notifier.
    const sent = await until(
      () =>
        receiver.requests
          .map(
            (r) =>
              JSON.parse(r.body) as { event: string; message: string; stack?: { name: string } },
          )
          .find((b) => b.event === 'drift.detected' && b.stack?.name === 'crashy'),
      60_000,
      'the drift.detected notification',
    );
    expect(sent.message).toContain('crash_loop:crasher');
    // A crash loop is not "repaired" by redeploying: no drift deployment was queued.
    const deployments = await server.api('GET', '/api/v1/stacks/crashy/deployments');
    expect(deployments.json.deployments.map((d: { trigger: string }) => d.trigger)).toEqual([
      'manual',
    ]);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/^simpledeploy_drift_detected_total [1-9]\d*$/m);
  });

  it('notifies for a stack that does not reconcile too (the crash watch)', async () => {
    made.push('nopoll');
    const created = await server.api('POST', '/api/v1/stacks', {
      name: 'nopoll',
      compose,
      ...registryFields(registry),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.stack.reconcile_interval_seconds).toBe(0);
    const dep = await server.api('POST', '/api/v1/stacks/nopoll/deploy?wait=true');
    expect(dep.json.deployment.status).toBe('succeeded');
    const sent = await until(
      () =>
        receiver.requests
          .map(
            (r) =>
              JSON.parse(r.body) as { event: string; message: string; stack?: { name: string } },
          )
          .find((b) => b.event === 'drift.detected' && b.stack?.name === 'nopoll'),
      60_000,
      'the drift.detected notification of nopoll',
    );
    expect(sent.message).toBe('nopoll drifted from its deployed version: crash_loop:crasher');
  });
});
