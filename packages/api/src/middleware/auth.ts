import { AppError, forbidden, type Role, roleAllows, safeEqual } from '@simpledeploy/core';
import { ENVIRONMENT_KEY_NAME, type KeyPrincipal, type KeyService } from '@simpledeploy/deployer';
import type { Context, MiddlewareHandler } from 'hono';
import { KEYED_PATH, type Match, matchAccess, type StackFrom } from '../access';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import {
  guardedEventStream,
  messageStackId,
  type StreamGuard,
  type StreamRegistry,
} from '../streams';

const BEARER = /^bearer\s+(.+)$/i;

const isWebSocketUpgrade = (c: Context) => c.req.header('upgrade')?.toLowerCase() === 'websocket';

/** Which requests may present the key as `?token=`; by default none. */
export type QueryTokenRoutes = (c: Context) => boolean;

const takesQueryToken = (c: Context, routes?: QueryTokenRoutes) =>
  isWebSocketUpgrade(c) && routes?.(c) === true;

/** The WebSocket routes of the access table: the only ones that take `?token=`. */
export const isWebSocketRoute: QueryTokenRoutes = (c) =>
  matchAccess(c.req.method, c.req.path)?.rule.stream === 'ws';

/**
 * The keys a request presents: `X-API-KEY`, `Authorization: Bearer`, and `?token=` for
 * a WebSocket upgrade to a route queryTokenRoutes accepts (browsers cannot set headers
 * on a WebSocket). Anywhere else a key in the URL would end up in proxy logs and
 * browser history, so it is ignored.
 */
export function presentedKeys(c: Context, queryTokenRoutes?: QueryTokenRoutes): string[] {
  const keys: string[] = [];
  const header = c.req.header('x-api-key');
  if (header) keys.push(header.trim());
  const bearer = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  if (bearer) keys.push(bearer.trim());
  if (takesQueryToken(c, queryTokenRoutes)) {
    const token = c.req.query('token');
    if (token) keys.push(token);
  }
  return keys.filter((k) => k.length > 0);
}

/**
 * True when the request carries the key from the environment in any accepted form;
 * compared in constant time. The git-host webhook routes accept it beside a signature.
 */
export function hasValidApiKey(
  c: Context,
  apiKey: string,
  queryTokenRoutes?: QueryTokenRoutes,
): boolean {
  // Every presented key is compared, so timing does not tell which form matched.
  let ok = false;
  for (const key of presentedKeys(c, queryTokenRoutes)) if (safeEqual(key, apiKey)) ok = true;
  return ok;
}

const HOW_TO_SEND =
  'a valid API key is required: send it as "X-API-KEY: <key>" or "Authorization: Bearer <key>"';

/** The 401; `ignoredQueryToken` says the request sent `?token=` where it does not count. */
export const unauthorized = (ignoredQueryToken = false) =>
  new AppError(
    'UNAUTHORIZED',
    ignoredQueryToken
      ? `${HOW_TO_SEND} (?token= is accepted only on WebSocket upgrades of the /ws routes)`
      : HOW_TO_SEND,
  );

/** Who a request comes from: a stored key, or the key from the environment (an admin). */
export interface Principal extends KeyPrincipal {
  source: 'environment' | 'key';
}

const ENVIRONMENT: Principal = {
  id: ENVIRONMENT_KEY_NAME,
  name: ENVIRONMENT_KEY_NAME,
  role: 'admin',
  stacks: [],
  source: 'environment',
};

/** What the access check reads of a stack: the columns it and a git host's push need. */
export type StackRecord = NonNullable<
  ReturnType<DomainDeps['deployer']['locator']['findStackAccess']>
>;

/** The stack a request is about, as far as the access table and the audit log need it. */
export interface StackRef {
  id: string;
  name: string;
  /**
   * The row it was read from, so a route acting on the same stack (the git-host webhook,
   * once per push) need not read it again.
   */
  row?: StackRecord;
}

/** What the access middleware learned about a request, for the audit log. */
export interface AccessInfo {
  match?: Match | undefined;
  stack?: StackRef | undefined;
  /** What the request acts on, e.g. `stack web`; set by the middleware or a route. */
  target?: string | undefined;
  /** A git host's webhook, authenticated by its signature rather than a key. */
  signed?: boolean;
}

export interface AccessControlOptions {
  /** The key from the environment: the first admin key. Must not be empty. */
  apiKey: string;
  keys: KeyService;
  domain: Pick<DomainDeps, 'deployer'>;
  /** Open streams by key, so a revoked key's streams end. */
  streams: StreamRegistry;
}

const VERB: Record<Role, string> = {
  viewer: 'read',
  deployer: 'deploy, cancel or roll back',
  admin: 'create, change or delete stacks and keys or run lifecycle commands',
};

/**
 * Enforces the access table (access.ts) before any handler runs: finds the request's
 * row, authenticates its key (401), checks the key's role and stacks (403), and narrows
 * what a key limited to some stacks sees of lists and push streams. Streams a stored
 * key opens are tracked so revoking it ends them.
 */
export function accessControl({
  apiKey,
  keys,
  domain,
  streams,
}: AccessControlOptions): MiddlewareHandler<AppEnv> {
  if (apiKey.length === 0) throw new Error('accessControl needs a non-empty API key');
  const { deployer } = domain;

  const authenticate = (c: Context): Principal | undefined => {
    let found: Principal | undefined;
    // Every presented key is checked, so timing does not tell which one matched.
    for (const key of presentedKeys(c, isWebSocketRoute)) {
      const principal: Principal | undefined = safeEqual(key, apiKey)
        ? ENVIRONMENT
        : (() => {
            const k = keys.authenticate(key);
            return k ? { ...k, source: 'key' as const } : undefined;
          })();
      found ??= principal;
    }
    return found;
  };

  const findStack = (idOrName: string): StackRef | undefined => {
    const s = deployer.locator.findStackAccess(idOrName);
    return s ? { id: s.id, name: s.name, row: s } : undefined;
  };

  async function stackOf(c: Context, from: StackFrom, params: Record<string, string>) {
    const [kind, name = ''] = from.split(':') as [string, string];
    if (kind === 'param') return findStack(params[name] ?? '');
    if (kind === 'deployment') {
      try {
        return findStack(deployer.locator.requireDeployment(params[name] ?? '').stackId);
      } catch {
        return undefined;
      }
    }
    // body: the field, else the stack POST /webhook falls back to.
    // Read as text, which the route's own validator reads again from hono's cache.
    let named: unknown;
    try {
      named = (JSON.parse(await c.req.text()) as Record<string, unknown> | null)?.[name];
    } catch {
      named = undefined;
    }
    if (typeof named === 'string') return findStack(named);
    try {
      return findStack(deployer.defaultStackName());
    } catch {
      return undefined;
    }
  }

  // What the audit log names as the target: the deployment, else the stack, else the key.
  const targetOf = (match: Match, stack: StackRef | undefined) => {
    const [param, value] = Object.entries(match.params)[0] ?? [];
    if (value && match.rule.stack?.startsWith('deployment:')) return `deployment ${value}`;
    if (stack) return `stack ${stack.name}`;
    if (!value) return undefined;
    if (match.rule.path.startsWith('/api/v1/keys')) return `key ${value}`;
    if (param === 'notifier') return `notifier ${value}`;
    return param === 'stack' || param === 'uuid' ? `stack ${value}` : value;
  };

  return async (c, next) => {
    const match = matchAccess(c.req.method, c.req.path);
    const info: AccessInfo = { match };
    c.set('access', info);
    const need = match?.rule.need ?? (KEYED_PATH.test(c.req.path) ? 'viewer' : 'public');
    if (need === 'public') return next();
    // From the path alone first, so a refused request is audited with what it aimed at.
    if (match) info.target = targetOf(match, undefined);

    if (need === 'webhook-signed') {
      // The route checks the git host's signature, or the key from the environment.
      info.signed = true;
      if (hasValidApiKey(c, apiKey)) c.set('principal', ENVIRONMENT);
      if (match?.rule.stack) info.stack = await stackOf(c, match.rule.stack, match.params);
      if (match) info.target = targetOf(match, info.stack);
      return next();
    }

    const principal = authenticate(c);
    if (!principal) {
      c.header('WWW-Authenticate', 'Bearer');
      const ignoredToken = c.req.query('token') !== undefined;
      throw unauthorized(ignoredToken && !takesQueryToken(c, isWebSocketRoute));
    }
    c.set('principal', principal);

    const rule = match?.rule;
    const scoped = principal.stacks.length > 0;
    // The stack is looked up when the key is limited to some, or for the audit log's entry.
    if (match && rule?.stack && (scoped || c.req.method !== 'GET')) {
      info.stack = await stackOf(c, rule.stack, match.params);
    }
    if (match && info.stack) info.target = targetOf(match, info.stack);

    if (!roleAllows(principal.role, need)) {
      throw forbidden(
        `this ${principal.role} key cannot ${VERB[need]}: that needs ${need === 'admin' ? 'an' : 'a'} ${need} key`,
        { role: principal.role, needed: need },
      );
    }
    if (scoped && rule?.stack && !(info.stack && principal.stacks.includes(info.stack.id))) {
      throw forbidden('this key is limited to other stacks', { role: principal.role });
    }

    const visible = (id: string | undefined) => !scoped || (!!id && principal.stacks.includes(id));
    let guard: StreamGuard | undefined;
    if (rule?.stream) {
      guard = {
        // The key from the environment cannot be revoked: nothing to track.
        track: (close) =>
          principal.source === 'key' ? streams.track(principal.id, close) : () => {},
        allows: scoped && rule.only === 'events' ? (m) => visible(messageStackId(m)) : undefined,
      };
      c.set('streamGuard', guard);
    }

    await next();

    const res = c.res;
    if (guard && res.body && res.headers.get('content-type')?.startsWith('text/event-stream')) {
      c.res = undefined;
      c.res = new Response(guardedEventStream(res.body, guard), res);
      return;
    }
    if (scoped && res.ok && (rule?.only === 'stacks' || rule?.only === 'array')) {
      const body = (await res.clone().json()) as { stacks?: { id: string }[] } | { id: string }[];
      const narrowed = Array.isArray(body)
        ? body.filter((s) => visible(s.id))
        : { ...body, stacks: (body.stacks ?? []).filter((s) => visible(s.id)) };
      const headers = new Headers(res.headers);
      headers.delete('content-length');
      c.res = undefined;
      c.res = new Response(JSON.stringify(narrowed), { status: res.status, headers });
    }
  };
}
