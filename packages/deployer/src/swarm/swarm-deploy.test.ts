import { createFakeRunner, gate } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { deployAndWait } from './swarm-deploy';

const STACK = 'sd-web';
const IMG = 'reg/web:v2@sha256:2222';

const inspectOf = (update: object | null, image = IMG) =>
  JSON.stringify([
    {
      ID: 'svc1',
      Spec: {
        Name: `${STACK}_web`,
        Mode: { Replicated: { Replicas: 2 } },
        TaskTemplate: { ContainerSpec: { Image: image } },
      },
      UpdateStatus: update,
    },
  ]);
const psOf = (states: string[], image = IMG) =>
  states
    .map((s, i) =>
      JSON.stringify({
        ID: `t${i}`,
        Name: `${STACK}_web.${i + 1}`,
        Image: image,
        Node: `node-${i}`,
        DesiredState: 'Running',
        CurrentState: `${s} 1 second ago`,
        Error: '',
      }),
    )
    .join('\n');

const words = (w: string) => (args: string[]) => w.split(' ').every((x) => args.includes(x));

function setup() {
  const runner = createFakeRunner();
  runner.on(words('service ls'), { stdout: 'svc1\n' });
  const lines: string[] = [];
  const controller = new AbortController();
  const run = () =>
    deployAndWait({
      runner,
      docker: 'docker',
      env: { DOCKER_HOST: 'unix:///x' },
      signal: controller.signal,
      file: '/run/stack.json',
      stack: STACK,
      log: (_s, t) => lines.push(t),
      sleep: () => new Promise((r) => setTimeout(r, 1)),
      pollMs: 1,
      describeFailure: (e) => e.trim(),
    });
  return { runner, lines, controller, run };
}

describe('deployAndWait', () => {
  it('fails a deploy Swarm rolled back although docker stack deploy exits 0', async () => {
    const { runner, run } = setup();
    runner.on(words('service inspect'), {
      stdout: inspectOf({
        State: 'rollback_completed',
        StartedAt: 'now',
        Message: 'rollback completed',
      }),
    });
    runner.once(words('service inspect'), {
      stdout: inspectOf({ State: 'completed', StartedAt: 'before' }),
    });
    runner.on(words('service ps'), { stdout: psOf(['Running', 'Running']) });
    runner.on(words('stack deploy'), { exitCode: 0 });
    const res = await run();
    expect(res).toEqual({
      ok: false,
      aborted: false,
      error: 'service web: Swarm rolled the update back (rollback_completed): rollback completed',
    });
    const deploy = runner.calls.find((c) => c.args.includes('deploy'));
    expect(deploy?.args).toEqual([
      'stack',
      'deploy',
      '--with-registry-auth',
      '--prune',
      '--detach=false',
      '-c',
      '/run/stack.json',
      STACK,
    ]);
    expect(deploy?.options.env).toEqual({ DOCKER_HOST: 'unix:///x' });
  });

  it('stops the CLI as soon as an update is paused, without waiting for it', async () => {
    const { runner, run } = setup();
    const never = gate();
    runner.on(words('service inspect'), {
      stdout: inspectOf({ State: 'paused', StartedAt: 'now', Message: 'update paused' }),
    });
    runner.once(words('service inspect'), { stdout: inspectOf(null) });
    runner.on(words('service ps'), { stdout: psOf(['Starting', 'Running']) });
    runner.on(words('stack deploy'), { until: never.promise });
    const res = await run();
    expect(res).toMatchObject({
      ok: false,
      error: 'service web: Swarm paused the update: update paused',
    });
    expect(runner.alive).toBe(0);
  });

  it('succeeds once the CLI is done and every replica runs, with the digests', async () => {
    const { runner, run, lines } = setup();
    runner.on(words('service inspect'), {
      stdout: inspectOf({ State: 'completed', StartedAt: 'now' }),
    });
    runner.once(words('service inspect'), { stdout: inspectOf(null, 'reg/web:v1@sha256:1111') });
    runner.on(words('service ps'), { stdout: psOf(['Running', 'Running']) });
    runner.once(words('service ps'), { stdout: psOf(['Running', 'Starting']) });
    runner.on(words('stack deploy'), {
      lines: [
        { stream: 'stdout', text: 'Updating service sd-web_web' },
        { stream: 'stdout', text: 'verify: Waiting 4 seconds to verify that tasks are stable...' },
        { stream: 'stdout', text: 'verify: Waiting 4 seconds to verify that tasks are stable...' },
      ],
    });
    const res = await run();
    expect(res).toEqual({ ok: true, aborted: false, imageDigests: { web: IMG } });
    expect(lines).toContain('Updating service sd-web_web');
    expect(lines.some((l) => l.startsWith('verify: Waiting'))).toBe(false);
    expect(lines).toContain('swarm: web: 2/2 running');
  });

  it('ends aborted on cancel with the CLI killed', async () => {
    const { runner, run, controller } = setup();
    const never = gate();
    runner.on(words('service inspect'), { stdout: inspectOf(null) });
    runner.on(words('service ps'), { stdout: psOf(['Starting', 'Starting']) });
    runner.on(words('stack deploy'), { until: never.promise });
    const pending = run();
    await new Promise((r) => setTimeout(r, 20));
    controller.abort('cancel');
    expect(await pending).toEqual({ ok: false, aborted: true });
    expect(runner.alive).toBe(0);
  });

  it('fails with the CLI error when docker stack deploy exits non-zero', async () => {
    const { runner, run } = setup();
    runner.on(words('service inspect'), { stdout: inspectOf(null) });
    runner.on(words('service ps'), { stdout: '' });
    runner.on(words('stack deploy'), { exitCode: 1, stderr: 'network sd-web_default not found\n' });
    expect(await run()).toEqual({
      ok: false,
      aborted: false,
      error: 'docker stack deploy failed: network sd-web_default not found',
    });
  });
});
