import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, silentLogger, systemClock } from '@simpledeploy/core';
import { createFakeRunner } from '@simpledeploy/testing/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config';
import { buildContainer, type Container } from './container';
import { DataDirBusyError, lockDataDir, secureDataDir } from './data-dir';
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

describe('data dir permissions', () => {
  const mode = (p: string) => statSync(p).mode & 0o777;

  /** A data dir someone made world-writable, with a stack dir, a stack file and the database in it. */
  function openDataDir() {
    const dataDir = join(newDataDir(), 'data');
    const stackDir = join(dataDir, 'stacks', 'stk_1');
    mkdirSync(join(stackDir, 'deploy'), { recursive: true });
    writeFileSync(join(stackDir, 'deploy', 'nginx.conf'), 'events {}\n');
    writeFileSync(join(dataDir, 'simpledeploy.db'), '');
    for (const d of [dataDir, join(dataDir, 'stacks'), stackDir]) chmodSync(d, 0o777);
    chmodSync(join(stackDir, 'deploy', 'nginx.conf'), 0o644);
    chmodSync(join(dataDir, 'simpledeploy.db'), 0o666);
    return { dataDir, stackDir };
  }

  it('makes a pre-existing 0777 data dir, its stacks and its database private at start-up', async () => {
    const { dataDir, stackDir } = openDataDir();
    const container = build(dataDir);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'stacks'))).toBe(0o700);
    expect(mode(stackDir)).toBe(0o700);
    // Containers read stack files through bind mounts and COPY: their modes stay.
    expect(mode(join(stackDir, 'deploy', 'nginx.conf'))).toBe(0o644);
    const db = join(dataDir, 'simpledeploy.db');
    for (const p of [db, `${db}-wal`, `${db}-shm`, join(dataDir, 'server.lock')]) {
      expect(mode(p), p).toBe(0o600);
    }
    await container.stop();
  });

  it('creates a missing data dir and its stacks dir 0700', () => {
    const dataDir = join(newDataDir(), 'a', 'b');
    expect(secureDataDir(dataDir)).toBeUndefined();
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'stacks'))).toBe(0o700);
  });

  it('leaves the mode of a data dir another user owns, and says so', () => {
    const { dataDir, stackDir } = openDataDir();
    const owner = statSync(dataDir).uid;
    expect(secureDataDir(dataDir, owner + 1)).toEqual({ path: dataDir, mode: '0777', owner });
    expect(mode(dataDir)).toBe(0o777);
    expect(mode(join(dataDir, 'stacks'))).toBe(0o700);
    expect(mode(stackDir)).toBe(0o700);
  });
});
