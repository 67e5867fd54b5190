import type { Role } from '@simpledeploy/core';

/**
 * Who may call a route: a role (each includes the ones before it: viewer < deployer <
 * admin), `public` (no key), or `webhook-signed` (the route checks a git host's
 * signature for one stack, or the key from the environment, itself).
 */
export type Need = Role | 'public' | 'webhook-signed';

/**
 * Where a route's stack comes from, for keys limited to some stacks: a path parameter
 * (`param:stack`), the stack of the deployment a path parameter names
 * (`deployment:id`), or a field of the JSON body (`body:stack`, falling back to the
 * default stack as POST /webhook does).
 */
export type StackFrom = `param:${string}` | `deployment:${string}` | `body:${string}`;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AccessRule {
  method: Method;
  /** Hono's path, `:param` style, exactly as the route is registered. */
  path: string;
  need: Need;
  stack?: StackFrom;
  /**
   * A stream that stays open: `ws` routes accept `?token=` on the upgrade; both kinds
   * close when the key that opened them is revoked.
   */
  stream?: 'ws' | 'sse';
  /**
   * What of the answer a key limited to some stacks sees: `stacks` (the `stacks` list),
   * `array` (a top-level list of stacks) or `events` (push messages about its stacks).
   */
  only?: 'stacks' | 'array' | 'events';
  /** The audit log's name for the change or action. */
  action?: string;
}

type Extra = Omit<AccessRule, 'method' | 'path' | 'need'>;
const r = (method: Method, path: string, need: Need, extra: Extra = {}): AccessRule => ({
  method,
  path,
  need,
  ...extra,
});

const stack = 'param:stack' as const;
const uuid = 'param:uuid' as const;
const deployment = 'deployment:id' as const;

/**
 * Every route, WebSocket and event stream with the role it needs: the one place access
 * is decided. The auth middleware enforces it before any handler runs, and a test fails
 * when a route of the app has no row here. A viewer reads; a deployer also deploys,
 * cancels and rolls back (only its stacks when the key names some); only an admin
 * creates, changes or deletes stacks and keys or runs lifecycle commands.
 */
export const ACCESS: readonly AccessRule[] = [
  // Open: probes, metrics and the published API document.
  r('GET', '/health', 'public'),
  r('GET', '/up', 'public'),
  r('GET', '/metrics', 'public'),
  r('GET', '/api/v1/openapi.json', 'public'),
  r('GET', '/api/v1/docs', 'public'),
  r('GET', '/api/v1/docs/:file', 'public'),

  // Stacks.
  r('GET', '/api/v1/stacks', 'viewer', { only: 'stacks' }),
  r('POST', '/api/v1/stacks', 'admin', { action: 'stack.create' }),
  r('GET', '/api/v1/stacks/:stack', 'viewer', { stack }),
  r('PATCH', '/api/v1/stacks/:stack', 'admin', { stack, action: 'stack.update' }),
  r('PUT', '/api/v1/stacks/:stack', 'admin', { stack, action: 'stack.update' }),
  r('DELETE', '/api/v1/stacks/:stack', 'admin', { stack, action: 'stack.delete' }),
  r('GET', '/api/v1/stacks/:stack/services', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/stats', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/stats/containers', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/events', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/drift', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/updates', 'viewer', { stack }),
  r('POST', '/api/v1/stacks/:stack/control', 'admin', { stack, action: 'stack.control' }),
  r('GET', '/api/v1/policy', 'viewer'),
  r('POST', '/api/v1/stacks/:stack/move', 'admin', { stack, action: 'stack.move' }),

  // Hosts: everyone reads; only an admin adds, changes or removes one.
  r('GET', '/api/v1/hosts', 'viewer'),
  r('POST', '/api/v1/hosts', 'admin', { action: 'host.create' }),
  r('GET', '/api/v1/hosts/:host', 'viewer'),
  r('PATCH', '/api/v1/hosts/:host', 'admin', { action: 'host.update' }),
  r('DELETE', '/api/v1/hosts/:host', 'admin', { action: 'host.delete' }),

  // Deployments, versions and rollback.
  r('POST', '/api/v1/stacks/:stack/deploy', 'deployer', { stack, action: 'stack.deploy' }),
  r('POST', '/api/v1/stacks/:stack/cancel', 'deployer', { stack, action: 'stack.cancel' }),
  r('POST', '/api/v1/stacks/:stack/rollback', 'deployer', { stack, action: 'stack.rollback' }),
  r('GET', '/api/v1/stacks/:stack/deployments', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/versions', 'viewer', { stack }),
  r('GET', '/api/v1/stacks/:stack/versions/:id', 'viewer', { stack }),
  r('GET', '/api/v1/deployments/:id', 'viewer', { stack: deployment }),
  r('POST', '/api/v1/deployments/:id/cancel', 'deployer', {
    stack: deployment,
    action: 'deployment.cancel',
  }),

  // Live logs and the push channel.
  r('GET', '/api/v1/deployments/:id/logs', 'viewer', { stack: deployment, stream: 'sse' }),
  r('GET', '/api/v1/deployments/:id/logs/ws', 'viewer', { stack: deployment, stream: 'ws' }),
  r('GET', '/api/v1/stacks/:stack/logs', 'viewer', { stack, stream: 'sse' }),
  r('GET', '/api/v1/stacks/:stack/logs/ws', 'viewer', { stack, stream: 'ws' }),
  r('GET', '/api/v1/stacks/:stack/services/:service/logs', 'viewer', { stack, stream: 'sse' }),
  r('GET', '/api/v1/stacks/:stack/services/:service/logs/ws', 'viewer', { stack, stream: 'ws' }),
  r('GET', '/api/v1/events', 'viewer', { stream: 'sse', only: 'events' }),
  r('GET', '/api/v1/events/ws', 'viewer', { stream: 'ws', only: 'events' }),

  // Webhooks: Accelero's by key; git hosts' by their signature for one stack.
  r('POST', '/webhook', 'deployer', { stack: 'body:stack', action: 'webhook.deploy' }),
  r('POST', '/api/v1/stacks/:stack/webhook', 'webhook-signed', { stack, action: 'webhook.git' }),
  r('POST', '/api/v1/webhooks/repository', 'webhook-signed', { action: 'webhook.repository' }),

  // Keys and the audit log (a key limited to some stacks reads only their entries).
  r('GET', '/api/v1/keys/self', 'viewer'),
  r('GET', '/api/v1/keys', 'admin'),
  r('POST', '/api/v1/keys', 'admin', { action: 'key.create' }),
  r('DELETE', '/api/v1/keys/:id', 'admin', { action: 'key.delete' }),
  r('GET', '/api/v1/audit', 'viewer'),

  // Notifiers: viewers read them and their deliveries; admins change and test them.
  r('GET', '/api/v1/notifiers', 'viewer'),
  r('POST', '/api/v1/notifiers', 'admin', { action: 'notifier.create' }),
  r('GET', '/api/v1/notifiers/:notifier', 'viewer'),
  r('PATCH', '/api/v1/notifiers/:notifier', 'admin', { action: 'notifier.update' }),
  r('DELETE', '/api/v1/notifiers/:notifier', 'admin', { action: 'notifier.delete' }),
  r('POST', '/api/v1/notifiers/:notifier/test', 'admin', { action: 'notifier.test' }),
  r('GET', '/api/v1/notifiers/:notifier/deliveries', 'viewer'),

  // Supervisor's API (supervisor/routes.ts): the same rules under its paths.
  r('GET', '/stacks', 'viewer', { only: 'array' }),
  r('GET', '/stacks/', 'viewer', { only: 'array' }),
  r('POST', '/stacks', 'admin', { action: 'stack.create' }),
  r('POST', '/stacks/', 'admin', { action: 'stack.create' }),
  r('GET', '/stacks/:uuid', 'viewer', { stack: uuid }),
  r('PATCH', '/stacks/:uuid', 'admin', { stack: uuid, action: 'stack.update' }),
  r('PUT', '/stacks/:uuid', 'admin', { stack: uuid, action: 'stack.update' }),
  r('DELETE', '/stacks/:uuid', 'admin', { stack: uuid, action: 'stack.delete' }),
  r('GET', '/stacks/:uuid/stats', 'viewer', { stack: uuid }),
  r('GET', '/stacks/:uuid/log', 'viewer', { stack: uuid, stream: 'sse' }),
  r('POST', '/stacks/:uuid/control', 'admin', { stack: uuid, action: 'stack.control' }),
  r('POST', '/stacks/:uuid/webhook', 'webhook-signed', { stack: uuid, action: 'webhook.git' }),
];

/**
 * Paths that need a key even when no route answers them, so an unknown path tells a
 * caller without a key nothing. Anything else without a row (the web UI's files) is open.
 */
export const KEYED_PATH = /^\/(api\/v1(\/|$)|webhook$|stacks(\/|$))/;

interface Compiled {
  rule: AccessRule;
  pattern: RegExp;
  names: string[];
}

const compile = (rule: AccessRule): Compiled => {
  const names: string[] = [];
  const source = rule.path
    .split('/')
    .map((seg) => {
      if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(seg.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { rule, pattern: new RegExp(`^${source}$`), names };
};

// Literal paths first (`/keys/self` before `/keys/:id`): fewest parameters wins.
const COMPILED = ACCESS.map(compile).sort((a, b) => a.names.length - b.names.length);

export interface Match {
  rule: AccessRule;
  params: Record<string, string>;
}

/** The row for a request (HEAD reads as GET), with its path parameters; undefined when none. */
export function matchAccess(method: string, path: string): Match | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  for (const c of COMPILED) {
    if (c.rule.method !== m) continue;
    const found = c.pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    c.names.forEach((name, i) => {
      const raw = found[i + 1] ?? '';
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        params[name] = raw;
      }
    });
    return { rule: c.rule, params };
  }
  return undefined;
}

/** The rule's row as `METHOD path`, as the route walk test prints it. */
export const ruleKey = (rule: Pick<AccessRule, 'method' | 'path'>) => `${rule.method} ${rule.path}`;
