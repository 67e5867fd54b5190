/** Docker Hub's registry API host, where `docker.io/...` and bare names live. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** An image reference split the way the Docker CLI splits it. */
export interface ImageReference {
  /** The registry host as written (`docker.io` for Docker Hub), with its port. */
  registry: string;
  /** The host the registry API answers on (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  /** The repository path, with Docker Hub's implicit `library/` added. */
  repository: string;
  /** The tag; `latest` when neither a tag nor a digest is given. */
  tag: string | undefined;
  /** `sha256:…` when the reference pins a digest. */
  digest: string | undefined;
  /** `registry/repository:tag` (or `@digest`): one key for every spelling of the same image. */
  canonical: string;
}

// Lowercase path components separated by /, as the distribution spec allows them.
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/**
 * Parses `[registry/]repository[:tag][@digest]` like the Docker CLI: the first component
 * is a registry only when it has a `.` or a `:` or is `localhost`; otherwise the image is
 * on Docker Hub, whose one-component names live under `library/`. Throws on a reference
 * the CLI would refuse.
 */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new Error(`"${ref}" has an invalid digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new Error(`"${ref}" has an invalid tag`);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasRegistry =
    slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = 'docker.io';
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  if (!REPOSITORY.test(repository)) throw new Error(`"${ref}" is not a valid image reference`);
  if (!tag && !digest) tag = 'latest';
  const apiHost = registry === 'docker.io' ? DOCKER_HUB_API : registry;
  const canonical = `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { registry, apiHost, repository, tag, digest, canonical };
}

/**
 * The registry host of a login as stored on a stack (`docker_registry`, `registries[]`):
 * `https://index.docker.io/v1/`, `docker.io` and an empty value all mean Docker Hub.
 */
export function registryHostOf(login: string): string {
  const host = login
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return !host || DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

/** `repository` of a `RepoDigests` entry (`host/repo@sha256:…`) in canonical form, or undefined. */
export function repoDigestOf(entry: string): { repository: string; digest: string } | undefined {
  try {
    const r = parseImageReference(entry);
    return r.digest ? { repository: `${r.registry}/${r.repository}`, digest: r.digest } : undefined;
  } catch {
    return undefined;
  }
}
