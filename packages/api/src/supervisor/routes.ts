import { AppError, type Clock, systemClock, validation } from '@simpledeploy/core';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { readJson } from '../errors';
import { hasValidApiKey } from '../middleware/auth';
import { toStackBody, toSupervisorStack, withSupervisorNames } from './fields';
import { actionOf, followStackLog, lastEntries, MAX_ENTRIES } from './log';

/**
 * Supervisor's webhook (`POST /stacks/{uuid}/webhook`) authenticates itself with the
 * signature in the stack's signature_header (or the API key): the global check skips it.
 */
export const isSupervisorWebhook = (c: Context) =>
  c.req.method === 'POST' && /^\/stacks\/[^/]+\/webhook\/?$/.test(c.req.path);

/** Supervisor's control commands; `redeploy` is a deployment, the others compose commands. */
const COMMANDS = ['start', 'stop', 'restart', 'redeploy', 'pause', 'unpause'] as const;
type Command = (typeof COMMANDS)[number];

export interface SupervisorRoutesDeps {
  domain: DomainDeps;
  apiKey: string;
  clock?: Pick<Clock, 'now'> | undefined;
}

/**
 * Supervisor's API (api.md "Supervisor compatibility") over the same services as
 * `/api/v1`: its routes, field names and success statuses, with simpledeploy's
 * authentication, error body and write-only secrets. `{uuid}` accepts a stack's uuid, id
 * or name.
 */
export function supervisorRoutes({ domain, apiKey, clock = systemClock }: SupervisorRoutesDeps) {
  const { stacks, deployer, lifecycle } = domain;
  const param = (c: Context<AppEnv>) => c.req.param('uuid') ?? '';

  const list = (c: Context<AppEnv>) => c.json(stacks.list().map(toSupervisorStack));
  const create = async (c: Context<AppEnv>) => {
    const body = await readJson(c);
    const stack = await withSupervisorNames(() => stacks.create(toStackBody(body)));
    c.header('Location', `/stacks/${stack.uuid}`);
    return c.json(toSupervisorStack(stack), 201);
  };
  const update = async (c: Context<AppEnv>) => {
    const body = await readJson(c);
    const current = stacks.get(param(c));
    const res = await withSupervisorNames(() =>
      stacks.update(current.id, toStackBody(body, current)),
    );
    return c.json(toSupervisorStack(res.stack), 200);
  };

  return new Hono<AppEnv>()
    .get('/stacks', list)
    .get('/stacks/', list)
    .post('/stacks', create)
    .post('/stacks/', create)
    .get('/stacks/:uuid', (c) => c.json(toSupervisorStack(stacks.get(param(c)))))
    .patch('/stacks/:uuid', update)
    .put('/stacks/:uuid', update)
    .delete('/stacks/:uuid', async (c) => {
      const stack = deployer.requireStack(param(c));
      await lifecycle.remove(stack.id, { removeVolumes: c.req.query('remove_volumes') === 'true' });
      return c.body(null, 204);
    })
    .get('/stacks/:uuid/stats', (c) => {
      const stack = deployer.requireStack(param(c));
      // Supervisor counts its runs; here the runs counted are the deployments.
      const s = deployer.stats(stack.id);
      const last = deployer.listDeployments(stack.id).find((d) => d.finished_at);
      return c.json({
        processed: s.succeeded + s.failed + s.canceled,
        failed: s.failed,
        last_run: last?.finished_at ?? null,
        last_action: last ? actionOf(last.trigger) : null,
        uuid: stack.uuid ?? stack.id,
      });
    })
    .post('/stacks/:uuid/webhook', async (c) => {
      // The raw bytes, as they were signed; the global body limit applies while reading.
      const body = new Uint8Array(await c.req.arrayBuffer());
      const apiKeyValid = hasValidApiKey(c, apiKey);
      if (!domain.gitops) {
        if (!apiKeyValid) {
          c.header('WWW-Authenticate', 'Bearer');
          throw new AppError(
            'UNAUTHORIZED',
            'a valid webhook signature or the API key is required',
          );
        }
        throw new AppError('UNAVAILABLE', 'git webhooks are not enabled on this server');
      }
      const res = await domain.gitops.webhooks.handle({
        stack: param(c),
        header: (name) => c.req.header(name),
        body,
        apiKeyValid,
      });
      return c.json({ message: 'Webhook received', ...res.body }, res.status);
    })
    .post('/stacks/:uuid/control', async (c) => {
      const body = await readJson(c);
      const command = parseCommand(body);
      if (command === 'redeploy') deployer.deploy(param(c), { trigger: 'manual', force: true });
      else lifecycle.control(param(c), { command, services: [] });
      return c.body(null, 204);
    })
    .get('/stacks/:uuid/log', (c) => {
      const follow = c.req.query('follow');
      // Supervisor streams for any value of follow; "false" and "0" read as no here.
      if (follow !== undefined && follow !== 'false' && follow !== '0')
        return followStackLog(c, domain, param(c), clock);
      const stack = deployer.requireStack(param(c));
      return c.json(lastEntries(domain, stack.id, entriesParam(c.req.query('entries'))));
    });
}

function parseCommand(body: unknown): Command {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw validation('the body must be a JSON object like {"command": "restart"}');
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => k !== 'command');
  if (unknown.length)
    throw validation(
      `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}: send {"command": ...}`,
    );
  if (typeof b.command !== 'string' || !COMMANDS.includes(b.command as Command)) {
    throw validation(`command must be one of ${COMMANDS.join(', ')}`, { field: 'command' });
  }
  return b.command as Command;
}

/** `?entries=`: how many of the last runs (default 1, at most 100, as in Supervisor). */
function entriesParam(v: string | undefined): number {
  if (v === undefined) return 1;
  if (!/^\d{1,6}$/.test(v))
    throw validation(`entries must be a whole number from 0 to ${MAX_ENTRIES}`, {
      field: 'entries',
    });
  return Math.min(Number(v), MAX_ENTRIES);
}
