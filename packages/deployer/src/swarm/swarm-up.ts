import type { CommandRunner } from '@simpledeploy/core';
import type { ComposeSession } from '../compose-session';
import { deployAndWait } from './swarm-deploy';
import { pruneStackObjects, readStack } from './swarm-engine';
import { renderForSwarm } from './swarm-render';

export interface SwarmUpOptions {
  runner: CommandRunner;
  docker: string;
  /** The server's private run dir: the rendered stack file lives there, never in the deploy dir. */
  runDir: string;
  sleep: (ms: number) => Promise<void>;
  signal: AbortSignal;
  /** The stack's services on Swarm are `<stack>_<service>`: the compose project name. */
  stack: string;
  services: readonly string[];
  /** service → `repo:tag@sha256:…` to run instead of the tags (a redeploy of a stored version). */
  pin?: Record<string, string> | null | undefined;
  /** Appends a line to the deployment's live log; the caller redacts. */
  log: (stream: 'stdout' | 'stderr' | 'system', text: string) => void;
  describeFailure: (stderr: string) => string;
  /** Called right before Swarm is asked to change anything. */
  touching: () => void;
  pollMs?: number;
}

export type SwarmUpResult =
  | { ok: true; aborted: false; imageDigests: Record<string, string> }
  | { ok: false; aborted: boolean; error?: string };

/**
 * The `swarm` engine's `up` of a version, after the host policy allowed it: render and
 * refuse what Swarm would not honour (nothing is touched then), deploy, wait for every
 * service to converge, and report the digests the services run (recorded on the version,
 * so a rollback runs exactly them).
 */
export async function swarmUp(session: ComposeSession, o: SwarmUpOptions): Promise<SwarmUpResult> {
  const pinned = Object.keys(o.pin ?? {}).length;
  if (pinned)
    o.log('system', `pinning ${pinned} image(s) to the digests of this version's last success`);
  const engine = { runner: o.runner, docker: o.docker, env: session.env, signal: o.signal };
  // What runs now is read while compose renders: the wait compares against it.
  const before = readStack(engine, o.stack);
  before.catch(() => undefined);
  const rendered = await renderForSwarm({
    runner: o.runner,
    docker: o.docker,
    session,
    stack: o.stack,
    services: o.services,
    pin: o.pin,
    runDir: o.runDir,
    signal: o.signal,
    describeFailure: o.describeFailure,
  });
  if (!rendered.ok) {
    for (const p of rendered.problems ?? [])
      o.log('system', `swarm: ${p.service ? `service ${p.service}: ` : ''}${p.key}: ${p.fix}`);
    return { ok: false, aborted: rendered.aborted, error: rendered.error };
  }
  try {
    o.touching();
    const res = await deployAndWait({
      runner: o.runner,
      docker: o.docker,
      env: session.env,
      signal: o.signal,
      file: rendered.file,
      stack: o.stack,
      log: o.log,
      sleep: o.sleep,
      describeFailure: o.describeFailure,
      before,
      ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
    });
    if (!res.ok) return res;
    const removed = await pruneStackObjects(engine, o.stack, {
      configs: rendered.configs,
      secrets: rendered.secrets,
    });
    if (removed.length)
      o.log('system', `removed configs and secrets no longer used: ${removed.join(', ')}`);
    return res;
  } finally {
    await rendered.dispose();
  }
}
