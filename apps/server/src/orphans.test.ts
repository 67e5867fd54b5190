import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findOrphanCompose } from './orphans';

let root: string;
let proc: string;
const dataDir = '/srv/simpledeploy-data';

/** One fake /proc/<pid> entry: argv, working directory, process group. */
function fakeProcess(pid: number, args: string[], cwd: string, pgid = pid) {
  const dir = join(proc, String(pid));
  mkdirSync(dir);
  writeFileSync(join(dir, 'cmdline'), `${args.join('\0')}\0`);
  writeFileSync(join(dir, 'stat'), `${pid} (docker compose) S 1 ${pgid} ${pgid} 0 -1 4194304`);
  symlinkSync(cwd, join(dir, 'cwd'));
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sd-orphans-'));
  proc = join(root, 'proc');
  mkdirSync(proc);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('findOrphanCompose', () => {
  it('finds compose processes working in a stack directory of this data dir, with their process group', () => {
    const cwd = `${dataDir}/stacks/stk_1/deploy`;
    fakeProcess(100, ['docker', 'compose', '-p', 'simpledeploy-app', 'up', '-d', '--wait'], cwd);
    fakeProcess(
      101,
      ['/usr/local/lib/docker/cli-plugins/docker-compose', 'compose', '-p', 'simpledeploy-app'],
      cwd,
      100,
    );
    expect(findOrphanCompose(dataDir, proc)).toEqual([
      {
        pid: 100,
        pgid: 100,
        args: ['docker', 'compose', '-p', 'simpledeploy-app', 'up', '-d', '--wait'],
      },
      {
        pid: 101,
        pgid: 100,
        args: [
          '/usr/local/lib/docker/cli-plugins/docker-compose',
          'compose',
          '-p',
          'simpledeploy-app',
        ],
      },
    ]);
  });

  it('finds the compose plugin run directly, as the server runs it when it found the plugin', () => {
    const args = [
      '/usr/local/lib/docker/cli-plugins/docker-compose',
      '-p',
      'simpledeploy-app',
      'up',
      '-d',
    ];
    fakeProcess(110, args, `${dataDir}/stacks/stk_1/deploy`);
    fakeProcess(111, ['/usr/bin/docker-compose-helper', '-p', 'x'], `${dataDir}/stacks/stk_1`);
    expect(findOrphanCompose(dataDir, proc)).toEqual([{ pid: 110, pgid: 110, args }]);
  });

  it("leaves alone a user's compose elsewhere, other data dirs, and processes that are not compose", () => {
    fakeProcess(200, ['docker', 'compose', '-p', 'simpledeploy-app', 'logs', '-f'], '/home/me');
    fakeProcess(201, ['docker', 'compose', '-p', 'x-app', 'up'], '/srv/other-data/stacks/s/deploy');
    fakeProcess(202, ['sleep', '100'], `${dataDir}/stacks/stk_1/deploy`);
    // A sibling directory whose name only starts like ours.
    fakeProcess(203, ['docker', 'compose', '-p', 'a', 'up'], `${dataDir}/stacks-old/s`);
    expect(findOrphanCompose(dataDir, proc)).toEqual([]);
  });

  it('finds nothing when there is no /proc to read', () => {
    expect(findOrphanCompose(dataDir, join(root, 'missing'))).toEqual([]);
  });
});
