import { type Context, Hono } from 'hono';
import { Health, HealthDegraded } from '../contract';
import type { AppDeps, AppEnv, ComponentHealth } from '../deps';
import { errorBody } from '../errors';
import { describeRoute } from '../openapi';

type Component = 'database' | 'docker' | 'compose';

/**
 * `GET /health` and its alias `GET /up`, open without a key: 200 when the database,
 * the Docker engine and compose all answer, else 503. The 503 body also carries the
 * error body, so it still follows the contract for non-2xx responses.
 */
export function healthRoutes(deps: AppDeps) {
  const handler = async (c: Context<AppEnv>) => {
    // A probe that throws is reported as down with a generic reason; the cause goes to the log.
    const probe = async (name: Component): Promise<ComponentHealth> => {
      try {
        return await deps.health[name]();
      } catch (error) {
        c.get('logger').warn('health check failed', { check: name, error });
        return { ok: false, error: `the ${name} check failed` };
      }
    };
    const [database, docker, compose] = await Promise.all([
      probe('database'),
      probe('docker'),
      probe('compose'),
    ]);
    const report = {
      database: { ok: database.ok, ...(database.error ? { error: database.error } : {}) },
      docker,
      compose,
      version: deps.version,
      ...(deps.health.hosts ? { hosts: deps.health.hosts() } : {}),
    };
    const down = Object.entries({ database, docker, compose })
      .filter(([, h]) => !h.ok)
      .map(([name]) => name);
    if (down.length === 0) return c.json({ status: 'ok' as const, ...report }, 200);
    const message = `simpledeploy is degraded: ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} not available`;
    return c.json(
      { status: 'degraded' as const, ...report, ...errorBody('UNAVAILABLE', message, { down }) },
      503,
    );
  };
  const doc = (id: string, summary: string) =>
    describeRoute({
      id,
      summary,
      tag: 'health',
      auth: 'open',
      responses: { 200: Health, 503: HealthDegraded },
    });
  return new Hono<AppEnv>()
    .get(
      '/health',
      doc('health', 'Whether the database, the Docker engine and compose answer'),
      handler,
    )
    .get('/up', doc('up', 'Alias of /health'), handler);
}
