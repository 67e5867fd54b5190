import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, silentLogger, systemClock } from '@simpledeploy/core';
import { createFakeRunner } from '@simpledeploy/testing/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config';
import { buildContainer, type Container } from './container';
import { DataDirBusyError, lockDataDir } from './data-dir';
import { RotateError, rotateSecretKey } from './rotate';

const API_KEY = 'data-dir-api-key-0123456789';
const SECRET_KEY = 'data-dir-secret-key-0123456789';

const containers: Container[] = [];
afterEach(async () => {
  for (const c of containers.splice(0)) await c.stop();
});

const newDataDir = () => mkdtempSync(join(tmpdir(), 'sd-data-'));

function build(dataDir: string): Container {
  const config = loadConfig({
    SIMPLEDEPLOY_DATA_DIR: dataDir,
    SIMPLEDEPLOY_API_KEY: API_KEY,
    SIMPLEDEPLOY_SECRET_KEY: SECRET_KEY,
  }) as ServerConfig;
  const container = buildContainer(config, {
    logger: silentLogger,
    redact: createRedactor([API_KEY]),
    clock: systemClock,
    runner: createFakeRunner(),
    version: 'test',
  });
  containers.push(container);
  return container;
}

describe('the data dir lock', () => {
  it('is held by a container from build to stop', async () => {
    const dataDir = newDataDir();
    const container = build(dataDir);
    expect(() => build(dataDir)).toThrow(DataDirBusyError);
    expect(() => lockDataDir(dataDir)).toThrow(
      `another simpledeploy server is already running on data directory ${dataDir} (pid ${process.pid}); stop it or use another SIMPLEDEPLOY_DATA_DIR`,
    );
    await container.stop();
    lockDataDir(dataDir).release();
  });

  it('keeps rotate-key from running beside a server', async () => {
    const dataDir = newDataDir();
    const container = build(dataDir);
    const rotate = () =>
      rotateSecretKey({
        env: { SIMPLEDEPLOY_DATA_DIR: dataDir, SIMPLEDEPLOY_SECRET_KEY: SECRET_KEY },
        out: () => {},
      });
    expect(rotate).toThrow(RotateError);
    expect(rotate).toThrow(
      /a simpledeploy server is running .* stop it first; nothing was changed/,
    );
    await container.stop();
    expect(rotate().values).toBe(0);
  });
});
