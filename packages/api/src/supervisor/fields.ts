import { AppError, validation } from '@simpledeploy/core';
import type { StackView } from '@simpledeploy/deployer';

/**
 * Supervisor's stack as its API shows it. The secrets it would echo (`git_token`,
 * `signature_secret`) are write-only here, as every secret of simpledeploy:
 * `has_git_token` and `has_signature_secret` say whether they are set.
 */
export interface SupervisorStack {
  id: string;
  uuid: string;
  name: string;
  git_repository: string | null;
  git_reference: string | null;
  git_username: string | null;
  has_git_token: boolean;
  compose_file: string | null;
  compose_includes: string[];
  compose_variables: Record<string, string>;
  strategy: 'polling' | 'webhook';
  polling_interval: number | null;
  signature_header: string | null;
  has_signature_secret: boolean;
  /** Whether the last deployment succeeded (Supervisor: whether the last job did). */
  healthy: boolean;
  created_at: string;
  updated_at: string;
}

/** Supervisor's field → simpledeploy's, for the fields that map one to one. */
const RENAMED = {
  name: 'name',
  git_repository: 'repo_url',
  git_username: 'repo_username',
  git_token: 'repo_token',
  git_reference: 'repo_branch',
  compose_file: 'compose_path',
  compose_includes: 'compose_includes',
  compose_variables: 'compose_variables',
  signature_header: 'webhook_signature_header',
  signature_secret: 'webhook_secret',
} as const;

/** Optional text fields Supervisor treats as unset when blank. */
const BLANK_IS_NULL = new Set([
  'git_username',
  'git_token',
  'git_reference',
  'compose_file',
  'signature_header',
  'signature_secret',
]);

/** Fields of a stack as shown, which a client that sends a stack back may include: ignored. */
const READ_ONLY = new Set([
  'id',
  'uuid',
  'healthy',
  'has_git_token',
  'has_signature_secret',
  'created_at',
  'updated_at',
  'processed',
  'failed',
  'last_run',
  'last_action',
]);

const STRATEGIES = ['polling', 'webhook'] as const;
type Strategy = (typeof STRATEGIES)[number];

/** Polling is what Supervisor means by it: check the repository on a schedule and deploy what is new. */
export const strategyOf = (v: StackView): Strategy =>
  v.auto_deploy && v.reconcile_interval_seconds > 0 ? 'polling' : 'webhook';

export function toSupervisorStack(v: StackView): SupervisorStack {
  const strategy = strategyOf(v);
  return {
    id: v.id,
    uuid: v.uuid,
    name: v.name,
    git_repository: v.repo_url,
    git_reference: v.repo_branch,
    git_username: v.repo_username,
    has_git_token: v.has_repo_token,
    compose_file: v.compose_path,
    compose_includes: v.compose_includes,
    compose_variables: v.compose_variables,
    strategy,
    polling_interval: strategy === 'polling' ? v.reconcile_interval_seconds : null,
    signature_header: v.webhook_signature_header,
    has_signature_secret: v.has_webhook_secret,
    healthy: v.last_deployment?.status === 'succeeded',
    created_at: v.created_at,
    updated_at: v.updated_at,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** A number of seconds, sent as a number or a numeric string ("300"); undefined when absent or null. */
function pollingInterval(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 5 || n > 7 * 24 * 3600) {
    throw validation(
      'polling_interval must be a whole number of seconds from 5 to 604800 (a number or a numeric string)',
      { field: 'polling_interval' },
    );
  }
  return n;
}

/**
 * Turns a Supervisor stack body into a body of simpledeploy's stack service. Accepts the
 * fields bare or wrapped in `{"stack": {...}}` (Rails' parameter wrapping), ignores the
 * read-only fields of a stack sent back, and refuses any other field so a typo is not
 * lost. `current` is the stack being updated (absent on create).
 *
 * `strategy` becomes auto_deploy plus reconcile_interval_seconds: `polling` checks the
 * repository every `polling_interval` seconds and deploys new commits; `webhook` stops
 * polling. Either way a change to what is deployed redeploys, as Supervisor does.
 */
export function toStackBody(body: unknown, current?: StackView): Record<string, unknown> {
  const wrapped =
    isObject(body) && Object.keys(body).length === 1 && isObject(body.stack) ? body.stack : body;
  if (!isObject(wrapped)) {
    throw validation('the request body must be a JSON object with the stack fields');
  }
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, raw] of Object.entries(wrapped)) {
    if (key in RENAMED) {
      let value = raw;
      if (BLANK_IS_NULL.has(key) && typeof value === 'string' && value.trim() === '') value = null;
      if (key === 'compose_includes' && value === null) value = [];
      if (key === 'compose_variables' && value === null) value = {};
      out[RENAMED[key as keyof typeof RENAMED]] = value;
    } else if (key !== 'strategy' && key !== 'polling_interval' && !READ_ONLY.has(key)) {
      unknown.push(key);
    }
  }
  if (unknown.length) {
    throw validation(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: a stack takes ${[...Object.keys(RENAMED), 'strategy', 'polling_interval'].join(', ')}`,
      { fields: unknown },
    );
  }
  if (!current && (typeof out.repo_url !== 'string' || out.repo_url === '')) {
    throw validation('git_repository is required: the URL of the git repository with the stack', {
      field: 'git_repository',
    });
  }

  const sent = wrapped.strategy;
  if (sent !== undefined && !STRATEGIES.includes(sent as Strategy)) {
    throw validation('strategy must be "polling" or "webhook"', { field: 'strategy' });
  }
  const hasInterval = wrapped.polling_interval !== undefined && wrapped.polling_interval !== null;
  const now = current ? strategyOf(current) : undefined;
  // Without a strategy, a new stack with a polling_interval polls; a stack keeps its own.
  // As in Supervisor, a polling_interval only counts for the polling strategy.
  const strategy = (sent as Strategy | undefined) ?? now ?? (hasInterval ? 'polling' : 'webhook');
  if (strategy === 'polling') {
    const interval = pollingInterval(wrapped.polling_interval);
    const seconds =
      interval ?? (now === 'polling' ? current?.reconcile_interval_seconds : undefined);
    if (!seconds) {
      throw validation(
        'strategy "polling" needs polling_interval: the seconds between two checks',
        {
          field: 'polling_interval',
        },
      );
    }
    if (sent !== undefined || interval !== undefined || !current) {
      out.reconcile_interval_seconds = seconds;
      out.auto_deploy = true;
    }
  } else if (sent !== undefined || !current) {
    out.reconcile_interval_seconds = 0;
    out.auto_deploy = true;
  }
  return out;
}

/** simpledeploy's field names in an error → Supervisor's, so the message names what was sent. */
const NATIVE_TO_SUPERVISOR: [RegExp, string][] = [
  ['repo_url', 'git_repository'],
  ['repo_username', 'git_username'],
  ['repo_token', 'git_token'],
  ['repo_branch', 'git_reference'],
  ['compose_path', 'compose_file'],
  ['webhook_signature_header', 'signature_header'],
  ['webhook_secret', 'signature_secret'],
  ['reconcile_interval_seconds', 'polling_interval'],
].map(([from, to]) => [new RegExp(`\\b${from}\\b`, 'g'), to as string]);

const rename = (text: string) =>
  NATIVE_TO_SUPERVISOR.reduce((t, [from, to]) => t.replace(from, to), text);

function renameDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return rename(v);
  if (depth > 4 || !v || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => renameDeep(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renameDeep(x, depth + 1)]));
}

/** Runs fn, rewording a client error (4xx) with Supervisor's field names. */
export async function withSupervisorNames<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof AppError) || error.code === 'INTERNAL' || error.code === 'UNAVAILABLE')
      throw error;
    throw new AppError(
      error.code,
      rename(error.message),
      renameDeep(error.details) as Record<string, unknown>,
    );
  }
}
