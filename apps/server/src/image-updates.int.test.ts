import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  cleanupProject,
  createMovingTag,
  docker,
  getFreePort,
  type MovingTag,
  parsePrometheusText,
  sampleValue,
  WEB_CONTAINER_PORT,
} from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InProcessServer, registryFields, startInProcessServer, until } from './test-server';

// Image update detection against the real private registry (htpasswd auth) and engine:
// a tag that moves in the registry is seen without pulling, and auto_update deploys it.

const registry = inject('registry');
const images = inject('images');

let server: InProcessServer;
let api: InProcessServer['api'];
let tag: MovingTag;
/** A webhook notifier's receiver on 127.0.0.1: what simpledeploy told it. */
let receiver: Server;
const told: { event: string | undefined; body: string }[] = [];
const made: string[] = [];
/** Pushes an image under the test's tag; its manifest digest in the registry. */
const pushAs = (source: string) => tag.push(source);
let ref: string;

async function gauge(): Promise<number | undefined> {
  const text = await fetch(`${server.base}/metrics`).then((r) => r.text());
  return sampleValue(parsePrometheusText(text), 'simpledeploy_image_updates_available');
}

beforeAll(async () => {
  server = await startInProcessServer();
  api = server.api;
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      told.push({ event: req.headers['x-simpledeploy-event'] as string | undefined, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const notifier = await api('POST', '/api/v1/notifiers', {
    name: 'updates',
    kind: 'webhook',
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    secret: randomBytes(16).toString('hex'),
    events: ['update.available'],
  });
  expect(notifier.status, JSON.stringify(notifier.json)).toBe(201);
  tag = await createMovingTag(registry);
  ref = tag.ref;
}, 120_000);

afterAll(async () => {
  for (const name of made) await cleanupProject(`${server.prefix}-${name}`);
  await server?.stop();
  await tag?.remove();
  await new Promise((r) => receiver?.close(r));
}, 120_000);

describe('image updates against the private registry', () => {
  it('sees a moved tag without pulling, then auto_update deploys it through the pipeline', async () => {
    const first = await pushAs(images.webV1);
    const port = await getFreePort();
    made.push('upd');
    const created = await api('POST', '/api/v1/stacks', {
      name: 'upd',
      compose: `services:\n  web:\n    image: ${ref}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n`,
      ...registryFields(registry),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.stack).toMatchObject({
      auto_update: false,
      update_check_interval_seconds: 0,
    });
    const dep = await api('POST', '/api/v1/stacks/upd/deploy?wait=true', {});
    expect(dep.json.deployment.status).toBe('succeeded');

    const same = await api('GET', '/api/v1/stacks/upd/updates');
    expect(same.status).toBe(200);
    expect(same.json.services).toEqual([
      {
        service: 'web',
        image: ref,
        running_digest: first,
        registry_digest: first,
        update_available: false,
        error: null,
      },
    ]);

    // New content under the same tag, pushed by someone else.
    const second = await pushAs(images.webV2);
    expect(second).not.toBe(first);
    const moved = await api('GET', '/api/v1/stacks/upd/updates');
    expect(moved.json.services).toEqual([
      {
        service: 'web',
        image: ref,
        running_digest: first,
        registry_digest: second,
        update_available: true,
        error: null,
      },
    ]);
    // Nothing was pulled: the engine still has no image under the tag.
    expect((await docker(['image', 'inspect', ref])).exitCode).not.toBe(0);
    const stack = (await api('GET', '/api/v1/stacks/upd')).json.stack;
    expect(stack.image_updates).toEqual({ checked_at: moved.json.checked_at, available: 1 });
    expect(await gauge()).toBe(1);
    // The update.available notification, through the notifiers' outbox.
    const note = await until(
      () => told.find((t) => t.event === 'update.available'),
      30_000,
      'the update.available webhook',
    );
    const payload = JSON.parse(note.body);
    expect(payload).toMatchObject({ event: 'update.available', stack: { name: 'upd' } });
    expect(payload.details.services).toEqual([
      { service: 'web', image: ref, running_digest: first, registry_digest: second },
    ]);
    expect((await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())).trim()).toBe('v1');

    const patched = await api('PATCH', '/api/v1/stacks/upd', {
      auto_update: true,
      update_check_interval_seconds: 10,
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    const auto = await until(
      async () =>
        (await api('GET', '/api/v1/stacks/upd/deployments')).json.deployments.find(
          (d: { trigger: string; status: string }) =>
            d.trigger === 'image_update' && !['queued', 'running'].includes(d.status),
        ),
      90_000,
      'a deployment with trigger image_update to end',
    );
    expect(auto.status).toBe('succeeded');
    const log = (await api('GET', `/api/v1/deployments/${auto.id}`)).json.deployment.log as {
      text: string;
    }[];
    expect(log.some((l) => / pull /.test(l.text))).toBe(true);

    const after = await api('GET', '/api/v1/stacks/upd/updates');
    expect(after.json.services[0]).toMatchObject({
      running_digest: second,
      registry_digest: second,
      update_available: false,
    });
    expect((await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())).trim()).toBe('v2');
    expect(await gauge()).toBe(0);
    // One deploy per new digest: the next rounds find nothing to do.
    await new Promise((r) => setTimeout(r, 12_000));
    const autos = (await api('GET', '/api/v1/stacks/upd/deployments')).json.deployments.filter(
      (d: { trigger: string }) => d.trigger === 'image_update',
    );
    expect(autos).toHaveLength(1);
  }, 240_000);

  it('reports a registry that refuses the login as the service error, never the password', async () => {
    made.push('badlogin');
    const created = await api('POST', '/api/v1/stacks', {
      name: 'badlogin',
      compose: `services:\n  web:\n    image: ${ref}\n`,
      ...registryFields(registry),
    });
    expect(created.status).toBe(201);
    expect(
      (await api('POST', '/api/v1/stacks/badlogin/deploy?wait=true', {})).json.deployment.status,
    ).toBe('succeeded');
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    await api('PATCH', '/api/v1/stacks/badlogin', { docker_password: wrong });
    const res = await api('GET', '/api/v1/stacks/badlogin/updates');
    expect(res.status).toBe(200);
    const [svc] = res.json.services;
    expect(svc.update_available).toBe(false);
    expect(svc.registry_digest).toBeNull();
    expect(svc.error).toMatch(/refused the stack's registry login/);
    expect(JSON.stringify(res.json)).not.toContain(wrong);
  }, 120_000);
});
