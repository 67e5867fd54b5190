import { type ControlCommand, validation } from '@simpledeploy/core';
import { STACK_NAMESPACE_LABEL } from './service-status';
import { type SwarmCommandOptions, stackRmArgs } from './swarm-engine';

export interface SwarmControl {
  command: ControlCommand;
  services?: string[] | undefined;
  service?: string | undefined;
  replicas?: number | undefined;
}

/** Compose commands with no Swarm counterpart, and what to do instead. */
const NO_SWARM_COMMAND: Partial<Record<ControlCommand, string>> = {
  start: 'scale the service back up (or deploy the stack)',
  stop: 'scale the service to 0 replicas',
  pause: 'scale the service to 0 replicas',
  unpause: 'scale the service back up',
  pull: 'deploy with "force": true (the nodes pull the tags again)',
};

/** Refuses, before it is queued, a lifecycle command a Swarm stack cannot run. */
export function assertSwarmControl(req: SwarmControl): void {
  const instead = NO_SWARM_COMMAND[req.command];
  if (instead)
    throw validation(`${req.command} is a compose command; on a Swarm stack, ${instead}`, {
      field: 'command',
    });
}

/**
 * A lifecycle command on a Swarm stack: `down` is `docker stack rm`, `scale` is
 * `docker service scale`, `restart` is `docker service update --force` (new tasks, same
 * spec). Returns the combined exit code and output.
 */
export async function runSwarmControl(
  o: SwarmCommandOptions,
  stack: string,
  req: SwarmControl,
): Promise<{ exitCode: number; output: string }> {
  assertSwarmControl(req);
  const run = (args: string[]) =>
    o.runner.run(o.docker, args, { env: o.env, ...(o.signal ? { signal: o.signal } : {}) });
  const done = (r: { exitCode: number; stdout: string; stderr: string }) => ({
    exitCode: r.exitCode,
    output: `${r.stdout}${r.stderr}`,
  });
  if (req.command === 'down') return done(await run(stackRmArgs(stack)));
  if (req.command === 'scale')
    return done(
      await run(['service', 'scale', '--detach', `${stack}_${req.service}=${req.replicas}`]),
    );
  // restart: the named services, or every service of the stack.
  let names = (req.services ?? []).map((s) => `${stack}_${s}`);
  if (!names.length) {
    const ls = await run([
      'service',
      'ls',
      '--filter',
      `label=${STACK_NAMESPACE_LABEL}=${stack}`,
      '--format',
      '{{.Name}}',
    ]);
    if (ls.exitCode !== 0) return done(ls);
    names = ls.stdout.split('\n').filter((l) => l.trim());
  }
  let exitCode = 0;
  let output = '';
  for (const name of names) {
    const r = await run(['service', 'update', '--force', '--detach', name]);
    if (r.exitCode !== 0) exitCode = r.exitCode;
    output += `${r.stdout}${r.stderr}`;
  }
  return { exitCode, output };
}
