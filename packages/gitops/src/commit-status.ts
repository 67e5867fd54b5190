import type { DeploymentStatus } from '@simpledeploy/core';
import type { StackRow } from '@simpledeploy/db';

/** The git hosts whose commit status API simpledeploy speaks. */
export type CommitStatusHost = 'github' | 'gitea' | 'gitlab';

/** Where one stack's statuses go. */
export interface CommitStatusTarget {
  host: CommitStatusHost;
  /** API base without a trailing slash: https://api.github.com, https://git.example/api/v1, …/api/v4. */
  api: string;
  /** `owner/repo` (GitHub, Gitea) or the project's full path (GitLab groups and subgroups). */
  project: string;
}

/** The state of a deployment as a status: pending while it runs, then how it ended. */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/** Hosts known by name, for commit_status `auto`. */
const KNOWN_HOSTS: Record<string, CommitStatusHost> = {
  'github.com': 'github',
  'gitlab.com': 'gitlab',
  'codeberg.org': 'gitea',
  'gitea.com': 'gitea',
};

/**
 * Where a git stack's statuses go, or undefined (off, inline stack, or `auto` on a host
 * it cannot tell): `auto` knows github.com, gitlab.com, codeberg.org and gitea.com; a
 * named kind on another host uses commit_status_api_url, or the host's usual API path
 * (`/api/v3` for GitHub Enterprise, `/api/v1` for Gitea/Forgejo, `/api/v4` for GitLab).
 */
export function commitStatusTarget(
  stack: Pick<StackRow, 'repoUrl' | 'commitStatus' | 'commitStatusApiUrl'>,
): CommitStatusTarget | undefined {
  if (!stack.repoUrl || stack.commitStatus === 'off') return undefined;
  let url: URL;
  try {
    url = new URL(stack.repoUrl);
  } catch {
    return undefined;
  }
  const hostname = url.hostname.toLowerCase();
  const host: CommitStatusHost | undefined =
    stack.commitStatus === 'auto' || !stack.commitStatus
      ? KNOWN_HOSTS[hostname]
      : stack.commitStatus;
  if (!host) return undefined;
  const path = decodeURIComponent(url.pathname)
    .replace(/\.git\/?$/, '')
    .replace(/^\/+|\/+$/g, '');
  const custom = stack.commitStatusApiUrl?.replace(/\/+$/, '');
  let api: string;
  if (custom) api = custom;
  else if (host === 'github')
    api = hostname === 'github.com' ? 'https://api.github.com' : `${url.origin}/api/v3`;
  else api = `${url.origin}/api/${host === 'gitlab' ? 'v4' : 'v1'}`;
  // GitLab keeps the whole path (subgroups); GitHub and Gitea name owner/repo, the last two
  // parts (a Gitea served under a sub-path has the prefix in front).
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  let project = host === 'gitlab' ? parts.join('/') : parts.slice(-2).join('/');
  if (host === 'gitlab' && custom) {
    // An instance under a sub-path (https://host/gitlab/api/v4): the path is after it.
    const prefix = new URL(custom).pathname.replace(/\/api\/v4\/?$/, '').replace(/^\/+|\/+$/g, '');
    if (prefix && project.startsWith(`${prefix}/`)) project = project.slice(prefix.length + 1);
  }
  return { host, api, project };
}

/** How a finished deployment reads as a commit state. */
export function commitStateOf(status: DeploymentStatus): CommitState | undefined {
  switch (status) {
    case 'queued':
      return undefined;
    case 'running':
      return 'pending';
    case 'succeeded':
      return 'success';
    case 'failed':
    case 'rolled_back':
      return 'failure';
    case 'canceled':
    case 'interrupted':
      return 'error';
  }
}

export interface StatusFields {
  state: CommitState;
  /** One line; hosts cut it at 140 characters (GitHub) or 255 (GitLab). */
  description: string;
  /** Which check this is on the commit: one per stack. */
  context: string;
  targetUrl?: string | undefined;
  /** The branch (GitLab shows the status on it). */
  ref?: string | undefined;
}

export interface StatusRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body?: string;
}

const GITLAB_STATE: Record<CommitState, string> = {
  pending: 'running',
  success: 'success',
  failure: 'failed',
  error: 'canceled',
};

/**
 * The HTTP request each host documents for a commit status: GitHub and Gitea/Forgejo
 * `POST {api}/repos/{owner}/{repo}/statuses/{sha}` with a JSON body (`state`,
 * `target_url`, `description`, `context`); GitLab `POST
 * {api}/projects/{url-encoded path}/statuses/{sha}` with the fields in the query string.
 */
export function statusRequest(
  target: CommitStatusTarget,
  token: string,
  sha: string,
  f: StatusFields,
): StatusRequest {
  const description = f.description.slice(0, 140);
  if (target.host === 'gitlab') {
    const q = new URLSearchParams({ state: GITLAB_STATE[f.state], name: f.context, description });
    if (f.targetUrl) q.set('target_url', f.targetUrl);
    if (f.ref) q.set('ref', f.ref);
    return {
      url: `${target.api}/projects/${encodeURIComponent(target.project)}/statuses/${sha}?${q}`,
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': token },
    };
  }
  const [owner = '', repo = ''] = target.project.split('/');
  const headers: Record<string, string> =
    target.host === 'github'
      ? {
          Authorization: `Bearer ${token}`,
          Accept: 'application/vnd.github+json',
          'X-GitHub-Api-Version': '2022-11-28',
          'Content-Type': 'application/json',
        }
      : { Authorization: `token ${token}`, 'Content-Type': 'application/json' };
  return {
    url: `${target.api}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${sha}`,
    method: 'POST',
    headers,
    body: JSON.stringify({
      state: f.state,
      ...(f.targetUrl ? { target_url: f.targetUrl } : {}),
      description,
      context: f.context,
    }),
  };
}
