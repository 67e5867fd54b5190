/** Label compose puts on every container of a project. */
export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
const ONEOFF_LABEL = 'com.docker.compose.oneoff';

/** One service as the current version says it should run. */
export interface DesiredService {
  service: string;
  image: string;
  /** Containers wanted; 0 means the service is declared but not meant to run. */
  replicas: number;
  /** A job that runs to completion (another service waits for it to complete): exit 0 is fine. */
  oneShot: boolean;
}

export interface DesiredProject {
  /** Services to keep running (the service_filter with what they depend on, or all). */
  services: DesiredService[];
  /** Every service the compose file defines, filtered or not: anything else is extra. */
  known: string[];
}

/** One container of the project, as the engine reports it. */
export interface ActualContainer {
  name: string;
  service: string;
  image: string;
  /** `running`, `exited`, `created`, `paused`, `restarting`, `dead`. */
  state: string;
  exitCode: number;
  /** `healthy`, `unhealthy`, `starting`, or '' without a health check. */
  health: string;
  /** The engine's RestartCount: restarts by its restart policy since the container was created. */
  restartCount?: number;
  /** When the container was created (RFC 3339). */
  createdAt?: string;
}

export type DriftType =
  | 'missing'
  | 'image_mismatch'
  | 'stopped'
  | 'unhealthy'
  | 'extra'
  | 'crash_loop';

export interface DriftItem {
  service: string;
  type: DriftType;
  expected: string | null;
  actual: string | null;
  container?: string;
}

interface RawService {
  image?: string;
  scale?: number;
  deploy?: { replicas?: number } | null;
  depends_on?: Record<string, { condition?: string }> | string[];
}

/**
 * Reads `docker compose config --format json` into the services to keep running.
 * With a service filter, the filtered services and what they depend on (as `up <svc>`
 * starts them too); without one, every service.
 */
export function parseComposeConfig(json: string, filter: readonly string[] = []): DesiredProject {
  const doc = JSON.parse(json) as { name?: string; services?: Record<string, RawService> };
  const raw = doc.services ?? {};
  const project = doc.name ?? '';
  const oneShot = new Set<string>();
  const deps = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(raw)) {
    const d = svc.depends_on ?? {};
    const entries: [string, { condition?: string }][] = Array.isArray(d)
      ? d.map((n) => [n, {}])
      : Object.entries(d);
    deps.set(
      name,
      entries.map(([n]) => n),
    );
    for (const [n, cond] of entries) {
      if (cond?.condition === 'service_completed_successfully') oneShot.add(n);
    }
  }
  let wanted = Object.keys(raw);
  if (filter.length) {
    const seen = new Set<string>();
    const visit = (n: string) => {
      if (seen.has(n) || !raw[n]) return;
      seen.add(n);
      for (const d of deps.get(n) ?? []) visit(d);
    };
    for (const f of filter) visit(f);
    wanted = wanted.filter((n) => seen.has(n));
  }
  return {
    known: Object.keys(raw).sort(),
    services: wanted.sort().map((service) => {
      const svc = raw[service] ?? {};
      const replicas = svc.deploy?.replicas ?? svc.scale ?? 1;
      return {
        service,
        // Compose names the image of a build-only service `<project>-<service>`.
        image: svc.image ?? `${project}-${service}`,
        replicas,
        oneShot: oneShot.has(service),
      };
    }),
  };
}

interface RawInspect {
  Name?: string;
  Created?: string;
  RestartCount?: number;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string } | null };
}

/** Reads `docker inspect <containers>` (a JSON array) into the project's containers. */
export function parseInspect(json: string): ActualContainer[] {
  const text = json.trim();
  if (!text) return [];
  const raws = JSON.parse(text) as RawInspect[];
  return raws
    .filter((r) => r.Config?.Labels?.[ONEOFF_LABEL] !== 'True')
    .map((r) => ({
      name: (r.Name ?? '').replace(/^\//, ''),
      service: r.Config?.Labels?.[SERVICE_LABEL] ?? '',
      image: r.Config?.Image ?? '',
      state: r.State?.Status ?? '',
      exitCode: r.State?.ExitCode ?? 0,
      health: r.State?.Health?.Status ?? '',
      restartCount: r.RestartCount ?? 0,
      ...(r.Created ? { createdAt: r.Created } : {}),
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
}

/**
 * The reference an image is known by, so `web` and `docker.io/library/web:latest` compare
 * equal: Docker Hub's implicit host and library namespace dropped, `:latest` added.
 */
export function normalizeImage(ref: string): string {
  let r = ref.trim();
  r = r.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  r = r.replace(/^library\//, '');
  if (r.includes('@')) return r;
  const lastSlash = r.lastIndexOf('/');
  const hasTag = r.slice(lastSlash + 1).includes(':');
  return hasTag ? r : `${r}:latest`;
}

/**
 * The difference between what the current version says and what runs, as a pure
 * function: `missing` (fewer containers than wanted), `image_mismatch`, `stopped`,
 * `unhealthy`, and `extra` (a container of the project whose service the compose file
 * does not define, which `up --remove-orphans` would remove).
 */
export function diffDrift(
  desired: DesiredProject,
  actual: readonly ActualContainer[],
): DriftItem[] {
  const items: DriftItem[] = [];
  const byService = new Map<string, ActualContainer[]>();
  for (const c of actual) {
    const list = byService.get(c.service) ?? [];
    list.push(c);
    byService.set(c.service, list);
  }
  for (const want of desired.services) {
    if (want.replicas <= 0) continue;
    const containers = byService.get(want.service) ?? [];
    if (containers.length < want.replicas) {
      items.push({
        service: want.service,
        type: 'missing',
        expected: want.replicas > 1 ? `${want.replicas} containers of ${want.image}` : want.image,
        actual: containers.length ? `${containers.length} container(s)` : null,
      });
    }
    for (const c of containers) {
      const base = { service: want.service, container: c.name };
      if (normalizeImage(c.image) !== normalizeImage(want.image)) {
        items.push({ ...base, type: 'image_mismatch', expected: want.image, actual: c.image });
      }
      const completed = want.oneShot && c.state === 'exited' && c.exitCode === 0;
      if (c.state !== 'running' && c.state !== 'restarting' && !completed) {
        items.push({
          ...base,
          type: 'stopped',
          expected: want.oneShot ? 'running or exited (0)' : 'running',
          actual: c.state === 'exited' ? `exited (${c.exitCode})` : c.state || 'unknown',
        });
      } else if (c.health === 'unhealthy') {
        items.push({ ...base, type: 'unhealthy', expected: 'healthy', actual: 'unhealthy' });
      }
    }
  }
  const known = new Set(desired.known);
  for (const c of actual) {
    if (!known.has(c.service)) {
      items.push({
        service: c.service || '(none)',
        container: c.name,
        type: 'extra',
        expected: null,
        actual: `${c.name} (${c.image}, ${c.state})`,
      });
    }
  }
  return items;
}
