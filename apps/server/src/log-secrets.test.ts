import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, createSecretRegistry, silentLogger } from '@simpledeploy/core';
import { createFakeClock, createFakeRunner } from '@simpledeploy/testing/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config';
import { buildContainer, type Container } from './container';

const API_KEY = 'log-secrets-api-key-0123456789';
const made: { container: Container; dir: string }[] = [];
afterEach(async () => {
  for (const m of made.splice(0)) {
    await m.container.stop();
    rmSync(m.dir, { recursive: true, force: true });
  }
});

function build(dir: string, registry: ReturnType<typeof createSecretRegistry>) {
  const config = loadConfig({
    PATH: '/usr/bin:/bin',
    HOME: '/root',
    SIMPLEDEPLOY_API_KEY: API_KEY,
    SIMPLEDEPLOY_SECRET_KEY: 'log-secrets-secret-key-0123456789',
    SIMPLEDEPLOY_DATA_DIR: dir,
  }) as ServerConfig;
  const container = buildContainer(config, {
    logger: silentLogger,
    redact: createRedactor([API_KEY]),
    clock: createFakeClock(),
    runner: createFakeRunner(),
    version: 'test',
    secretRegistry: registry,
  });
  made.push({ container, dir });
  return container;
}

describe("the log redactor's registry (main.ts passes its own to the container)", () => {
  it('holds the secrets of stacks already stored and of stacks created later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-log-secrets-'));
    const first = build(dir, createSecretRegistry());
    await first.services.stacks.create({
      name: 'old',
      compose: 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n',
      webhook_secret: 'stored-hook-secret-41f0',
    });
    await first.stop();
    made.splice(0);

    // A restart: what is in the database is in the registry before anything logs.
    const registry = createSecretRegistry([API_KEY]);
    const again = build(dir, registry);
    expect(registry.redact('push signed with stored-hook-secret-41f0')).not.toContain(
      'stored-hook-secret-41f0',
    );
    await again.services.stacks.create({
      name: 'new',
      compose: 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n',
      docker_username: 'u',
      docker_password: 'new-registry-pw-8c2d',
    });
    expect(registry.redact('login with new-registry-pw-8c2d')).not.toContain(
      'new-registry-pw-8c2d',
    );
  });
});
