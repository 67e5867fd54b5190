import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliPluginDirs, findComposePlugin } from './compose-plugin';
import { createExecaRunner } from './execa-runner';

describe('the compose plugin', () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'sd-plugin-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  /** A fake plugin that prints the argv it was given. */
  const plugin = (dir: string, executable = true) => {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'docker-compose');
    writeFileSync(path, '#!/bin/sh\necho "argv: $*"\n');
    chmodSync(path, executable ? 0o755 : 0o644);
    return path;
  };

  it('is looked for where the docker CLI looks: the user folder first, then the system ones', () => {
    expect(cliPluginDirs({ HOME: '/home/u' })).toEqual([
      '/home/u/.docker/cli-plugins',
      '/usr/local/lib/docker/cli-plugins',
      '/usr/local/libexec/docker/cli-plugins',
      '/usr/lib/docker/cli-plugins',
      '/usr/libexec/docker/cli-plugins',
    ]);
    expect(cliPluginDirs({ HOME: '/home/u', DOCKER_CONFIG: '/etc/dc' })[0]).toBe(
      '/etc/dc/cli-plugins',
    );
  });

  it("finds the user's plugin, and skips a file that cannot be run", () => {
    const path = plugin(join(home, '.docker/cli-plugins'));
    expect(findComposePlugin({ HOME: home })).toBe(path);
    chmodSync(path, 0o644);
    expect(findComposePlugin({ HOME: home })).not.toBe(path);
    expect(findComposePlugin({ DOCKER_CONFIG: join(home, 'nothing-here') })).not.toBe(path);
  });

  it('runs `docker compose …` as the plugin with the rest of the argv, and nothing else', async () => {
    const path = plugin(join(home, 'plugins'));
    const runner = createExecaRunner({ composePlugin: path });
    const composed = await runner.run('docker', ['compose', '-p', 'web', 'ps', '--format', 'json']);
    expect(composed).toMatchObject({ exitCode: 0, stdout: 'argv: -p web ps --format json\n' });
    // Another program, or docker without compose, runs as asked.
    const echoed = await runner.run('echo', ['compose', 'ps']);
    expect(echoed.stdout).toBe('compose ps\n');
  });

  it('runs `docker compose …` through the docker CLI when no plugin was found', async () => {
    const bin = join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "docker: $*"\n');
    chmodSync(join(bin, 'docker'), 0o755);
    const runner = createExecaRunner({ composePlugin: undefined });
    const res = await runner.run('docker', ['compose', 'ps'], { env: { PATH: bin } });
    expect(res.stdout).toBe('docker: compose ps\n');
  });
});
