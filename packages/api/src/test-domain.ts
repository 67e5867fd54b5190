import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, createSecretBox, silentLogger } from '@simpledeploy/core';
import { createTestDb } from '@simpledeploy/db';
import { createServices, createSourceResolver } from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner } from '@simpledeploy/testing/fakes';

/** Real domain services on in-memory SQLite, a fake runner and a fake clock: for route tests. */
export function testDomain(apiKey = 'test-api-key-0123456789') {
  const handle = createTestDb();
  const runner = createFakeRunner();
  const clock = createFakeClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-api-'));
  const services = createServices({
    db: handle.db,
    runner,
    clock,
    logger: silentLogger,
    secrets: createSecretBox('api-test'),
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
  return { ...services, runner, clock, db: handle.db, sqlite: handle.sqlite, dataDir };
}
