import { createFakeRunner } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { assertSwarmControl, runSwarmControl } from './swarm-control';
import { takeDownArgs } from './swarm-engine';

const env = { DOCKER_HOST: 'tcp://manager:2376' };

describe('swarm lifecycle commands', () => {
  it('runs down as docker stack rm, scale as service scale, restart as update --force', async () => {
    const runner = createFakeRunner();
    const o = { runner, docker: 'docker', env };
    await runSwarmControl(o, 'sd-web', { command: 'down' });
    await runSwarmControl(o, 'sd-web', { command: 'scale', service: 'web', replicas: 3 });
    await runSwarmControl(o, 'sd-web', { command: 'restart', services: ['web'] });
    expect(runner.calls.map((c) => c.args)).toEqual([
      ['stack', 'rm', 'sd-web'],
      ['service', 'scale', '--detach', 'sd-web_web=3'],
      ['service', 'update', '--force', '--detach', 'sd-web_web'],
    ]);
    expect(runner.calls.every((c) => c.options.env === env)).toBe(true);
  });

  it('restarts every service of the stack when none is named, and reports a failure', async () => {
    const runner = createFakeRunner();
    runner.on((a) => a.includes('ls'), { stdout: 'sd-web_db\nsd-web_web\n' });
    runner.on((a) => a.includes('sd-web_db') && a.includes('update'), {
      exitCode: 1,
      stderr: 'no such service\n',
    });
    const res = await runSwarmControl({ runner, docker: 'docker', env }, 'sd-web', {
      command: 'restart',
    });
    expect(res).toEqual({ exitCode: 1, output: 'no such service\n' });
    expect(runner.calls.slice(1).map((c) => c.args.at(-1))).toEqual(['sd-web_db', 'sd-web_web']);
  });

  it('refuses compose-only commands with what to do instead', () => {
    expect(() => assertSwarmControl({ command: 'stop' })).toThrow(/scale the service to 0/);
    expect(() => assertSwarmControl({ command: 'pull' })).toThrow(/"force": true/);
    expect(() => assertSwarmControl({ command: 'restart' })).not.toThrow();
  });

  it('takes a swarm stack down with stack rm and a compose one with down', () => {
    expect(takeDownArgs('swarm', 'sd-web', { removeVolumes: true })).toEqual([
      'stack',
      'rm',
      'sd-web',
    ]);
    expect(takeDownArgs('compose', 'sd-web', { removeVolumes: true })).toEqual([
      'compose',
      '-p',
      'sd-web',
      'down',
      '--remove-orphans',
      '-v',
    ]);
  });
});
