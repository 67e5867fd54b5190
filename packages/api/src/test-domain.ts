import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, createRedactor, createSecretBox, silentLogger } from '@simpledeploy/core';
import { createTestDb } from '@simpledeploy/db';
import { createServices, createSourceResolver } from '@simpledeploy/deployer';
import { createDriftService, createWebhookService } from '@simpledeploy/gitops';
import { createFakeClock, createFakeRunner, type FakeClock } from '@simpledeploy/testing/fakes';
import type { GitopsDeps } from './domain';

/**
 * Real domain services on in-memory SQLite, a fake runner and a fake clock: for route
 * tests. `clock` replaces the fake one (the web's e2e server runs on real time).
 */
export function testDomain<C extends Clock = FakeClock>(
  apiKey = 'test-api-key-0123456789',
  opts: { clock?: C } = {},
) {
  const handle = createTestDb();
  const runner = createFakeRunner();
  const clock = (opts.clock ?? createFakeClock()) as C;
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-api-'));
  const secrets = createSecretBox('api-test');
  const services = createServices({
    db: handle.db,
    runner,
    clock,
    logger: silentLogger,
    secrets,
    redact: createRedactor([apiKey]),
    sources: createSourceResolver(),
    config: {
      dataDir,
      projectPrefix: 'simpledeploy',
      maxConcurrent: 3,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
    },
  });
  return { ...services, runner, clock, secrets, db: handle.db, sqlite: handle.sqlite, dataDir };
}

/** The webhook and drift services over a test domain, as the server wires them. */
export function testGitops(domain: ReturnType<typeof testDomain>): GitopsDeps {
  const common = {
    db: domain.db,
    deployer: domain.deployer,
    secrets: domain.secrets,
    clock: domain.clock,
    logger: silentLogger,
  };
  return {
    webhooks: createWebhookService(common),
    drift: createDriftService({
      ...common,
      runner: domain.runner,
      config: {},
    }),
  };
}
