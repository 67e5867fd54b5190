import { type ComposeTarget, composeArgs } from '@simpledeploy/compose';
import type { CommandRunner, RunResult } from '@simpledeploy/core';

/**
 * Start-first updates (`update_order: "start-first"`), which compose does not have: a
 * changed service gets its new containers started beside the old ones, and the old
 * ones go only once the new ones are healthy. Clients that reach the service by its
 * name on the project network (a reverse proxy, another service) never find it empty.
 * A service that cannot run twice at once (a fixed host port, a `container_name`) says
 * why and is left to compose's stop-first recreate.
 */
export interface StartFirstDeps {
  runner: CommandRunner;
  docker: string;
  target: ComposeTarget;
  env: Record<string, string>;
  cwd: string;
  signal: AbortSignal;
  /** A line for the deployment log. */
  log: (text: string) => void;
  /** Runs a compose subcommand with its output streamed into the log. */
  compose: (sub: string, extra: string[]) => Promise<RunResult>;
  sleep: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch, from the deployer's clock. */
  now: () => number;
  /** How long new containers may take to become healthy. */
  healthTimeoutMs: number;
}

interface Service {
  name: string;
  reason?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** Why a service cannot have two generations at once, or undefined when it can. */
export function startFirstObstacle(svc: Record<string, unknown>): string | undefined {
  if (typeof svc.container_name === 'string')
    return `it sets container_name (${svc.container_name}), which two containers cannot share`;
  const ports = Array.isArray(svc.ports) ? svc.ports : [];
  const fixed = ports.find((p) => isObj(p) && p.published !== undefined && p.published !== '');
  if (fixed && isObj(fixed))
    return `it publishes host port ${String(fixed.published)}, which two containers cannot hold`;
  if (svc.network_mode === 'host') return 'it uses the host network';
  return undefined;
}

/** The services of the model in the filter, each with what keeps it from starting first. */
export function planStartFirst(model: unknown, filter: string[]): Service[] {
  const services = isObj(model) && isObj(model.services) ? model.services : {};
  return Object.entries(services)
    .filter(([name]) => !filter.length || filter.includes(name))
    .map(([name, svc]) => {
      const reason = isObj(svc) ? startFirstObstacle(svc) : undefined;
      return reason ? { name, reason } : { name };
    });
}

interface Container {
  id: string;
  hash: string;
  running: boolean;
}

/**
 * Updates every changed service that can start first; returns an error message when new
 * containers never became healthy (they are removed then, and the old ones keep serving).
 */
export async function startFirstUpdate(
  model: unknown,
  filter: string[],
  d: StartFirstDeps,
): Promise<{ ok: true } | { ok: false; aborted: boolean; error: string }> {
  const run = (args: string[]) =>
    d.runner.run(d.docker, args, { env: d.env, cwd: d.cwd, signal: d.signal });
  for (const svc of planStartFirst(model, filter)) {
    const old = await containersOf(run, d.target.project, svc.name);
    const hash = await configHash(run, d.target, svc.name);
    const stale = old.filter((c) => c.running && c.hash !== hash);
    if (!hash || stale.length === 0) continue;
    if (svc.reason) {
      d.log(`start-first: ${svc.name} is updated stop-first because ${svc.reason}`);
      continue;
    }
    const n = old.filter((c) => c.running).length;
    d.log(`start-first: starting ${n} new ${svc.name} container(s) beside the old one(s)`);
    const scaled = await d.compose('up', [
      '-d',
      '--no-deps',
      '--no-recreate',
      '--scale',
      `${svc.name}=${n * 2}`,
      svc.name,
    ]);
    if (scaled.aborted) return { ok: false, aborted: true, error: 'aborted' };
    const now = await containersOf(run, d.target.project, svc.name);
    const fresh = now.filter((c) => !old.some((o) => o.id === c.id)).map((c) => c.id);
    if (scaled.exitCode !== 0 || fresh.length === 0) {
      if (fresh.length) await run(['rm', '-f', ...fresh]);
      return {
        ok: false,
        aborted: false,
        error: `start-first: the new ${svc.name} containers could not start beside the old ones`,
      };
    }
    const healthy = await waitHealthy(run, fresh, d);
    if (healthy !== true) {
      await run(['rm', '-f', ...fresh]);
      if (d.signal.aborted) return { ok: false, aborted: true, error: 'aborted' };
      return {
        ok: false,
        aborted: false,
        error: `start-first: the new ${svc.name} containers did not become healthy (${healthy}); the old ones kept serving`,
      };
    }
    d.log(`start-first: new ${svc.name} healthy; stopping the old one(s)`);
    const ids = stale.map((c) => c.id);
    await run(['stop', ...ids]);
    await run(['rm', ...ids]);
  }
  return { ok: true };
}

async function containersOf(
  run: (args: string[]) => Promise<RunResult>,
  project: string,
  service: string,
): Promise<Container[]> {
  const res = await run([
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
    '--format',
    '{{.ID}}\t{{.Label "com.docker.compose.config-hash"}}\t{{.State}}',
  ]);
  if (res.exitCode !== 0) return [];
  return res.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', hash = '', state = ''] = l.split('\t');
      return { id, hash, running: state === 'running' };
    });
}

/** The hash compose stamps on a service's containers for the current files. */
async function configHash(
  run: (args: string[]) => Promise<RunResult>,
  target: ComposeTarget,
  service: string,
): Promise<string | undefined> {
  const res = await run(composeArgs(target, 'config', ['--hash', service]));
  if (res.exitCode !== 0) return undefined;
  return res.stdout.trim().split(/\s+/)[1];
}

/** True once every container is healthy (or running, without a health check); else why not. */
async function waitHealthy(
  run: (args: string[]) => Promise<RunResult>,
  ids: string[],
  d: StartFirstDeps,
): Promise<true | string> {
  const deadline = d.now() + d.healthTimeoutMs;
  let last = 'not started';
  while (!d.signal.aborted) {
    const res = await run([
      'inspect',
      '--format',
      '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}',
      ...ids,
    ]);
    const states = res.stdout.trim().split('\n');
    const ok = res.exitCode === 0 && states.every((s) => /^running( healthy)?\s*$/.test(s));
    if (ok) return true;
    last = states.join(', ') || 'unknown';
    if (states.some((s) => /unhealthy|exited|dead/.test(s))) return last;
    if (d.now() > deadline) return `still ${last} after ${Math.round(d.healthTimeoutMs / 1000)} s`;
    await d.sleep(500);
  }
  return 'aborted';
}
