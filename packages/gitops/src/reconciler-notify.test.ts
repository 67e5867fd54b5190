import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('reconciler: poll.failing', () => {
  it(`publishes poll.failing once, at the ${POLL_FAILING_AFTER}rd failed poll in a row, and again only after a recovery`, async () => {
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
    const reconciler = createReconciler({
      db,
      deployer: services.deployer,
      git,
      drift: { containerDrift: async () => undefined },
      secrets,
      clock,
      logger: silentLogger,
      random: () => 0.5,
      notify: { publish: (n) => published.push(n) },
    });
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
});
