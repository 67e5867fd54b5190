/** The label Swarm puts on every service, config, secret and network of a stack. */
export const STACK_NAMESPACE_LABEL = 'com.docker.stack.namespace';

/** One service of a stack, from `docker service inspect`. */
export interface SwarmService {
  id: string;
  /** The service's name in the compose file (without the `<stack>_` prefix). */
  service: string;
  /** The image the spec runs: `repo:tag@sha256:…` once Swarm resolved it. */
  image: string;
  /** Replicas wanted; undefined for a global service (one per eligible node). */
  replicas: number | undefined;
  update: { state: string; startedAt: string; message: string } | null;
}

/** One task of a service, from `docker service ps --no-trunc --format '{{json .}}'`. */
export interface SwarmTask {
  id: string;
  /** `<stack>_<service>.<slot>` (or `.<node id>` for a global service). */
  name: string;
  service: string;
  image: string;
  node: string;
  desired: string;
  /** `running`, `starting`, `preparing`, `failed`, `shutdown`, … */
  state: string;
  error: string;
}

interface RawService {
  ID?: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    TaskTemplate?: { ContainerSpec?: { Image?: string } };
  };
  UpdateStatus?: { State?: string; StartedAt?: string; Message?: string } | null;
}

/** Reads `docker service inspect <ids>` (a JSON array) into the stack's services. */
export function parseServiceInspect(json: string, stack: string): SwarmService[] {
  const text = json.trim();
  if (!text.startsWith('[')) return [];
  return (JSON.parse(text) as RawService[])
    .map((r) => {
      const name = r.Spec?.Name ?? '';
      const u = r.UpdateStatus;
      return {
        id: r.ID ?? '',
        service: name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name,
        image: r.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
        replicas: r.Spec?.Mode?.Global ? undefined : (r.Spec?.Mode?.Replicated?.Replicas ?? 1),
        update: u?.State
          ? { state: u.State, startedAt: u.StartedAt ?? '', message: u.Message ?? '' }
          : null,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}

interface RawTask {
  ID?: string;
  Name?: string;
  Image?: string;
  Node?: string;
  DesiredState?: string;
  CurrentState?: string;
  Error?: string;
}

/** Reads `docker service ps --no-trunc --format '{{json .}}'` (one object a line). */
export function parseServicePs(text: string, stack: string): SwarmTask[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => {
      const r = JSON.parse(l) as RawTask;
      const name = r.Name ?? '';
      const bare = name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : name;
      return {
        id: r.ID ?? '',
        name,
        // `web.1` or `web.<node id>`; a service name has no dot.
        service: bare.split('.')[0] ?? bare,
        image: r.Image ?? '',
        node: r.Node ?? '',
        desired: (r.DesiredState ?? '').toLowerCase(),
        // "Running 5 seconds ago": the state is the first word.
        state: (r.CurrentState ?? '').split(' ')[0]?.toLowerCase() ?? '',
        error: r.Error ?? '',
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

/** Update states that mean the update did not go through: Swarm paused it or rolled it back. */
const FAILED_UPDATE = new Set([
  'paused',
  'rollback_started',
  'rollback_paused',
  'rollback_completed',
]);

export interface ServiceProgress {
  service: string;
  /** Tasks running the spec's image. */
  running: number;
  desired: number | undefined;
  /** One line for the live log. */
  line: string;
  /** Why the service will not converge; set when it failed. */
  failure?: string;
  done: boolean;
}

/**
 * Where one service of a deploy stands. `baselineUpdate` is the update's start time seen
 * before the deploy: an update status that did not change is an earlier deploy's, so it
 * neither fails nor blocks this one.
 */
export function serviceProgress(
  svc: SwarmService,
  tasks: readonly SwarmTask[],
  baselineUpdate: string | undefined,
): ServiceProgress {
  const mine = tasks.filter((t) => t.service === svc.service && t.desired === 'running');
  const running = mine.filter((t) => t.state === 'running' && t.image === svc.image).length;
  const update = svc.update && svc.update.startedAt !== baselineUpdate ? svc.update : null;
  const want = svc.replicas;
  const count = want === undefined ? `${running} running (global)` : `${running}/${want} running`;
  const lastError = tasks.find((t) => t.service === svc.service && t.error)?.error;
  const base = {
    service: svc.service,
    running,
    desired: want,
  };
  if (update && FAILED_UPDATE.has(update.state)) {
    const what = update.state.startsWith('rollback')
      ? `Swarm rolled the update back (${update.state})`
      : 'Swarm paused the update';
    const why = [update.message, lastError].filter(Boolean).join('; ');
    const failure = `service ${svc.service}: ${what}${why ? `: ${why}` : ''}`;
    return {
      ...base,
      line: `${svc.service}: ${count}, update ${update.state}`,
      failure,
      done: true,
    };
  }
  const updating = update?.state === 'updating';
  const enough = want === undefined ? running > 0 && running === mine.length : running >= want;
  const parts = [`${svc.service}: ${count}`];
  if (updating) parts.push('updating');
  if (!enough && lastError) parts.push(`last task error: ${lastError}`);
  return { ...base, line: parts.join(', '), done: enough && !updating };
}

/** service → the image reference with its digest, for the services whose spec has one. */
export function imageDigests(services: readonly SwarmService[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of services) if (s.image.includes('@sha256:')) out[s.service] = s.image;
  return out;
}
