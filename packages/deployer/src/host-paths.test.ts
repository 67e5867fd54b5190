import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRedactor,
  createSecretBox,
  type DesiredState,
  silentLogger,
} from '@simpledeploy/core';
import { createTestDb } from '@simpledeploy/db';
import { createFakeClock, createFakeRunner } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createServices } from './services';
import type { SourceResolver } from './sources';

/** A git-like source whose repository holds `files`. */
function setup(files: Record<string, string>, allowedHostPaths?: string[]) {
  const { db } = createTestDb();
  const runner = createFakeRunner();
  const state: DesiredState = {
    files,
    composeFiles: ['deploy/compose.yaml'],
    envFile: files['deploy/.env'] !== undefined ? 'deploy/.env' : undefined,
    variables: {},
    services: [],
  };
  const sources: SourceResolver = { resolve: async () => ({ state, commit: 'c'.repeat(40) }) };
  const services = createServices({
    db,
    runner,
    clock: createFakeClock(),
    logger: silentLogger,
    secrets: createSecretBox('unit'),
    redact: createRedactor([]),
    sources,
    config: {
      dataDir: mkdtempSync(join(tmpdir(), 'sd-paths-')),
      projectPrefix: 'simpledeploy',
      maxConcurrent: 1,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
      ...(allowedHostPaths ? { allowedHostPaths } : {}),
    },
  });
  services.stacks.create({ name: 'app', repo_url: 'https://git.example/o/app.git' });
  const deploy = async () => {
    const { deployment } = services.deployer.deploy('app', { trigger: 'manual' });
    return services.deployer.waitFor(deployment.id);
  };
  return { runner, deploy, services };
}

const compose = (volume: string) =>
  `services:\n  web:\n    image: nginx\n    volumes:\n      - ${volume}\n`;

describe('host path policy at deploy time (git stacks)', () => {
  it.each([
    [
      'an absolute bind mount',
      { 'deploy/compose.yaml': compose('/etc:/host-etc') },
      /host outside/,
    ],
    ['a .. bind mount out of the repo', { 'deploy/compose.yaml': compose('../../x:/x') }, /"\.\."/],
    [
      'a variable from the repo .env',
      { 'deploy/compose.yaml': compose('$DIR:/d'), 'deploy/.env': 'DIR=/root\n' },
      /host outside/,
    ],
    [
      'an extends file that mounts the host',
      {
        'deploy/compose.yaml':
          'services:\n  web:\n    extends:\n      file: base.yaml\n      service: b\n',
        'deploy/base.yaml': compose('/var/run/docker.sock:/s').replace('web', 'b'),
      },
      /deploy\/base.yaml: service b bind mount/,
    ],
  ])('fails the deploy before any compose command for %s', async (_what, files, message) => {
    const t = setup(files);
    const done = await t.deploy();
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(message);
    expect(t.runner.calls).toEqual([]);
    expect(t.services.deployer.listVersions('app')).toEqual([]);
  });

  it('deploys a relative mount inside the repository, and an allowed host path', async () => {
    expect((await setup({ 'deploy/compose.yaml': compose('../data:/d') }).deploy()).status).toBe(
      'succeeded',
    );
    const allowed = setup({ 'deploy/compose.yaml': compose('/var/run/docker.sock:/s') }, [
      '/var/run/docker.sock',
    ]);
    expect((await allowed.deploy()).status).toBe('succeeded');
  });
});
