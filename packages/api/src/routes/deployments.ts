import { validation } from '@simpledeploy/core';
import { Hono } from 'hono';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { errorBody } from '../errors';

/** An optional body: empty means "deploy what the stack says". */
async function readOptionalJson(
  c: import('hono').Context<AppEnv>,
): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw validation('the request body is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw validation('the body must be a JSON object like {"ref": "main", "force": true}');
  }
  return body as Record<string, unknown>;
}

function parseDeployBody(body: Record<string, unknown>) {
  const unknown = Object.keys(body).filter((k) => k !== 'ref' && k !== 'force');
  if (unknown.length)
    throw validation(
      `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}: a deploy takes "ref" and "force"`,
    );
  if (
    body.ref !== undefined &&
    (typeof body.ref !== 'string' || !/^[^\s\0~^:?*[\\]{1,255}$/.test(body.ref))
  ) {
    throw validation('ref must be a branch, tag or commit sha', { field: 'ref' });
  }
  if (body.force !== undefined && typeof body.force !== 'boolean') {
    throw validation('force must be true or false', { field: 'force' });
  }
  return { ref: body.ref as string | undefined, force: body.force as boolean | undefined };
}

/** Deploy, history, one deployment with its log, cancel; versions and rollback. */
export function deploymentRoutes({ deployer }: DomainDeps) {
  return new Hono<AppEnv>()
    .post('/api/v1/stacks/:stack/deploy', async (c) => {
      const { ref, force } = parseDeployBody(await readOptionalJson(c));
      const res = deployer.deploy(c.req.param('stack'), { trigger: 'manual', ref, force });
      if (c.req.query('wait') !== 'true') return c.json(res, 202);
      // For CI pipelines: hold the response until the deployment ends.
      const done = deployer.getDeployment((await deployer.waitFor(res.deployment.id)).id);
      if (done.status === 'succeeded')
        return c.json({ deployment: done, coalesced: res.coalesced }, 200);
      return c.json(
        {
          ...errorBody(
            'VALIDATION',
            `deployment ${done.id} ended ${done.status}: ${done.error ?? 'see its log'}`,
            {
              deployment_id: done.id,
              status: done.status,
            },
          ),
          deployment: done,
        },
        422,
      );
    })
    .get('/api/v1/stacks/:stack/deployments', (c) =>
      c.json({ deployments: deployer.listDeployments(c.req.param('stack')) }),
    )
    .get('/api/v1/deployments/:id', (c) =>
      c.json({ deployment: deployer.getDeployment(c.req.param('id')) }),
    )
    .post('/api/v1/deployments/:id/cancel', (c) =>
      c.json({ deployment: deployer.cancel(c.req.param('id')) }, 202),
    )
    .post('/api/v1/stacks/:stack/cancel', (c) =>
      c.json({ deployment: deployer.cancelStack(c.req.param('stack')) }, 202),
    )
    .get('/api/v1/stacks/:stack/versions', (c) =>
      c.json({ versions: deployer.listVersions(c.req.param('stack')) }),
    )
    .get('/api/v1/stacks/:stack/versions/:id', (c) =>
      c.json({ version: deployer.getVersion(c.req.param('stack'), c.req.param('id')) }),
    )
    .post('/api/v1/stacks/:stack/rollback', async (c) => {
      const body = await readOptionalJson(c);
      const unknown = Object.keys(body).filter((k) => k !== 'version_id');
      if (unknown.length)
        throw validation(
          `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}: a rollback takes "version_id"`,
        );
      if (
        body.version_id !== undefined &&
        (typeof body.version_id !== 'string' || !body.version_id)
      ) {
        throw validation("version_id must be the id of one of the stack's versions", {
          field: 'version_id',
        });
      }
      return c.json(
        {
          deployment: deployer.rollback(
            c.req.param('stack'),
            body.version_id as string | undefined,
          ),
        },
        202,
      );
    })
    .post('/webhook', async (c) => {
      // Accelero's endpoint: {"stack": name}; without it the stack "default", else the first.
      const body = await readOptionalJson(c);
      const name = body.stack;
      if (name !== undefined && typeof name !== 'string')
        throw validation('stack must be a stack name', { field: 'stack' });
      const target = name ?? deployer.defaultStackName();
      return c.json(deployer.deploy(target, { trigger: 'webhook' }), 202);
    });
}
