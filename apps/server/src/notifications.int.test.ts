import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupProject } from '@simpledeploy/testing';
import {
  type HttpReceiver,
  type ReceivedRequest,
  startHttpReceiver,
  webhookSignatureValid,
} from '@simpledeploy/testing/receivers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient, type InProcessServer, startInProcessServer, until } from './test-server';

// Notifications through the whole server: deployments on the real engine end, the
// deployer's change bus publishes, the outbox in SQLite delivers to a real receiver, and
// a message pending when the server stops is delivered by the next server on that data dir.

const registry = inject('registry');
const images = inject('images');

const SECRET = 'int-webhook-secret-0123456789';
const dataDir = mkdtempSync(join(tmpdir(), 'sd-notify-int-'));
const apiKey = `int-key-${randomBytes(12).toString('hex')}`;
// The same data dir and key for both servers: the second is the first one restarted.
const env = { SIMPLEDEPLOY_DATA_DIR: dataDir, SIMPLEDEPLOY_API_KEY: apiKey };
const projects: string[] = [];
let receiver: HttpReceiver;
let server: InProcessServer | undefined;
let api: ReturnType<typeof apiClient>;

async function boot() {
  server = await startInProcessServer(env);
  api = apiClient(server.base, apiKey);
}

const stackBody = (name: string, image: string) => ({
  name,
  compose: `services:\n  web:\n    image: ${image}\n`,
  docker_registry: registry.host,
  docker_username: registry.username,
  docker_password: registry.password,
});

async function createStack(name: string, image: string) {
  projects.push(`${server?.prefix}-${name}`);
  const res = await api('POST', '/api/v1/stacks', stackBody(name, image));
  expect(res.status, JSON.stringify(res.json)).toBe(201);
}

interface Sent {
  event: string;
  stack: { name: string } | null;
}

const bodies = () => receiver.requests.map((r) => ({ req: r, body: JSON.parse(r.body) as Sent }));

async function untilEvent(event: string, stack: string, count = 1): Promise<ReceivedRequest> {
  const found = await until(
    () => {
      const hits = bodies().filter((b) => b.body.event === event && b.body.stack?.name === stack);
      return hits.length >= count ? hits[count - 1] : undefined;
    },
    60_000,
    `${event} for ${stack}`,
  );
  return found.req;
}

beforeAll(async () => {
  receiver = await startHttpReceiver();
  await boot();
});

afterAll(async () => {
  await server?.stop();
  await receiver.close();
  for (const p of projects) await cleanupProject(p);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('notifications on a real server', () => {
  it('creates a webhook notifier through the API; the secret never comes back', async () => {
    const res = await api('POST', '/api/v1/notifiers', {
      name: 'hook',
      kind: 'webhook',
      url: `${receiver.url}/hook?token=url-token-123`,
      secret: SECRET,
      events: ['deployment.succeeded', 'deployment.failed', 'deployment.rolled_back'],
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.notifier).toMatchObject({
      url: `${receiver.url}/hook?token=***`,
      has_secret: true,
    });
    const listed = JSON.stringify((await api('GET', '/api/v1/notifiers')).json);
    expect(listed).not.toContain(SECRET);
    expect(listed).not.toContain('url-token-123');
  });

  it('keeps the secret and the URL encrypted in the database file and its WAL', () => {
    const raw = ['simpledeploy.db', 'simpledeploy.db-wal']
      .map((f) => join(dataDir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    expect(raw.length).toBeGreaterThan(0);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain('url-token-123');
  });

  it('a deployment that succeeds sends deployment.succeeded, signed', async () => {
    await createStack('okapp', images.webV1);
    const res = await api('POST', '/api/v1/stacks/okapp/deploy?wait=true');
    expect(res.json.deployment.status).toBe('succeeded');
    const req = await untilEvent('deployment.succeeded', 'okapp');
    expect(webhookSignatureValid(req, SECRET)).toBe(true);
    expect(JSON.parse(req.body)).toMatchObject({
      title: 'okapp: deployment succeeded',
      deployment_id: res.json.deployment.id,
      details: { status: 'succeeded', trigger: 'manual' },
    });
  });

  it('a deployment that fails sends deployment.failed with the error, redacted', async () => {
    await createStack('badapp', `${registry.host}/simpledeploy-no-such-image:nope`);
    const res = await api('POST', '/api/v1/stacks/badapp/deploy?wait=true');
    expect(res.json.deployment.status).toBe('failed');
    const req = await untilEvent('deployment.failed', 'badapp');
    expect(webhookSignatureValid(req, SECRET)).toBe(true);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ deployment_id: res.json.deployment.id });
    expect(body.message).toMatch(/^Deployment of badapp failed: /);
    expect(req.body).not.toContain(registry.password ?? 'no password');
    expect(req.body).not.toContain(SECRET);
  });

  it('a deployment that fails its health check and rolls back sends deployment.rolled_back', async () => {
    await api('PATCH', '/api/v1/stacks/okapp', {
      compose: `services:\n  web:\n    image: ${images.unhealthy}\n`,
    });
    const res = await api('POST', '/api/v1/stacks/okapp/deploy?wait=true');
    expect(res.json.deployment.status).toBe('rolled_back');
    const body = JSON.parse((await untilEvent('deployment.rolled_back', 'okapp')).body);
    expect(body.message).toMatch(/rolled back/);
  });

  it('lists the deliveries with their status', async () => {
    const res = await api('GET', '/api/v1/notifiers/hook/deliveries');
    expect(res.status).toBe(200);
    const events = res.json.deliveries.map((d: { event: string; status: string }) => [
      d.event,
      d.status,
    ]);
    expect(events).toEqual(
      expect.arrayContaining([
        ['deployment.succeeded', 'delivered'],
        ['deployment.failed', 'delivered'],
        ['deployment.rolled_back', 'delivered'],
      ]),
    );
  });

  it('a message pending when the server stops is delivered after it starts again', async () => {
    await receiver.down();
    const res = await api('POST', '/api/v1/stacks/badapp/deploy?wait=true');
    expect(res.json.deployment.status).toBe('failed');
    // The first attempt failed (connection refused): pending, with its error.
    const pending = await until(
      async () =>
        (await api('GET', '/api/v1/notifiers/hook/deliveries')).json.deliveries.find(
          (d: { status: string; attempts: number }) => d.status === 'pending' && d.attempts >= 1,
        ),
      30_000,
      'a failed first attempt',
    );
    expect(pending.last_error).toMatch(/ECONNREFUSED/);
    await server?.stop();
    server = undefined;
    const before = receiver.requests.length;
    await receiver.up();
    await boot();
    const req = await untilEvent('deployment.failed', 'badapp', 2);
    expect(receiver.requests.length).toBeGreaterThan(before);
    expect(req.headers['x-simpledeploy-delivery']).toBe(pending.id);
    expect(webhookSignatureValid(req, SECRET)).toBe(true);
    const after = (await api('GET', '/api/v1/notifiers/hook/deliveries')).json.deliveries;
    expect(after.find((d: { id: string }) => d.id === pending.id)).toMatchObject({
      status: 'delivered',
      attempts: expect.any(Number),
    });
  });
});
