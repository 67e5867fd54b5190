import { sub } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';

const compose = (tag: string) => `services:\n  web:\n    image: 127.0.0.1:5000/web:${tag}\n`;

function setup() {
  const domain = testDomain();
  const app = createApp(testDeps({ domain }));
  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { Authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { app, call, domain };
}

describe('deployments API', () => {
  it('deploys in the background with 202, and with ?wait=true answers 200 when it succeeded', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'w', compose: compose('v1') });
    const queued = await call('POST', '/api/v1/stacks/w/deploy');
    expect(queued.status).toBe(202);
    expect((await json(queued)).deployment).toMatchObject({ status: 'queued', trigger: 'manual' });
    const waited = await call('POST', '/api/v1/stacks/w/deploy?wait=true', { force: true });
    expect(waited.status).toBe(200);
    const body = await json(waited);
    expect(body.deployment.status).toBe('succeeded');
    expect(body.deployment.log.length).toBeGreaterThan(0);
  });

  it('answers ?wait=true with 422 and the error body when the deployment failed', async () => {
    const { call, domain } = setup();
    await call('POST', '/api/v1/stacks', { name: 'f', compose: compose('v1') });
    domain.runner.on(sub('pull'), { exitCode: 1, stderr: 'no basic auth credentials' });
    const res = await call('POST', '/api/v1/stacks/f/deploy?wait=true');
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.error.message).toContain('no basic auth credentials');
    expect(body.deployment.status).toBe('failed');
  });

  it('refuses unknown deploy fields', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'u', compose: compose('v1') });
    const res = await call('POST', '/api/v1/stacks/u/deploy', { branch: 'main' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/unknown field "branch"/);
  });

  it('lists history, versions and stats, and rolls back to an earlier version', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'h', compose: compose('v1') });
    await call('POST', '/api/v1/stacks/h/deploy?wait=true');
    await call('PATCH', '/api/v1/stacks/h', { compose: compose('v2') });
    await call('POST', '/api/v1/stacks/h/deploy?wait=true');
    const { versions } = await json(await call('GET', '/api/v1/stacks/h/versions'));
    expect(versions).toHaveLength(2);
    const old = versions.find((v: { current: boolean }) => !v.current);
    const detail = await json(await call('GET', `/api/v1/stacks/h/versions/${old.id}`));
    expect(detail.version.files['compose.yaml']).toContain('web:v1');
    const rb = await call('POST', '/api/v1/stacks/h/rollback', { version_id: old.id });
    expect(rb.status).toBe(202);
    const { deployment } = await json(rb);
    expect(deployment.trigger).toBe('rollback');
    const list = await json(await call('GET', '/api/v1/stacks/h/deployments'));
    expect(list.deployments[0].id).toBe(deployment.id);
    const stats = await json(await call('GET', '/api/v1/stacks/h/stats'));
    expect(stats).toMatchObject({ succeeded: 2, failed: 0, last_status: 'succeeded' });
  });

  it('returns the log as JSON and as Server-Sent Events ending with the status', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'l', compose: compose('v1') });
    const { deployment } = await json(await call('POST', '/api/v1/stacks/l/deploy?wait=true'));
    const logBody = await json(await call('GET', `/api/v1/deployments/${deployment.id}/logs`));
    expect(logBody.status).toBe('succeeded');
    expect(logBody.lines[0]).toMatchObject({ type: 'line', seq: 1 });
    const sse = await call('GET', `/api/v1/stacks/l/logs?follow=true`);
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const text = await sse.text();
    expect(text).toContain('"type":"line"');
    expect(text).toContain('event: end');
    expect(text).toContain('"status":"succeeded"');
  });

  it('cancels a queued deployment, and answers 409 once it has ended', async () => {
    const { call, domain } = setup();
    await call('POST', '/api/v1/stacks', { name: 'x', compose: compose('v1') });
    const { deployment } = domain.deployer.deploy('x', { trigger: 'manual' });
    const res = await call('POST', `/api/v1/deployments/${deployment.id}/cancel`);
    expect(res.status).toBe(202);
    expect((await json(res)).deployment.status).toBe('canceled');
    expect((await call('POST', `/api/v1/deployments/${deployment.id}/cancel`)).status).toBe(409);
    expect((await call('POST', '/api/v1/stacks/x/cancel')).status).toBe(409);
  });

  it('deploys the default stack from POST /webhook without a name', async () => {
    const { call } = setup();
    await call('POST', '/api/v1/stacks', { name: 'aaa', compose: compose('v1') });
    await call('POST', '/api/v1/stacks', { name: 'default', compose: compose('v1') });
    const res = await call('POST', '/webhook');
    expect(res.status).toBe(202);
    const body = await json(res);
    const stack = await json(await call('GET', '/api/v1/stacks/default'));
    expect(body.deployment).toMatchObject({ trigger: 'webhook', stack_id: stack.stack.id });
  });

  it('deploys the oldest stack from POST /webhook when none is named default, not the first by name', async () => {
    const { call, domain } = setup();
    await call('POST', '/api/v1/stacks', { name: 'zeta', compose: compose('v1') });
    await domain.clock.advance(1000);
    await call('POST', '/api/v1/stacks', { name: 'alpha', compose: compose('v1') });
    const res = await call('POST', '/webhook', {});
    expect(res.status).toBe(202);
    const zeta = (await json(await call('GET', '/api/v1/stacks/zeta'))).stack;
    expect((await json(res)).deployment.stack_id).toBe(zeta.id);
  });
});
