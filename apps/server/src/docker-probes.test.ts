import type { Clock, CommandRunner, RunOptions, RunResult, TimerHandle } from '@simpledeploy/core';
import { describe, expect, it } from 'vitest';
import { createDockerProbes } from './docker-probes';

type Answer = Partial<RunResult> | 'hang' | 'enoent';

/** A runner answering by argv; 'hang' waits for the abort signal. */
function fakeRunner(answers: Record<string, Answer>) {
  const calls: { args: readonly string[]; options?: RunOptions }[] = [];
  const runner: CommandRunner = {
    async run(_file, args, options) {
      calls.push({ args, ...(options ? { options } : {}) });
      const answer = answers[args.join(' ')];
      if (answer === undefined) throw new Error(`unexpected ${args.join(' ')}`);
      if (answer === 'enoent') throw new Error('spawn docker ENOENT');
      const base = { exitCode: 0, stdout: '', stderr: '', durationMs: 1, aborted: false };
      if (answer === 'hang') {
        await new Promise<void>((resolve) =>
          options?.signal?.addEventListener('abort', () => resolve()),
        );
        return { ...base, exitCode: 143, aborted: true };
      }
      return { ...base, ...answer };
    },
  };
  return { runner, calls };
}

/** A clock that moves only when told; timers fire on advance(). */
function fakeClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => new Date(now),
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.add(t);
      return t as TimerHandle;
    },
    clearTimeout: (h) => timers.delete(h as { at: number; fn: () => void }),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of [...timers]) {
      if (t.at <= now) {
        timers.delete(t);
        t.fn();
      }
    }
  };
  return { clock, advance };
}

const VERSION_JSON = JSON.stringify({
  Client: { Version: '28.2.2' },
  Server: { Version: '20.10.24+dfsg1' },
});
const ENV = { PATH: '/usr/bin' };

describe('docker probes', () => {
  it('reports the engine and compose versions', async () => {
    const { runner, calls } = fakeRunner({
      'version --format json': { stdout: VERSION_JSON },
      'compose version --short': { stdout: '2.26.1-4\n' },
    });
    const probes = createDockerProbes({ runner, clock: fakeClock().clock, env: ENV });
    expect(await probes.docker()).toEqual({ ok: true, version: '20.10.24+dfsg1' });
    expect(await probes.compose()).toEqual({ ok: true, version: '2.26.1-4' });
    expect(calls[0]?.options?.env).toBe(ENV);
  });

  it('reports an engine that does not answer with the CLI complaint', async () => {
    const { runner } = fakeRunner({
      'version --format json': {
        exitCode: 1,
        stdout: '{"Client":{},"Server":null}',
        stderr:
          '\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
      },
    });
    const probes = createDockerProbes({ runner, clock: fakeClock().clock, env: ENV });
    expect(await probes.docker()).toEqual({
      ok: false,
      error:
        'the Docker engine does not answer: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    });
  });

  it('reports a missing CLI and a missing compose plugin', async () => {
    const missing = createDockerProbes({
      runner: fakeRunner({ 'version --format json': 'enoent' }).runner,
      clock: fakeClock().clock,
      env: ENV,
    });
    expect(await missing.docker()).toMatchObject({ ok: false, error: /cannot be started/ });

    const noCompose = createDockerProbes({
      runner: fakeRunner({
        'compose version --short': {
          exitCode: 1,
          stderr: "docker: 'compose' is not a docker command.",
        },
      }).runner,
      clock: fakeClock().clock,
      env: ENV,
    });
    expect(await noCompose.compose()).toMatchObject({ ok: false, error: /not installed/ });
  });

  it('rejects compose v1', async () => {
    const { runner } = fakeRunner({ 'compose version --short': { stdout: '1.29.2' } });
    const probes = createDockerProbes({ runner, clock: fakeClock().clock, env: ENV });
    expect(await probes.compose()).toEqual({
      ok: false,
      version: '1.29.2',
      error: 'docker compose v2 is required, found 1.29.2',
    });
  });

  it('gives up on a probe that hangs after the timeout', async () => {
    const { runner } = fakeRunner({ 'version --format json': 'hang' });
    const { clock, advance } = fakeClock();
    const probes = createDockerProbes({ runner, clock, env: ENV, timeoutMs: 2000 });
    const pending = probes.docker();
    advance(2000);
    expect(await pending).toEqual({
      ok: false,
      error: 'docker version did not answer within 2000 ms',
    });
  });

  it('reuses an answer for the cache period, then asks again', async () => {
    const { runner, calls } = fakeRunner({ 'version --format json': { stdout: VERSION_JSON } });
    const { clock, advance } = fakeClock();
    const probes = createDockerProbes({ runner, clock, env: ENV, cacheMs: 5000 });
    await Promise.all([probes.docker(), probes.docker()]);
    advance(4999);
    await probes.docker();
    expect(calls).toHaveLength(1);
    advance(1);
    await probes.docker();
    expect(calls).toHaveLength(2);
  });
});
