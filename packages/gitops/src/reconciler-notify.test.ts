import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriftItem } from '@simpledeploy/compose';
import {
  AppError,
  createRedactor,
  createSecretBox,
  type GitClient,
  type Notification,
  silentLogger,
} from '@simpledeploy/core';
import { createTestDb, findStack } from '@simpledeploy/db';
import { createServices, createSourceResolver } from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createReconciler, POLL_FAILING_AFTER } from './reconciler';

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function setup() {
  const { db } = createTestDb();
  const clock = createFakeClock();
  const secrets = createSecretBox('reconciler-notify-test');
  const remote = { error: undefined as AppError | undefined, calls: 0 };
  const git: GitClient = {
    async resolveRemote(_url, ref) {
      remote.calls++;
      if (remote.error) throw remote.error;
      return { ref: `refs/heads/${ref ?? 'main'}`, commit: '1'.repeat(40) };
    },
    async checkout() {
      throw new Error('the reconciler never clones');
    },
  };
  const services = createServices({
    db,
    runner: createFakeRunner(),
    clock,
    logger: silentLogger,
    secrets,
    redact: createRedactor([]),
    sources: createSourceResolver(),
    config: {
      dataDir: mkdtempSync(join(tmpdir(), 'sd-recn-')),
      projectPrefix: 'simpledeploy',
      maxConcurrent: 3,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
    },
  });
  const published: Notification[] = [];
  const drift = { items: undefined as DriftItem[] | undefined };
  const reconciler = createReconciler({
    db,
    deployer: services.deployer,
    git,
    drift: { containerDrift: async () => drift.items },
    secrets,
    clock,
    logger: silentLogger,
    random: () => 0.5,
    notify: { publish: (n) => published.push(n) },
  });
  return { db, clock, remote, services, published, reconciler, drift };
}

describe('reconciler: notifications', () => {
  it(`publishes poll.failing once, at the ${POLL_FAILING_AFTER}rd failed poll in a row, and again only after a recovery`, async () => {
    const { db, clock, remote, services, published, reconciler } = setup();
    await services.stacks.create({
      name: 'app',
      repo_url: 'http://127.0.0.1:1/app.git',
      reconcile_interval_seconds: 10,
    });
    const failures = () => findStack(db, 'app')?.pollFailures ?? 0;
    remote.error = new AppError('UNAVAILABLE', 'cannot reach 127.0.0.1:1: ECONNREFUSED');
    reconciler.start();
    for (let n = 1; n <= POLL_FAILING_AFTER + 1; n++) {
      while (failures() < n) await clock.advance(10_000);
      await until(() => failures() === n);
      expect(published).toHaveLength(n < POLL_FAILING_AFTER ? 0 : 1);
    }
    expect(published[0]).toMatchObject({
      event: 'poll.failing',
      stack: findStack(db, 'app')?.id,
      message: expect.stringContaining('ECONNREFUSED'),
      details: { failures: POLL_FAILING_AFTER },
    });
    remote.error = undefined;
    while (failures() > 0) await clock.advance(10_000);
    remote.error = new AppError('UNAVAILABLE', 'down again');
    while (failures() < POLL_FAILING_AFTER) await clock.advance(10_000);
    await until(() => published.length === 2);
    await reconciler.stop();
  });

  it('publishes drift.detected when drift appears or changes, not on every check while it lasts', async () => {
    const t = setup();
    await t.services.stacks.create({
      name: 'inl',
      compose: 'services:\n  web:\n    image: w\n',
      reconcile_interval_seconds: 10,
    });
    const { deployment } = t.services.deployer.deploy('inl', { trigger: 'manual' });
    await t.services.deployer.waitFor(deployment.id);
    const stopped: DriftItem = {
      service: 'web',
      type: 'stopped',
      expected: 'running',
      actual: 'exited (0)',
    };
    t.drift.items = [stopped];
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.published.length === 1);
    expect(t.published[0]).toMatchObject({
      event: 'drift.detected',
      stack: findStack(t.db, 'inl')?.id,
      message: expect.stringContaining('stopped:web'),
      details: { drift: [stopped] },
    });
    await t.clock.advance(10_000);
    await t.clock.advance(10_000);
    expect(t.published).toHaveLength(1);
    t.drift.items = [{ ...stopped, service: 'worker' }];
    await t.clock.advance(10_000);
    await until(() => t.published.length === 2);
    await t.reconciler.stop();
  });
});
