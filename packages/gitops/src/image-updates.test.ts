import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, createSecretBox, silentLogger } from '@simpledeploy/core';
import { createTestDb, findStack } from '@simpledeploy/db';
import { createServices, createSourceResolver } from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner, type FakeCall } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createImageUpdateService } from './image-updates';
import { createUpdateScheduler } from './update-scheduler';

const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const IMAGE = 'registry.example.com/team/app:1';

/**
 * Stacks whose one container runs IMAGE pulled as OLD (a fake engine), and a fake
 * registry that says the tag is at `registry.digest` now, counting its requests.
 */
function setup() {
  const { db } = createTestDb();
  const runner = createFakeRunner();
  const clock = createFakeClock();
  const secrets = createSecretBox('image-updates-test');
  const services = createServices({
    db,
    runner,
    clock,
    logger: silentLogger,
    secrets,
    redact: createRedactor([]),
    sources: createSourceResolver(),
    config: {
      dataDir: mkdtempSync(join(tmpdir(), 'sd-upd-')),
      projectPrefix: 'simpledeploy',
      maxConcurrent: 3,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
    },
  });
  const engine = { running: OLD };
  const label = (args: string[]) => args.find((a) => a.startsWith('label='))?.split('=')[2] ?? '';
  runner.on(
    (args) => args[0] === 'ps' && args.includes('--filter'),
    (call: FakeCall) => ({ stdout: `c-${label(call.args)}\n` }),
  );
  runner.on(
    (args) => args[0] === 'inspect',
    (call: FakeCall) => ({
      stdout: JSON.stringify(
        call.args.slice(1).map((id) => ({
          Name: `/${id.slice(2)}-web-1`,
          Image: 'sha256:img',
          Config: {
            Image: IMAGE,
            Labels: {
              'com.docker.compose.project': id.slice(2),
              'com.docker.compose.service': 'web',
            },
          },
        })),
      ),
    }),
  );
  runner.on(
    (args) => args[0] === 'image' && args[1] === 'inspect',
    () => ({
      stdout: JSON.stringify([
        {
          Id: 'sha256:img',
          RepoDigests: [
            `registry.example.com/team/app@${engine.running}`,
            `other.example/x@${NEW}`,
          ],
        },
      ]),
    }),
  );
  const registry = { digest: NEW, status: 200, requests: 0, auth: [] as (string | undefined)[] };
  const updates = createImageUpdateService({
    db,
    runner,
    deployer: services.deployer,
    secrets,
    clock,
    logger: silentLogger,
    redact: createRedactor([]),
    config: { childEnv: { PATH: '/usr/bin:/bin' } },
    fetch: async (_url, init) => {
      registry.requests++;
      registry.auth.push((init.headers as Record<string, string>).Authorization);
      return new Response(null, {
        status: registry.status,
        headers: { 'docker-content-digest': registry.digest },
      });
    },
    onUpdateAvailable: (stack, list) => published.push({ stack: stack.name, services: list }),
    setUpdatesAvailable: (n) => gauge.push(n),
  });
  const published: { stack: string; services: unknown[] }[] = [];
  const gauge: number[] = [];
  const scheduler = createUpdateScheduler({
    db,
    deployer: services.deployer,
    updates,
    clock,
    logger: silentLogger,
    random: () => 0.5,
  });
  const create = (name: string, extra: Record<string, unknown> = {}) =>
    services.stacks.create({
      name,
      compose: `services:\n  web:\n    image: ${IMAGE}\n`,
      docker_registry: 'registry.example.com',
      docker_username: 'bot',
      docker_password: 'bot-password',
      update_check_interval_seconds: 60,
      ...extra,
    });
  return { db, clock, engine, registry, updates, scheduler, published, gauge, create, ...services };
}

describe('image update checks', () => {
  it('compares the running digest of the image’s own repository with the registry’s and tells once per new digest', async () => {
    const t = setup();
    await t.create('one', { update_check_interval_seconds: 0 });
    const report = await t.updates.report('one');
    expect(report.services).toEqual([
      {
        service: 'web',
        image: IMAGE,
        running_digest: OLD,
        registry_digest: NEW,
        update_available: true,
        error: null,
      },
    ]);
    expect(t.registry.requests).toBe(1);
    expect(t.stacks.get('one').image_updates).toEqual({
      checked_at: report.checked_at,
      available: 1,
    });
    expect(t.published).toEqual([{ stack: 'one', services: report.services }]);
    expect(t.gauge.at(-1)).toBe(1);
    // Told once per new digest, not on every check while it lasts.
    await t.updates.report('one');
    expect(t.published).toHaveLength(1);
  });

  it(
    'fifty stacks on one image cost one registry request per round',
    { timeout: 60_000 },
    async () => {
      const t = setup();
      for (let i = 0; i < 50; i++) await t.create(`s${i}`);
      t.scheduler.start();
      await t.clock.advance(60_000 + 3_000);
      await t.scheduler.stop();
      expect(t.registry.requests).toBe(1);
      for (let i = 0; i < 50; i++)
        expect(findStack(t.db, `s${i}`)?.updateCheck?.services[0]?.update_available).toBe(true);
      expect(t.gauge.at(-1)).toBe(50);
    },
  );

  it('with auto_update, deploys once per new digest (trigger image_update, pull forced)', async () => {
    const t = setup();
    await t.create('auto', { auto_update: true });
    t.scheduler.start();
    await t.clock.advance(63_000);
    let deps = t.deployer.listDeployments('auto');
    expect(deps).toHaveLength(1);
    expect(deps[0]).toMatchObject({ trigger: 'image_update' });
    await t.deployer.waitFor(deps[0]?.id ?? '');
    // The engine still runs the old digest (the fake pulls nothing): the next rounds
    // do not deploy the same digest again…
    await t.clock.advance(120_000);
    deps = t.deployer.listDeployments('auto');
    expect(deps.filter((d) => d.trigger === 'image_update')).toHaveLength(1);
    // …but a tag that moves again does.
    t.registry.digest = `sha256:${'3'.repeat(64)}`;
    await t.clock.advance(120_000);
    await t.scheduler.stop();
    deps = t.deployer.listDeployments('auto');
    expect(deps.filter((d) => d.trigger === 'image_update').length).toBe(2);
  });

  it('a registry that fails is reported per service and the stack backs off', async () => {
    const t = setup();
    await t.create('flaky');
    t.registry.status = 500;
    t.scheduler.start();
    await t.clock.advance(63_000);
    expect(findStack(t.db, 'flaky')?.updateCheck?.services[0]).toMatchObject({
      running_digest: OLD,
      registry_digest: null,
      update_available: false,
      error: 'registry.example.com answered 500 for registry.example.com/team/app:1',
    });
    expect(t.scheduler.scheduled()[0]?.failures).toBe(1);
    const before = t.registry.requests;
    // The next check waits two intervals instead of one.
    await t.clock.advance(60_000);
    expect(t.registry.requests).toBe(before);
    await t.clock.advance(60_000);
    expect(t.registry.requests).toBe(before + 1);
    await t.scheduler.stop();
  });
});
