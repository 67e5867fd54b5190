// The one place that calls the HTTP API. Every type below comes from the contract in
// packages/api/src/contract (the zod schemas the server validates with and documents at
// /api/v1/openapi.json), imported as types only: a field the server renames breaks this
// build instead of being guessed at.
import type {
  AuditEntryJson,
  ContainerLogMessageJson,
  ContainerStatsJson,
  ControlBodyJson,
  DeployBodyJson,
  DeploymentDetailJson,
  DeploymentJson,
  DeploymentStatusJson,
  DeployResultJson,
  DriftItemJson,
  DriftJson,
  HostCreateJson,
  HostJson,
  ImageUpdatesJson,
  KeyJson,
  LogLineJson,
  LogMessageJson,
  NotificationDeliveryJson,
  NotifierCreateJson,
  NotifierJson,
  PushMessageJson,
  ServiceRowJson,
  StackDeletedJson,
  StackEventJson,
  StackInputJson,
  StackJson,
  StackStatusJson,
  StackSummaryJson,
  StackUpdatedJson,
  StatsJson,
  TriggerJson,
  VersionDetailJson,
  VersionJson,
} from '@simpledeploy/api/contract';

export type StackStatus = StackStatusJson;
export type DeploymentStatus = DeploymentStatusJson;
export type Trigger = TriggerJson;
export type Stack = StackJson;
/** What the stack list shows of a stack (`GET /api/v1/stacks?view=summary`). */
export type StackSummary = StackSummaryJson;
export type LogLine = LogLineJson;
export type Deployment = DeploymentJson;
export type DeploymentDetail = DeploymentDetailJson;
export type Version = VersionJson;
export type VersionDetail = VersionDetailJson;
export type ServiceRow = ServiceRowJson;
export type DriftService = DriftItemJson;
export type Drift = DriftJson;
export type ImageUpdates = ImageUpdatesJson;
export type Stats = StatsJson;
/** The commands the UI offers (the API has scale, pause and unpause too). */
export type ControlCommand = Extract<
  ControlBodyJson['command'],
  'start' | 'stop' | 'restart' | 'pull' | 'down'
>;
/** What POST and PATCH accept; secrets are only ever sent, never read back. */
export type StackInput = StackInputJson;
/** The signed-in key (GET /api/v1/keys/self): its name, role and stacks, never its material. */
export type KeyInfo = KeyJson;
export type Role = KeyJson['role'];
/** A Docker host with its last health check (GET /api/v1/hosts). */
export type Host = HostJson;

/** One entry of GET /api/v1/audit. */
export type AuditEntry = AuditEntryJson;
/** A notifier (GET /api/v1/notifiers): its URL masked, its secret only as has_secret. */
export type Notifier = NotifierJson;
export type NotifierCreate = NotifierCreateJson;
/** One message to one notifier, from the outbox. */
export type NotificationDelivery = NotificationDeliveryJson;
/** Push channel messages from GET /api/v1/events/ws. */
export type LiveMessage = PushMessageJson;
/** Log stream messages from GET /api/v1/deployments/{id}/logs/ws. */
export type LogMessage = LogMessageJson;
/** A container's resource use and restarts (GET /api/v1/stacks/{stack}/stats/containers). */
export type ContainerStats = ContainerStatsJson;
/** Messages of a service's container log follow (GET .../services/{service}/logs/ws). */
export type ContainerLogMessage = ContainerLogMessageJson;

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
 * Per-field messages from an error's details: the field the server names
 * (`details.field`), each of `details.problems` that starts with a field name, and a host
 * policy refusal's `details.violations` (422 POLICY) on the compose field.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const d = error.details;
  const out: Record<string, string> = {};
  if (typeof d.field === 'string') out[d.field] = error.message;
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
      const m = /^([a-z_]+)[.:\s[]/.exec(String(p));
      if (m?.[1] && !out[m[1]]) out[m[1]] = String(p);
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

// The last stack list and its ETag: asked again with If-None-Match, an unchanged list is a
// 304 with no body (the server keeps a version of its data, so this costs it next to nothing).
let lastSummaries: { etag: string; token: string | null; stacks: StackSummary[] } | undefined;

async function listSummaries(signal?: AbortSignal): Promise<StackSummary[]> {
  const token = currentToken;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers['X-API-KEY'] = token;
  const cached = lastSummaries?.token === token ? lastSummaries : undefined;
  if (cached) headers['If-None-Match'] = cached.etag;
  let res: Response;
  try {
    res = await fetch(`${base}/stacks?view=summary`, { headers, signal, cache: 'no-store' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'UNAVAILABLE', 'Could not reach the simpledeploy server.');
  }
  if (res.status === 304 && cached) return cached.stacks;
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = errorFromBody(res.status, body);
    if (res.status === 401) for (const fn of unauthorizedListeners) fn();
    throw err;
  }
  const stacks = (body as { stacks: StackSummary[] }).stacks;
  const etag = res.headers.get('ETag');
  lastSummaries = etag ? { etag, token, stacks } : undefined;
  return stacks;
}

/** The WebSocket URL for an API path, carrying the key as `?token=`. */
export function wsUrl(path: string, token: string, loc: { protocol: string; host: string }) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const sep = path.includes('?') ? '&' : '?';
  return `${scheme}//${loc.host}${path}${sep}token=${enc(token)}`;
}

export const paths = {
  eventsWs: `${base}/events/ws`,
  deploymentLogsWs: (id: string) => `${base}/deployments/${enc(id)}/logs/ws`,
  containerLogsWs: (stack: string, service: string, tail: number) =>
    `${base}/stacks/${enc(stack)}/services/${enc(service)}/logs/ws?tail=${tail}`,
};

export const api = {
  checkKey: (token: string) =>
    // One summary is enough to know the key works, however many stacks there are.
    request<{ stacks: StackSummary[] }>(`${base}/stacks?view=summary&limit=1`, {
      token,
      quiet401: true,
    }),
  listStacks: (signal?: AbortSignal) => request<{ stacks: Stack[] }>(`${base}/stacks`, { signal }),
  listStackSummaries: (signal?: AbortSignal) => listSummaries(signal),
  getStack: (stack: string, signal?: AbortSignal) =>
    request<{ stack: Stack }>(`${base}/stacks/${enc(stack)}`, { signal }),
  createStack: (input: StackInput) =>
    request<{ stack: Stack }>(`${base}/stacks`, { method: 'POST', body: input }),
  updateStack: (stack: string, input: StackInput) =>
    request<StackUpdatedJson>(`${base}/stacks/${enc(stack)}`, { method: 'PATCH', body: input }),
  deleteStack: (stack: string, removeVolumes: boolean) =>
    request<StackDeletedJson>(
      `${base}/stacks/${enc(stack)}${removeVolumes ? '?remove_volumes=true' : ''}`,
      { method: 'DELETE' },
    ),
  deploy: (stack: string, body: DeployBodyJson = {}) =>
    request<DeployResultJson>(`${base}/stacks/${enc(stack)}/deploy`, { method: 'POST', body }),
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
    request<{ event: StackEventJson }>(`${base}/stacks/${enc(stack)}/control`, {
      method: 'POST',
      body: (services?.length ? { command, services } : { command }) satisfies ControlBodyJson,
    }),
  deployments: (stack: string, signal?: AbortSignal) =>
    request<{ deployments: Deployment[] }>(`${base}/stacks/${enc(stack)}/deployments`, { signal }),
  deployment: (id: string, signal?: AbortSignal) =>
    request<{ deployment: DeploymentDetail }>(`${base}/deployments/${enc(id)}`, { signal }),
  versions: (stack: string, signal?: AbortSignal) =>
    request<{ versions: Version[] }>(`${base}/stacks/${enc(stack)}/versions`, { signal }),
  version: (stack: string, id: string, signal?: AbortSignal) =>
    request<{ version: VersionDetail }>(`${base}/stacks/${enc(stack)}/versions/${enc(id)}`, {
      signal,
    }),
  services: (stack: string, signal?: AbortSignal) =>
    request<{ services: ServiceRow[] }>(`${base}/stacks/${enc(stack)}/services`, { signal }),
  drift: (stack: string, signal?: AbortSignal) =>
    request<Drift>(`${base}/stacks/${enc(stack)}/drift`, { signal }),
  /** Asks the registries now whether the stack's tags point at newer images. */
  updates: (stack: string, signal?: AbortSignal) =>
    request<ImageUpdates>(`${base}/stacks/${enc(stack)}/updates`, { signal }),
  self: (signal?: AbortSignal) => request<{ key: KeyInfo }>(`${base}/keys/self`, { signal }),
  audit: (filter: { stack?: string; key?: string; limit?: number }, signal?: AbortSignal) => {
    const q = new URLSearchParams();
    if (filter.stack) q.set('stack', filter.stack);
    if (filter.key) q.set('key', filter.key);
    if (filter.limit) q.set('limit', String(filter.limit));
    const qs = q.toString();
    return request<{ entries: AuditEntry[] }>(`${base}/audit${qs ? `?${qs}` : ''}`, { signal });
  },
  stats: (stack: string, signal?: AbortSignal) =>
    request<Stats>(`${base}/stacks/${enc(stack)}/stats`, { signal }),
  containerStats: (stack: string, signal?: AbortSignal) =>
    request<{ checked_at: string; containers: ContainerStats[] }>(
      `${base}/stacks/${enc(stack)}/stats/containers`,
      { signal },
    ),
  hosts: (signal?: AbortSignal) => request<{ hosts: Host[] }>(`${base}/hosts`, { signal }),
  createHost: (body: HostCreateJson) =>
    request<{ host: Host }>(`${base}/hosts`, { method: 'POST', body }),
  deleteHost: (id: string) =>
    request<{ deleted: true }>(`${base}/hosts/${enc(id)}`, { method: 'DELETE' }),
  moveStack: (stack: string, host: string) =>
    request<{ deployment: Deployment }>(`${base}/stacks/${enc(stack)}/move`, {
      method: 'POST',
      body: { host },
    }),
  notifiers: (signal?: AbortSignal) =>
    request<{ notifiers: Notifier[] }>(`${base}/notifiers`, { signal }),
  createNotifier: (body: NotifierCreate) =>
    request<{ notifier: Notifier }>(`${base}/notifiers`, { method: 'POST', body }),
  deleteNotifier: (id: string) =>
    request<{ deleted: true }>(`${base}/notifiers/${enc(id)}`, { method: 'DELETE' }),
  testNotifier: (id: string) =>
    request<{ delivery: NotificationDelivery }>(`${base}/notifiers/${enc(id)}/test`, {
      method: 'POST',
    }),
  notifierDeliveries: (id: string, signal?: AbortSignal) =>
    request<{ deliveries: NotificationDelivery[] }>(`${base}/notifiers/${enc(id)}/deliveries`, {
      signal,
    }),
};

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
export function isGitStack(stack: Pick<Stack, 'repo_url'>): boolean {
  return !!stack.repo_url;
}

/** A secret is cleared by sending null for it (the contract's secret fields are nullable). */
export const CLEAR_SECRET = null satisfies StackInput['repo_token'];
