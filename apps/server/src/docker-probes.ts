import type { ComponentHealth, HealthChecks } from '@simpledeploy/api';
import type { Clock, CommandRunner, RunResult } from '@simpledeploy/core';

export interface DockerProbeOptions {
  runner: CommandRunner;
  clock: Clock;
  /** The docker CLI's whole environment (config.childEnv). */
  env: Record<string, string>;
  /** A probe that takes longer is reported as down. Default 5 s. */
  timeoutMs?: number;
  /** How long an answer is reused, so frequent /health polls don't spawn docker each time. Default 5 s. */
  cacheMs?: number;
}

const MAX_MESSAGE = 200;

// The first meaningful line of the CLI's complaint, short enough for a health report.
function firstLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return (line ?? 'no output').slice(0, MAX_MESSAGE);
}

/** The Docker engine and compose v2 checks behind /health, cached for a few seconds. */
export function createDockerProbes(
  opts: DockerProbeOptions,
): Pick<HealthChecks, 'docker' | 'compose'> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const cacheMs = opts.cacheMs ?? 5000;

  const docker = async (args: string[]): Promise<RunResult | { error: string }> => {
    const abort = new AbortController();
    const timer = opts.clock.setTimeout(() => abort.abort(), timeoutMs);
    try {
      const result = await opts.runner.run('docker', args, {
        env: opts.env,
        signal: abort.signal,
      });
      if (result.aborted)
        return { error: `docker ${args[0]} did not answer within ${timeoutMs} ms` };
      return result;
    } catch {
      return { error: 'the docker CLI cannot be started: is it installed and on PATH?' };
    } finally {
      opts.clock.clearTimeout(timer);
    }
  };

  const engine = async (): Promise<ComponentHealth> => {
    const result = await docker(['version', '--format', 'json']);
    if ('error' in result) return { ok: false, error: result.error };
    if (result.exitCode !== 0) {
      return { ok: false, error: `the Docker engine does not answer: ${firstLine(result.stderr)}` };
    }
    try {
      const version = (JSON.parse(result.stdout) as { Server?: { Version?: unknown } }).Server
        ?.Version;
      if (typeof version === 'string') return { ok: true, version };
    } catch {
      // Reported below: the engine answered with something we cannot read.
    }
    return { ok: false, error: 'the Docker engine answered without a server version' };
  };

  const compose = async (): Promise<ComponentHealth> => {
    const result = await docker(['compose', 'version', '--short']);
    if ('error' in result) return { ok: false, error: result.error };
    const version = result.stdout.trim().replace(/^v/, '');
    if (result.exitCode !== 0 || version === '') {
      return { ok: false, error: 'docker compose v2 is not installed (the compose CLI plugin)' };
    }
    const major = Number.parseInt(version, 10);
    if (!(major >= 2)) {
      return { ok: false, version, error: `docker compose v2 is required, found ${version}` };
    }
    return { ok: true, version };
  };

  return {
    docker: cached(opts.clock, cacheMs, engine),
    compose: cached(opts.clock, cacheMs, compose),
  };
}

/** Reuses one answer (or the probe in flight) for ttlMs. */
function cached<T>(clock: Clock, ttlMs: number, fn: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = clock.now().getTime();
    if (last && now - last.at < ttlMs) return last.value;
    last = { at: now, value: fn() };
    return last.value;
  };
}
