import { createHmac, randomUUID } from 'node:crypto';
import { cleanupProject } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, startInProcessServer, until } from './test-server';

// Issue 14's burst, for correctness only (its speed is in `pnpm bench`): 1000 signed
// pushes to one stack while its deploy runs, some delivered twice, some without an id.

const registry = inject('registry');
const images = inject('images');
const SECRET = `burst-webhook-${randomUUID()}`;
const NAME = 'burst1000';
const PUSHES = 1000;

let server: InProcessServer;

beforeAll(async () => {
  server = await startInProcessServer();
});

afterAll(async () => {
  await server?.stop();
  if (server) await cleanupProject(`${server.prefix}-${NAME}`);
});

async function pool<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

describe('a burst of 1000 signed pushes to one stack', () => {
  it('answers each 2xx, acts once per delivery id, and runs at most two deployments', async () => {
    const created = await server.api('POST', '/api/v1/stacks', {
      name: NAME,
      // Healthy only after a few seconds: the burst lands while the first deploy runs.
      compose: `services:\n  worker:\n    image: ${images.sleeper}\n    command: ["/bin/sh", "-c", "sleep 4; touch /tmp/ready; exec /bin/sleeper"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/tmp/ready"]\n      interval: 1s\n      start_period: 30s\n`,
      webhook_secret: SECRET,
      docker_registry: registry.host,
      docker_username: registry.username,
      docker_password: registry.password,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);

    // Every 20th push repeats the delivery id of the one before it; every 25th has none.
    const ids = Array.from({ length: PUSHES }, () => randomUUID());
    const delivery = (i: number) => (i % 25 === 0 ? undefined : i % 20 === 0 ? ids[i - 1] : ids[i]);
    const answers = await pool(PUSHES, 50, async (i) => {
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        after: i.toString(16).padStart(40, '0'),
        commits: [{ id: i.toString(16).padStart(40, '0'), modified: ['compose.yaml'] }],
      });
      const id = delivery(i);
      const res = await fetch(`${server.base}/api/v1/stacks/${NAME}/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'X-GitHub-Event': 'push',
          ...(id ? { 'X-GitHub-Delivery': id } : {}),
          'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    });
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    const repeats = answers.filter((_, i) => i % 20 === 0 && i % 25 !== 0);
    for (const a of repeats) expect(String(a.body.ignored)).toMatch(/already handled/);
    const queued = answers.filter((a) => a.body.deployment);
    expect(queued.length).toBe(PUSHES - repeats.length);

    const all = await until(
      async () => {
        const d = (await server.api('GET', `/api/v1/stacks/${NAME}/deployments`)).json
          .deployments as { status: string; trigger: string }[];
        return d.every((x) => !['queued', 'running'].includes(x.status)) ? d : undefined;
      },
      120_000,
      'the deployments of the burst to end',
    );
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(all.length).toBeLessThanOrEqual(2);
    expect(all.map((d) => [d.trigger, d.status])).toEqual(all.map(() => ['webhook', 'succeeded']));
  }, 240_000);
});
