import { createHmac, randomUUID } from 'node:crypto';
import { cleanupProject } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { type InProcessServer, startInProcessServer, until } from './test-server';

// The small version of `pnpm bench` (scripts/bench): correctness under load, no timings.

const registry = inject('registry');
const images = inject('images');
const SECRET = `smoke-webhook-${Math.random().toString(36).slice(2)}`;

let server: InProcessServer;
const stacksMade: string[] = [];

/** Healthy only after a few seconds, so a deploy is still running while the load arrives. */
const slowCompose = (tag: string) =>
  `services:\n  worker:\n    image: ${images.sleeper}\n    command: ["/bin/sh", "-c", "sleep 4; touch /tmp/ready; exec /bin/sleeper"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/tmp/ready"]\n      interval: 1s\n      start_period: 30s\n    environment:\n      TAG: ${tag}\n`;

async function createStack(name: string, extra: Record<string, unknown> = {}) {
  stacksMade.push(name);
  const res = await server.api('POST', '/api/v1/stacks', {
    name,
    compose: slowCompose(name),
    docker_registry: registry.host,
    docker_username: registry.username,
    docker_password: registry.password,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
}

/** Runs fn for 0..n-1 with at most `limit` in flight. */
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

beforeAll(async () => {
  server = await startInProcessServer();
});

afterAll(async () => {
  await server?.stop();
  for (const name of stacksMade) await cleanupProject(`${server.prefix}-${name}`);
});

describe('load, small', () => {
  it('answers 100 signed webhooks to one stack with 2xx and runs at most two deployments', async () => {
    await createStack('burst', { webhook_secret: SECRET });
    const statuses = await pool(100, 20, async (i) => {
      const body = JSON.stringify({ ref: 'refs/heads/main', after: `${i}`.padStart(40, '0') });
      const res = await fetch(`${server.base}/api/v1/stacks/burst/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'X-GitHub-Event': 'push',
          'X-GitHub-Delivery': randomUUID(),
          'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      await res.arrayBuffer();
      return res.status;
    });
    expect(statuses.filter((s) => s < 200 || s > 299)).toEqual([]);

    const deployments = async () =>
      (await server.api('GET', '/api/v1/stacks/burst/deployments')).json.deployments as {
        status: string;
        trigger: string;
      }[];
    const all = await until(
      async () => {
        const d = await deployments();
        return d.every((x) => !['queued', 'running'].includes(x.status)) ? d : undefined;
      },
      90_000,
      'the deployments of the burst to end',
    );
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(all.length).toBeLessThanOrEqual(2);
    expect(all.map((d) => [d.trigger, d.status])).toEqual(all.map(() => ['webhook', 'succeeded']));
  });

  it('delivers every line of a deployment, in order, to 50 WebSocket viewers', async () => {
    await createStack('viewers');
    const { json } = await server.api('POST', '/api/v1/stacks/viewers/deploy');
    const id = json.deployment.id;
    const url = `${server.base.replace('http', 'ws')}/api/v1/deployments/${id}/logs/ws?token=${server.apiKey}`;
    const viewers = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<{ seqs: number[]; end?: string }>((resolve, reject) => {
            const got: { seqs: number[]; end?: string } = { seqs: [] };
            const ws = new WebSocket(url);
            ws.on('message', (data) => {
              const m = JSON.parse(String(data));
              if (m.type === 'line') got.seqs.push(m.seq);
              else if (m.type === 'end') got.end = m.status;
            });
            ws.on('close', () => resolve(got));
            ws.on('error', reject);
          }),
      ),
    );
    const done = await server.container.services.deployer.waitFor(id);
    expect(done.status).toBe('succeeded');
    const stored = (await server.api('GET', `/api/v1/deployments/${id}`)).json.deployment.log;
    const expected = stored.map((l: { seq: number }) => l.seq);
    expect(expected.length).toBeGreaterThan(5);
    for (const v of viewers) {
      expect(v.seqs).toEqual(expected);
      expect(v.end).toBe('succeeded');
    }
  });
});
