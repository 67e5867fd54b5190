// The one place that knows the HTTP contract (shared/docs/api.md). Anything the
// contract leaves open is guessed here, so adjusting to the server is a one-file change.

export type StackStatus = 'idle' | 'queued' | 'deploying';
export type DeploymentStatus =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'canceled'
  | 'rolled_back'
  | 'interrupted';
export type Trigger = 'manual' | 'webhook' | 'poll' | 'drift' | 'rollback' | 'api';

export interface RegistryCredential {
  registry: string;
  username?: string | null;
  password?: string;
  has_password?: boolean;
}

export interface PollHealth {
  last_poll_at?: string | null;
  last_error?: string | null;
  failures?: number | null;
}

export interface Stack {
  id: string;
  name: string;
  status: StackStatus;
  compose?: string | null;
  repo_url?: string | null;
  repo_username?: string | null;
  repo_branch?: string | null;
  compose_path?: string | null;
  compose_includes?: string[] | null;
  compose_variables?: Record<string, string> | null;
  service_filter?: string[] | null;
  auto_deploy?: boolean;
  reconcile_interval_seconds?: number;
  /** How long a deploy may run before it is stopped (server default 900). Not in api.md. */
  deploy_timeout_seconds?: number | null;
  auto_rollback?: boolean;
  docker_registry?: string | null;
  docker_username?: string | null;
  registries?: RegistryCredential[] | null;
  has_repo_token?: boolean;
  has_webhook_secret?: boolean;
  has_docker_password?: boolean;
  has_registries?: boolean;
  last_deployment?: { id: string; status: DeploymentStatus; finished_at?: string | null } | null;
  current_version_id?: string | null;
  deployed_commit?: string | null;
  created_at?: string;
  updated_at?: string;
  poll?: PollHealth | null;
}

export interface LogLine {
  seq: number;
  ts?: string;
  stream: 'stdout' | 'stderr' | 'system' | string;
  text: string;
}

export interface Deployment {
  id: string;
  stack_id: string;
  status: DeploymentStatus;
  trigger: Trigger | string;
  git_commit?: string | null;
  version_id?: string | null;
  error?: string | null;
  queued_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  log?: Array<LogLine | string>;
}

export interface Version {
  id: string;
  sha256: string;
  git_commit?: string | null;
  created_at?: string;
  last_deployed_at?: string | null;
  current?: boolean;
  files?: Record<string, string>;
  variables?: Record<string, string>;
}

export interface ServiceRow {
  service: string;
  container: string;
  image: string;
  state: string;
  health?: string | null;
}

export interface DriftService {
  service: string;
  type: 'missing' | 'image_mismatch' | 'stopped' | 'unhealthy' | 'extra' | string;
  expected?: unknown;
  actual?: unknown;
}

export interface Drift {
  in_sync: boolean;
  git?: { deployed_commit?: string | null; remote_commit?: string | null; behind?: boolean } | null;
  services: DriftService[];
}

export interface Stats {
  deployments_total: number;
  succeeded: number;
  failed: number;
  canceled: number;
  last_deployed_at?: string | null;
  last_status?: string | null;
  mean_duration_ms?: number | null;
}

export type ControlCommand = 'start' | 'stop' | 'restart' | 'pull' | 'down';

/** What POST/PATCH accept; secrets are only ever sent, never read back. */
export interface StackInput {
  name?: string;
  compose?: string;
  repo_url?: string;
  repo_username?: string | null;
  repo_token?: string | null;
  repo_branch?: string | null;
  compose_path?: string | null;
  compose_includes?: string[];
  compose_variables?: Record<string, string>;
  service_filter?: string[];
  auto_deploy?: boolean;
  reconcile_interval_seconds?: number;
  deploy_timeout_seconds?: number;
  auto_rollback?: boolean;
  webhook_secret?: string | null;
  docker_registry?: string | null;
  docker_username?: string | null;
  docker_password?: string | null;
  registries?: RegistryCredential[];
}

/** Push channel messages from GET /api/v1/events/ws. */
export type LiveMessage =
  | { type: 'deployment'; deployment: Deployment }
  | { type: 'stack'; stack: Stack }
  | { type: 'stack_deleted'; stack_id: string };

/** Log stream messages from GET /api/v1/deployments/{id}/logs/ws. */
export type LogMessage =
  | ({ type: 'line' } & LogLine)
  | { type: 'end'; status: DeploymentStatus }
  | { type: 'error'; message?: string };

/** An API error, carrying the server's own message from the error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Builds an ApiError from a response status and whatever body it had. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })?.error;
  if (err && typeof err.message === 'string') {
    const details =
      err.details && typeof err.details === 'object'
        ? (err.details as Record<string, unknown>)
        : {};
    return new ApiError(status, String(err.code ?? 'INTERNAL'), err.message, details);
  }
  const fallback =
    status === 401
      ? 'The API key was not accepted.'
      : status === 404
        ? 'Not found.'
        : status >= 502 && status <= 504
          ? `Could not reach the simpledeploy server (${status} from a proxy).`
          : `The server answered ${status}.`;
  return new ApiError(status, status === 401 ? 'UNAUTHORIZED' : 'INTERNAL', fallback);
}

/**
 * Per-field messages from an error's details, when the server names fields.
 * Accepts `{fields: {name: msg}}`, `{field: 'name'}`, `{issues: [{path, message}]}`, the
 * server's `{problems: ['field: …']}` and a policy refusal's `{violations: [...]}`.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const d = error.details;
  const out: Record<string, string> = {};
  if (d.fields && typeof d.fields === 'object') {
    for (const [k, v] of Object.entries(d.fields as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? v.join(' ') : String(v);
    }
  }
  if (typeof d.field === 'string') out[d.field] = error.message;
  // A host policy refusal (422 POLICY): every violation, shown on the compose field.
  if (Array.isArray(d.violations)) {
    out.compose = (
      d.violations as Array<{ service?: unknown; rule?: unknown; value?: unknown; fix?: unknown }>
    )
      .map(
        (v) =>
          `${v.service ? `${String(v.service)}: ` : ''}${String(v.rule)} (${String(v.value)}): ${String(v.fix)}`,
      )
      .join('\n');
  }
  if (Array.isArray(d.problems)) {
    for (const p of d.problems as unknown[]) {
      const m = /^([a-z_]+)[.:\s]/.exec(String(p));
      if (m?.[1] && !out[m[1]]) out[m[1]] = String(p);
    }
  }
  if (Array.isArray(d.issues)) {
    for (const issue of d.issues as Array<{ path?: unknown; message?: unknown }>) {
      const path = Array.isArray(issue.path) ? issue.path.join('.') : String(issue.path ?? '');
      if (path && typeof issue.message === 'string') out[path] = issue.message;
    }
  }
  return out;
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();
/** Called whenever the server rejects the key, so the app can return to sign-in. */
export function onUnauthorized(fn: UnauthorizedListener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Don't broadcast a 401 (the sign-in check handles its own). */
  quiet401?: boolean;
  token?: string;
}

let currentToken: string | null = null;
export function setToken(token: string | null): void {
  currentToken = token;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const token = opts.token ?? currentToken;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers['X-API-KEY'] = token;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'UNAVAILABLE', 'Could not reach the simpledeploy server.');
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const err = errorFromBody(res.status, body);
    if (res.status === 401 && !opts.quiet401) for (const fn of unauthorizedListeners) fn();
    throw err;
  }
  return body as T;
}

const enc = encodeURIComponent;
const base = '/api/v1';

/** The WebSocket URL for an API path, carrying the key as `?token=`. */
export function wsUrl(path: string, token: string, loc: { protocol: string; host: string }) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const sep = path.includes('?') ? '&' : '?';
  return `${scheme}//${loc.host}${path}${sep}token=${enc(token)}`;
}

export const paths = {
  eventsWs: `${base}/events/ws`,
  deploymentLogsWs: (id: string) => `${base}/deployments/${enc(id)}/logs/ws`,
};

export const api = {
  checkKey: (token: string) =>
    request<{ stacks: Stack[] }>(`${base}/stacks`, { token, quiet401: true }),
  listStacks: (signal?: AbortSignal) => request<{ stacks: Stack[] }>(`${base}/stacks`, { signal }),
  getStack: (stack: string, signal?: AbortSignal) =>
    request<{ stack: Stack }>(`${base}/stacks/${enc(stack)}`, { signal }),
  createStack: (input: StackInput) =>
    request<{ stack: Stack }>(`${base}/stacks`, { method: 'POST', body: input }),
  updateStack: (stack: string, input: StackInput) =>
    request<{ stack: Stack; deployment?: Deployment | null }>(`${base}/stacks/${enc(stack)}`, {
      method: 'PATCH',
      body: input,
    }),
  deleteStack: (stack: string, removeVolumes: boolean) =>
    request<unknown>(`${base}/stacks/${enc(stack)}${removeVolumes ? '?remove_volumes=true' : ''}`, {
      method: 'DELETE',
    }),
  deploy: (stack: string, body: { ref?: string; force?: boolean } = {}) =>
    request<{ deployment: Deployment; coalesced?: boolean }>(
      `${base}/stacks/${enc(stack)}/deploy`,
      {
        method: 'POST',
        body,
      },
    ),
  cancelStack: (stack: string) =>
    request<{ deployment: Deployment }>(`${base}/stacks/${enc(stack)}/cancel`, { method: 'POST' }),
  cancelDeployment: (id: string) =>
    request<{ deployment: Deployment }>(`${base}/deployments/${enc(id)}/cancel`, {
      method: 'POST',
    }),
  rollback: (stack: string, versionId?: string) =>
    request<{ deployment: Deployment }>(`${base}/stacks/${enc(stack)}/rollback`, {
      method: 'POST',
      body: versionId ? { version_id: versionId } : {},
    }),
  control: (stack: string, command: ControlCommand, services?: string[]) =>
    request<{ event?: unknown }>(`${base}/stacks/${enc(stack)}/control`, {
      method: 'POST',
      body: services?.length ? { command, services } : { command },
    }),
  deployments: (stack: string, signal?: AbortSignal) =>
    request<{ deployments: Deployment[] }>(`${base}/stacks/${enc(stack)}/deployments`, { signal }),
  deployment: (id: string, signal?: AbortSignal) =>
    request<{ deployment: Deployment }>(`${base}/deployments/${enc(id)}`, { signal }),
  versions: (stack: string, signal?: AbortSignal) =>
    request<{ versions: Version[] }>(`${base}/stacks/${enc(stack)}/versions`, { signal }),
  version: (stack: string, id: string, signal?: AbortSignal) =>
    request<{ version: Version }>(`${base}/stacks/${enc(stack)}/versions/${enc(id)}`, { signal }),
  services: (stack: string, signal?: AbortSignal) =>
    request<{ services: ServiceRow[] }>(`${base}/stacks/${enc(stack)}/services`, { signal }),
  drift: (stack: string, signal?: AbortSignal) =>
    request<Drift | { drift: Drift }>(`${base}/stacks/${enc(stack)}/drift`, { signal }).then(
      unwrapDrift,
    ),
  stats: (stack: string, signal?: AbortSignal) =>
    request<Stats | { stats: Stats }>(`${base}/stacks/${enc(stack)}/stats`, { signal }).then((s) =>
      'stats' in s ? s.stats : s,
    ),
};

/** Drift is documented bare; tolerate a `{drift}` wrapper too. */
export function unwrapDrift(body: Drift | { drift: Drift }): Drift {
  const d = 'drift' in body ? body.drift : body;
  return { ...d, services: Array.isArray(d.services) ? d.services : [] };
}

/** Log lines in `GET /deployments/{id}` may be objects or bare strings. */
export function normalizeLog(log: Deployment['log']): LogLine[] {
  if (!Array.isArray(log)) return [];
  return log.map((l, i) =>
    typeof l === 'string'
      ? { seq: i + 1, stream: 'stdout', text: l }
      : { ...l, seq: l.seq ?? i + 1 },
  );
}

export const TERMINAL_STATUSES: readonly DeploymentStatus[] = [
  'succeeded',
  'failed',
  'canceled',
  'rolled_back',
  'interrupted',
];
export function isTerminal(status: string | undefined | null): boolean {
  return !!status && (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Whether a stack tracks a git repository (and so has remote drift to check). */
export function isGitStack(stack: Stack): boolean {
  return !!stack.repo_url;
}

/** Secrets are cleared by sending null (guess: the contract only says they are write-only). */
export const CLEAR_SECRET = null;
