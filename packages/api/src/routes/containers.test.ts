import { sub } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { testDomain } from '../test-domain';
import { json, TEST_KEY, testDeps } from '../test-helpers';

const H = { 'X-API-KEY': TEST_KEY };
const ps = [
  { Name: 'simpledeploy-web-app-1', Service: 'app', State: 'running', Image: 'i', Health: '' },
  { Name: 'simpledeploy-web-db-1', Service: 'db', State: 'exited', Image: 'i', Health: '' },
]
  .map((r) => JSON.stringify(r))
  .join('\n');

async function setup() {
  const domain = testDomain(TEST_KEY);
  await domain.stacks.create({
    name: 'web',
    compose: 'services:\n  app:\n    image: i\n  db:\n    image: i\n',
    webhook_secret: 'hook-secret-0123456789',
  });
  domain.runner.on(sub('ps'), { stdout: ps });
  return { domain, app: createApp(testDeps({ domain })) };
}

describe('container logs and stats routes', () => {
  it('runs docker compose logs as argv for the service and redacts the stack secrets', async () => {
    const { domain, app } = await setup();
    domain.runner.on(sub('logs'), {
      stdout:
        '\x1b[2Kapp-1  | 2026-11-30T10:00:00.000000001Z hello hook-secret-0123456789\napp-1  | 2026-11-30T10:00:01Z bye\n',
    });
    const res = await app.request('/api/v1/stacks/web/services/app/logs?tail=5&since=10m', {
      headers: H,
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.lines.map((l: { text: string }) => l.text)).toEqual(['hello ***', 'bye']);
    expect(body.lines[0]).toMatchObject({
      type: 'line',
      seq: 1,
      container: 'simpledeploy-web-app-1',
      service: 'app',
      ts: '2026-11-30T10:00:00.000000001Z',
    });
    const call = domain.runner.calls.find((c) => c.args.includes('logs'));
    expect(call?.args.slice(call.args.indexOf('logs'))).toEqual([
      'logs',
      '--no-color',
      '--timestamps',
      '--tail',
      '5',
      '--since',
      '10m',
      'app',
    ]);
  });

  it('answers 404 with the services that have containers, 400 for a bad tail', async () => {
    const { app } = await setup();
    const missing = await app.request('/api/v1/stacks/web/services/cache/logs', { headers: H });
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.message).toBe(
      'stack web has no service "cache" with containers; its services are: app, db',
    );
    const tail = await app.request('/api/v1/stacks/web/services/app/logs?tail=99999', {
      headers: H,
    });
    expect(tail.status).toBe(400);
  });

  it('reads stats for the running containers and restarts from one inspect', async () => {
    const { domain, app } = await setup();
    domain.runner.on(sub('stats'), {
      stdout: `${JSON.stringify({ Name: 'simpledeploy-web-app-1', CPUPerc: '1.50%', MemUsage: '2MiB / 1GiB', MemPerc: '0.20%', NetIO: '1kB / 2kB', PIDs: '4' })}\n`,
    });
    domain.runner.on(sub('inspect'), {
      stdout: JSON.stringify([
        { Name: '/simpledeploy-web-app-1', RestartCount: 0, State: { StartedAt: 't1' } },
        { Name: '/simpledeploy-web-db-1', RestartCount: 3, State: { StartedAt: 't2' } },
      ]),
    });
    const res = await app.request('/api/v1/stacks/web/stats/containers', { headers: H });
    expect(res.status).toBe(200);
    const rows = (await json(res)).containers;
    expect(rows[0]).toMatchObject({
      service: 'app',
      cpu_percent: 1.5,
      memory_usage_bytes: 2 * 1024 ** 2,
      network_tx_bytes: 2000,
      restart_count: 0,
    });
    expect(rows[1]).toMatchObject({ service: 'db', cpu_percent: null, restart_count: 3 });
    // Only running containers are asked for stats: one call for all of them.
    const stats = domain.runner.calls.filter((c) => c.args.includes('stats'));
    expect(stats).toHaveLength(1);
    expect(stats[0]?.args.at(-1)).toBe('simpledeploy-web-app-1');
  });
});
