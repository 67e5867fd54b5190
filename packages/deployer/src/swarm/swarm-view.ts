import type { DesiredProject, DriftItem } from '@simpledeploy/compose';
import type { SwarmService, SwarmTask } from './service-status';

/** One task of a Swarm stack in `GET /services`: the compose row plus the node it runs on. */
export interface SwarmTaskRow {
  service: string;
  /** The task's name, `<stack>_<service>.<slot>`. */
  container: string;
  image: string;
  state: string;
  health: string;
  node: string;
}

/** The tasks Swarm wants running, one row each, with their node (`GET /services`). */
export function swarmTaskRows(tasks: readonly SwarmTask[]): SwarmTaskRow[] {
  return tasks
    .filter((t) => t.desired === 'running')
    .map((t) => ({
      service: t.service,
      container: t.name,
      image: t.image,
      state: t.state,
      // Swarm folds health into the task state: a task is `starting` until healthy.
      health: '',
      node: t.node,
    }));
}

const digestOf = (ref: string) => {
  const at = ref.indexOf('@sha256:');
  return at < 0 ? undefined : ref.slice(at + 1);
};
const withoutDigest = (ref: string) => (ref.includes('@') ? ref.slice(0, ref.indexOf('@')) : ref);

/**
 * Drift of a Swarm stack against its current version, as a pure diff: services missing,
 * fewer (or more) replicas running than the version asks, images other than the digests
 * recorded at the version's last success (on the service, or on a task, with its node),
 * an update Swarm paused or rolled back, and services the version does not define.
 */
export function diffSwarmDrift(
  desired: DesiredProject,
  services: readonly SwarmService[],
  tasks: readonly SwarmTask[],
  digests: Record<string, string> | null | undefined,
): DriftItem[] {
  const items: DriftItem[] = [];
  const byName = new Map(services.map((s) => [s.service, s]));
  for (const want of desired.services) {
    const svc = byName.get(want.service);
    const expectedImage = digests?.[want.service] ?? want.image;
    if (!svc) {
      if (want.replicas > 0)
        items.push({
          service: want.service,
          type: 'missing',
          expected: expectedImage,
          actual: null,
        });
      continue;
    }
    const wantDigest = digestOf(expectedImage);
    const specMatches = wantDigest
      ? digestOf(svc.image) === wantDigest
      : withoutDigest(svc.image) === withoutDigest(expectedImage);
    if (!specMatches)
      items.push({
        service: want.service,
        type: 'image_mismatch',
        expected: expectedImage,
        actual: svc.image,
      });
    const live = tasks.filter((t) => t.service === want.service && t.desired === 'running');
    const running = live.filter((t) => t.state === 'running');
    if (svc.replicas !== undefined) {
      if (running.length < want.replicas) {
        const notRunning = live
          .filter((t) => t.state !== 'running')
          .map(
            (t) =>
              `${t.name} on ${t.node || 'no node'}: ${t.state}${t.error ? ` (${t.error})` : ''}`,
          );
        items.push({
          service: want.service,
          type: 'missing',
          expected: `${want.replicas} replicas`,
          actual: [`${running.length} running`, ...notRunning].join('; '),
        });
      } else if (svc.replicas > want.replicas) {
        items.push({
          service: want.service,
          type: 'extra',
          expected: `${want.replicas} replicas`,
          actual: `${svc.replicas} replicas`,
        });
      }
    }
    for (const t of running)
      if (t.image !== svc.image)
        items.push({
          service: want.service,
          type: 'image_mismatch',
          expected: svc.image,
          actual: `${t.image} on ${t.node}`,
          container: t.name,
        });
    const u = svc.update;
    if (u && (u.state === 'paused' || u.state.startsWith('rollback')))
      items.push({
        service: want.service,
        type: 'unhealthy',
        expected: 'update completed',
        actual: `update ${u.state}${u.message ? `: ${u.message}` : ''}`,
      });
  }
  const known = new Set(desired.known);
  for (const s of services)
    if (!known.has(s.service))
      items.push({
        service: s.service,
        type: 'extra',
        expected: null,
        actual: `service ${s.service} (${s.image})`,
      });
  return items;
}
