import { type AuditLog, resultOf } from '@simpledeploy/deployer';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The created thing's name and id, from a create's answer (`{stack: …}`, `{key: …}` or bare). */
async function createdOf(res: Response): Promise<{ id?: string; name?: string } | undefined> {
  if (!res.headers.get('content-type')?.includes('json')) return undefined;
  try {
    const body = (await res.clone().json()) as Record<string, unknown>;
    const thing = (body.stack ?? body.key ?? body.notifier ?? body) as {
      id?: unknown;
      name?: unknown;
    };
    return {
      ...(typeof thing.id === 'string' ? { id: thing.id } : {}),
      ...(typeof thing.name === 'string' ? { name: thing.name } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Records the outcome of every change and action (every request but a read) and of
 * every refused attempt (401, 403) in the audit log: who by key name, the access
 * table's action, the target, the request id, the result. Never a body, a header or a
 * query string: they carry secrets. Runs outside the rate limiter, so a flood of wrong
 * keys answered 429 is not written row by row.
 */
export function auditTrail(audit: AuditLog): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    const denied = status === 401 || status === 403;
    if (status === 429 || (READS.has(c.req.method) && !denied)) return;
    const info = c.get('access');
    const rule = info?.match?.rule;
    if (!info || rule?.need === 'public') return;
    const principal = c.get('principal');
    let { stack, target } = info;
    const action =
      rule?.action ?? (rule ? `${rule.method} ${rule.path}` : `${c.req.method} (no such route)`);
    if (!target && status < 300 && action.endsWith('.create')) {
      const created = await createdOf(c.res);
      if (created?.name) target = `${action.split('.')[0]} ${created.name}`;
      if (action === 'stack.create' && created?.id && created.name)
        stack = { id: created.id, name: created.name };
    }
    audit.record({
      keyId: principal?.id,
      keyName: principal?.name,
      via: principal ? 'key' : info.signed ? 'signature' : 'key',
      action,
      target,
      stackId: stack?.id,
      stackName: stack?.name,
      requestId: c.get('requestId'),
      result: resultOf(status),
      status,
    });
  };
}
