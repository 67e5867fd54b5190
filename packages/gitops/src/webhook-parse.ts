import { posix } from 'node:path';
import { validation } from '@simpledeploy/core';
import type { HeaderReader } from './webhook-verify';

export type GitHost = 'github' | 'gitea' | 'gogs' | 'gitlab' | 'generic';

/** What a git host's webhook says, independent of the host. */
export interface WebhookEvent {
  host: GitHost;
  /** The event header as sent (`push`, `ping`, `Push Hook`...); undefined without one. */
  event: string | undefined;
  kind: 'ping' | 'push' | 'other';
  deliveryId: string | undefined;
  /** Full ref of a push: `refs/heads/main`, `refs/tags/v1`. */
  ref: string | undefined;
  branch: string | undefined;
  tag: string | undefined;
  /** Commit the ref points at after the push. */
  commit: string | undefined;
  /** The push removed the ref. */
  deleted: boolean;
  /** Files the pushed commits touch; undefined when the payload does not list them all. */
  changedFiles: string[] | undefined;
  /** The repository's default branch, when the payload names it. */
  defaultBranch: string | undefined;
  /** The pushed repository's http(s) URLs as the payload names them, normalized (see repoKey). */
  repositories: string[];
}

const ZERO_SHA = /^0{40}$/;
/** GitHub lists at most this many commits in a push payload. */
const GITHUB_MAX_COMMITS = 2048;

interface RawCommit {
  added?: unknown;
  modified?: unknown;
  removed?: unknown;
}

interface RawPush {
  ref?: unknown;
  after?: unknown;
  checkout_sha?: unknown;
  deleted?: unknown;
  commits?: unknown;
  total_commits_count?: unknown;
  repository?: {
    default_branch?: unknown;
    clone_url?: unknown;
    html_url?: unknown;
    git_http_url?: unknown;
    homepage?: unknown;
  } | null;
  project?: { default_branch?: unknown; git_http_url?: unknown; web_url?: unknown } | null;
}

/**
 * One spelling per repository, so a stack's repo_url and a payload's clone URL compare
 * equal: no credentials, scheme, case of the host, trailing slash or `.git`.
 */
export function repoKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    const path = u.pathname.replace(/\/+$/, '').replace(/\.git$/i, '');
    return `${u.host.toLowerCase()}${path}`;
  } catch {
    return undefined;
  }
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

function detectHost(header: HeaderReader): GitHost {
  // Gitea and Forgejo also send X-Gogs-Event and X-GitHub-Event for compatibility: check them first.
  if (header('x-gitlab-event')) return 'gitlab';
  if (header('x-gitea-event') || header('x-forgejo-event')) return 'gitea';
  if (header('x-gogs-event')) return 'gogs';
  if (header('x-github-event')) return 'github';
  return 'generic';
}

function eventOf(host: GitHost, header: HeaderReader): string | undefined {
  switch (host) {
    case 'gitlab':
      return header('x-gitlab-event');
    case 'gitea':
      return header('x-gitea-event') ?? header('x-forgejo-event');
    case 'gogs':
      return header('x-gogs-event');
    case 'github':
      return header('x-github-event');
    case 'generic':
      return undefined;
  }
}

function deliveryOf(header: HeaderReader): string | undefined {
  return (
    header('x-github-delivery') ??
    header('x-gitea-delivery') ??
    header('x-forgejo-delivery') ??
    header('x-gogs-delivery') ??
    header('x-gitlab-event-uuid')
  )?.trim();
}

function kindOf(host: GitHost, event: string | undefined): WebhookEvent['kind'] {
  const e = event?.toLowerCase();
  if (e === 'ping') return 'ping';
  if (host === 'gitlab') return e === 'push hook' || e === 'tag push hook' ? 'push' : 'other';
  if (e === 'push') return 'push';
  // A caller with the API key and no event header (a CI job): a push if it names a ref.
  if (host === 'generic') return 'push';
  return 'other';
}

/** Every file the listed commits add, change or remove; undefined when the list is partial. */
function changedFiles(host: GitHost, body: RawPush): string[] | undefined {
  if (!Array.isArray(body.commits) || body.commits.length === 0) return undefined;
  const commits = body.commits as RawCommit[];
  if (
    host === 'gitlab' &&
    typeof body.total_commits_count === 'number' &&
    body.total_commits_count > commits.length
  )
    return undefined;
  if (host === 'github' && commits.length >= GITHUB_MAX_COMMITS) return undefined;
  const files = new Set<string>();
  for (const c of commits) {
    const lists = [c.added, c.modified, c.removed];
    // A host that leaves the lists out tells nothing about what changed.
    if (!lists.some(Array.isArray)) return undefined;
    for (const list of lists) {
      if (!Array.isArray(list)) continue;
      for (const f of list) if (typeof f === 'string') files.add(f);
    }
  }
  return [...files].sort();
}

/**
 * Reads a webhook of GitHub, Gitea/Forgejo, Gogs or GitLab (or a generic caller):
 * the event, delivery id, pushed ref and commit, and the files the push changed.
 */
export function parseWebhook(header: HeaderReader, rawBody: Uint8Array): WebhookEvent {
  const host = detectHost(header);
  const event = eventOf(host, header);
  let body: RawPush = {};
  const text = new TextDecoder().decode(rawBody).trim();
  if (text) {
    let parsed: unknown;
    try {
      // Hosts that post forms (GitHub's "application/x-www-form-urlencoded") wrap JSON in `payload=`.
      parsed = JSON.parse(
        text.startsWith('payload=') ? decodeURIComponent(text.slice(8).replace(/\+/g, ' ')) : text,
      );
    } catch {
      throw validation('the webhook body is not valid JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw validation("the webhook body must be a JSON object (the git host's event) or empty");
    }
    body = parsed as RawPush;
  }
  const ref = str(body.ref);
  const commit = str(body.checkout_sha) ?? str(body.after);
  const branch = ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  const tag = ref?.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
  return {
    host,
    event,
    kind: kindOf(host, event),
    deliveryId: deliveryOf(header) || undefined,
    ref,
    branch,
    tag,
    commit: commit && !ZERO_SHA.test(commit) ? commit : undefined,
    deleted: body.deleted === true || (!!str(body.after) && ZERO_SHA.test(str(body.after) ?? '')),
    changedFiles: changedFiles(host, body),
    defaultBranch: str(body.repository?.default_branch) ?? str(body.project?.default_branch),
    repositories: [
      ...new Set(
        [
          body.repository?.clone_url,
          body.repository?.html_url,
          body.repository?.git_http_url,
          body.repository?.homepage,
          body.project?.git_http_url,
          body.project?.web_url,
        ]
          .map((u) => (str(u) ? repoKey(str(u) as string) : undefined))
          .filter((k): k is string => !!k),
      ),
    ],
  };
}

/** The repository files a stack's deploy reads: compose files, includes and env files. */
export function relevantFiles(opts: {
  composeFiles: readonly string[];
  envFile?: string | undefined;
}): Set<string> {
  const out = new Set<string>();
  for (const f of opts.composeFiles) {
    const norm = posix.normalize(f);
    out.add(norm);
    // The .env compose reads is the one next to the compose file, else at the root.
    out.add(posix.join(posix.dirname(norm), '.env'));
  }
  out.add('.env');
  if (opts.envFile) out.add(posix.normalize(opts.envFile));
  return out;
}

/**
 * Whether a push matters to the stack: true when the changed files are unknown or one
 * of them is a file the deploy reads. Returns the reason when it does not matter.
 */
export function pushTouches(
  changed: readonly string[] | undefined,
  relevant: ReadonlySet<string>,
): { relevant: true } | { relevant: false; reason: string } {
  if (!changed) return { relevant: true };
  if (changed.some((f) => relevant.has(posix.normalize(f)))) return { relevant: true };
  return {
    relevant: false,
    reason: `the push changes none of the stack's files (${[...relevant].sort().join(', ')}): ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''}`,
  };
}
