/** One container of a compose project, as `docker compose ps --format json` reports it. */
export interface ContainerState {
  service: string;
  container: string;
  image: string;
  state: string;
  health: string;
  /** The Swarm node a task runs on (a Swarm stack's rows only). */
  node?: string;
}

interface RawPs {
  Name?: string;
  Service?: string;
  Image?: string;
  State?: string;
  Health?: string;
}

/** Compose prints a JSON array (before 2.21) or one JSON object per line (since): accept both. */
export function parsePsJson(stdout: string): ContainerState[] {
  const text = stdout.trim();
  if (!text) return [];
  const raws: RawPs[] = text.startsWith('[')
    ? (JSON.parse(text) as RawPs[])
    : text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as RawPs);
  return raws
    .map((r) => ({
      service: r.Service ?? '',
      container: r.Name ?? '',
      image: r.Image ?? '',
      state: r.State ?? '',
      health: r.Health ?? '',
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.container.localeCompare(b.container));
}
