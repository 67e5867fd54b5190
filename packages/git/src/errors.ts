import { AppError, isAppError, type Redact, stripUrlCredentials } from '@simpledeploy/core';

/** What went wrong talking to a git server, in `AppError.details.reason`. */
export type GitFailure =
  | 'auth_required'
  | 'auth_failed'
  | 'repo_not_found'
  | 'ref_not_found'
  | 'empty_repository'
  | 'unreachable'
  | 'not_git'
  | 'server_error'
  /** A redirect that would take credentials to another origin, or one that cannot be followed. */
  | 'redirected'
  /** The repository is over one of the checkout limits. */
  | 'too_large'
  | 'failed';

export interface GitErrorContext {
  url: string;
  /** Whether credentials were sent: decides between "required" and "failed". */
  hasCredentials: boolean;
  redact: Redact;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return stripUrlCredentials(url);
  }
};

export function gitError(
  code: AppError['code'],
  reason: GitFailure,
  message: string,
  ctx: Pick<GitErrorContext, 'url' | 'redact'>,
  extra: Record<string, unknown> = {},
): AppError {
  return new AppError(code, ctx.redact(message), {
    reason,
    url: stripUrlCredentials(ctx.url),
    ...extra,
  });
}

/**
 * Turns whatever isomorphic-git, the HTTP client or the file system threw into an
 * AppError whose message says what to do, with every secret redacted.
 */
export function toGitError(error: unknown, ctx: GitErrorContext): AppError {
  if (isAppError(error)) return error;
  const url = stripUrlCredentials(ctx.url);
  const e = (error ?? {}) as {
    code?: string;
    message?: string;
    data?: { statusCode?: number; statusMessage?: string };
  };
  const code = e.code ?? '';
  if (code === 'UserCanceledError') return authError(ctx, 401);
  if (code === 'HttpError') {
    const status = e.data?.statusCode ?? 0;
    if (status === 401 || status === 403) return authError(ctx, status);
    if (status === 404) {
      return gitError(
        'VALIDATION',
        'repo_not_found',
        `repository not found at ${url}: check repo_url${ctx.hasCredentials ? ' and that the credentials can read it' : ', or give repo_username and repo_token if it is private'}`,
        ctx,
        { status },
      );
    }
    if (status >= 500) {
      return gitError(
        'UNAVAILABLE',
        'server_error',
        `the git server at ${hostOf(ctx.url)} answered HTTP ${status}; try again later`,
        ctx,
        { status },
      );
    }
    return gitError(
      'VALIDATION',
      'failed',
      `the git server answered HTTP ${status} for ${url}`,
      ctx,
      { status },
    );
  }
  if (code === 'SmartHttpError') {
    return gitError(
      'VALIDATION',
      'not_git',
      `${url} does not answer like a git repository (smart HTTP); check repo_url`,
      ctx,
    );
  }
  if (NETWORK_CODES.has(code) || /timed out|socket hang up/i.test(e.message ?? '')) {
    return gitError(
      'UNAVAILABLE',
      'unreachable',
      `cannot reach ${hostOf(ctx.url)}: ${code || (e.message ?? 'network error')}`,
      ctx,
      { cause: code || undefined },
    );
  }
  if (/CERT|SSL|TLS|SELF_SIGNED/.test(code)) {
    return gitError(
      'UNAVAILABLE',
      'unreachable',
      `cannot reach ${hostOf(ctx.url)}: TLS certificate problem (${code})`,
      ctx,
      { cause: code },
    );
  }
  return gitError(
    'INTERNAL',
    'failed',
    `git operation on ${url} failed: ${e.message ?? String(error)}`,
    ctx,
  );
}

function authError(ctx: GitErrorContext, status: number): AppError {
  const url = stripUrlCredentials(ctx.url);
  if (!ctx.hasCredentials) {
    return gitError(
      'VALIDATION',
      'auth_required',
      `authentication required for ${url}: set repo_username and repo_token`,
      ctx,
      { status },
    );
  }
  return gitError(
    'VALIDATION',
    'auth_failed',
    `authentication failed for ${url}: check repo_username and repo_token${status === 403 ? ' (the server refused access)' : ''}`,
    ctx,
    { status },
  );
}
