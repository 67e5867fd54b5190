import { SERVICE_LABEL } from './drift';
import { parseImageReference, repoDigestOf } from './registry/reference';

const ONEOFF_LABEL = 'com.docker.compose.oneoff';

/** The image one service's container was created from, as `docker inspect` tells it. */
export interface ServiceImage {
  service: string;
  /** The reference compose gave the engine (`Config.Image`). */
  image: string;
  /** The local image id (`Image`, `sha256:…`). */
  imageId: string;
}

interface RawContainer {
  Name?: string;
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
}

/**
 * Reads `docker inspect <containers>` into one image per service (the first container by
 * name when a service has several); `docker compose run` containers are left out.
 */
export function parseServiceImages(json: string): ServiceImage[] {
  const text = json.trim();
  if (!text) return [];
  const byService = new Map<string, ServiceImage & { name: string }>();
  for (const r of JSON.parse(text) as RawContainer[]) {
    const labels = r.Config?.Labels ?? {};
    const service = labels[SERVICE_LABEL];
    if (!service || labels[ONEOFF_LABEL] === 'True' || !r.Image || !r.Config?.Image) continue;
    const name = r.Name ?? '';
    const have = byService.get(service);
    if (have && have.name <= name) continue;
    byService.set(service, { service, image: r.Config.Image, imageId: r.Image, name });
  }
  return [...byService.values()]
    .map(({ service, image, imageId }) => ({ service, image, imageId }))
    .sort((a, b) => a.service.localeCompare(b.service));
}

/** Reads `docker image inspect <ids>` into each image id's `RepoDigests`. */
export function parseRepoDigests(json: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const text = json.trim();
  if (!text) return out;
  for (const r of JSON.parse(text) as { Id?: string; RepoDigests?: string[] | null }[]) {
    if (r.Id) out.set(r.Id, r.RepoDigests ?? []);
  }
  return out;
}

/**
 * The digests a running image is known by in the repository of `image` (what it was
 * pulled as or pushed to): `RepoDigests` entries of other repositories are left out.
 */
export function runningDigests(image: string, repoDigests: readonly string[]): string[] {
  let repository: string;
  try {
    const r = parseImageReference(image);
    repository = `${r.registry}/${r.repository}`;
  } catch {
    return [];
  }
  return repoDigests
    .map(repoDigestOf)
    .filter((d) => d?.repository === repository)
    .map((d) => d?.digest as string);
}
