import { AppError, type Clock, systemClock } from '@simpledeploy/core';
import { type Context, Hono } from 'hono';
import {
  SupervisorControlBody,
  SupervisorLog,
  SupervisorLogQuery,
  SupervisorStack,
  SupervisorStackBody,
  SupervisorStackList,
  SupervisorStats,
  SupervisorWebhookAccepted,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { hasValidApiKey } from '../middleware/auth';
import { describeRoute, type RouteDoc } from '../openapi';
import { webhookAnswer } from '../routes/gitops';
import { jsonBody, query } from '../validate';
import { toStackBody, toSupervisorStack, withSupervisorNames } from './fields';
import { actionOf, followStackLog, lastEntries } from './log';

/**
 * Supervisor's webhook (`POST /stacks/{uuid}/webhook`) authenticates itself with the
 * signature in the stack's signature_header (or the API key): the global check skips it.
 */
export const isSupervisorWebhook = (c: Context) =>
  c.req.method === 'POST' && /^\/stacks\/[^/]+\/webhook\/?$/.test(c.req.path);

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

  const doc = (d: Omit<RouteDoc, 'tag'>) => describeRoute({ ...d, tag: 'supervisor' });
  // Supervisor's stack rules depend on the stack changed: toStackBody checks the body.
  const stackBody = jsonBody(SupervisorStackBody, { parse: (v) => ({ body: v }) });
  const list = (c: Context<AppEnv>) => c.json(stacks.list().map(toSupervisorStack));
  const create = async (c: Context<AppEnv>, body: unknown) => {
    const stack = await withSupervisorNames(() => stacks.create(toStackBody(body)));
    c.header('Location', `/stacks/${stack.uuid}`);
    return c.json(toSupervisorStack(stack), 201);
  };
  const update = async (c: Context<AppEnv>, body: unknown) => {
    const current = stacks.get(param(c));
    const res = await withSupervisorNames(() =>
      stacks.update(current.id, toStackBody(body, current)),
    );
    return c.json(toSupervisorStack(res.stack), 200);
  };
  const listDoc = (slash: string) =>
    doc({
      id: `supervisorListStacks${slash}`,
      summary: "Every stack, with Supervisor's field names",
      responses: { 200: SupervisorStackList },
    });
  const createDoc = (slash: string) =>
    doc({
      id: `supervisorCreateStack${slash}`,
      summary: "Create a stack from Supervisor's fields",
      responses: { 201: SupervisorStack },
      errors: [409, 422],
    });
  const updateDoc = (method: string) =>
    doc({
      id: `supervisor${method}Stack`,
      summary: `Change a stack with Supervisor's fields (${method.toUpperCase()})`,
      responses: { 200: SupervisorStack },
      errors: [409, 422],
    });

  return new Hono<AppEnv>()
    .get('/stacks', listDoc(''), list)
    .get('/stacks/', listDoc('Slash'), list)
    .post('/stacks', createDoc(''), stackBody, (c) => create(c, c.req.valid('json').body))
    .post('/stacks/', createDoc('Slash'), stackBody, (c) => create(c, c.req.valid('json').body))
    .get(
      '/stacks/:uuid',
      doc({ id: 'supervisorGetStack', summary: 'One stack', responses: { 200: SupervisorStack } }),
      (c) => c.json(toSupervisorStack(stacks.get(param(c)))),
    )
    .patch('/stacks/:uuid', updateDoc('Patch'), stackBody, (c) =>
      update(c, c.req.valid('json').body),
    )
    .put('/stacks/:uuid', updateDoc('Put'), stackBody, (c) => update(c, c.req.valid('json').body))
    .delete(
      '/stacks/:uuid',
      doc({
        id: 'supervisorDeleteStack',
        summary: 'Take the compose project down and delete the stack',
        responses: { 204: { description: 'deleted' } },
      }),
      async (c) => {
        const stack = deployer.requireStack(param(c));
        await stacks.remove(stack.id, {
          removeVolumes: c.req.query('remove_volumes') === 'true',
        });
        return c.body(null, 204);
      },
    )
    .get(
      '/stacks/:uuid/stats',
      doc({
        id: 'supervisorStackStats',
        summary: "The stack's runs, as Supervisor counts them",
        responses: { 200: SupervisorStats },
      }),
      (c) => {
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
      },
    )
    .post(
      '/stacks/:uuid/webhook',
      doc({
        id: 'supervisorWebhook',
        summary: "A git host's push, signed in the stack's signature_header (or the API key)",
        auth: 'signed',
        responses: { 200: SupervisorWebhookAccepted, 202: SupervisorWebhookAccepted },
        errors: [413, 503],
      }),
      async (c) => {
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
        // The access check read this {uuid} for the audit log (null: there is none): not
        // read again, as on the stack webhook route.
        const access = c.get('access');
        const found = access?.match?.rule.stack ? (access.stack?.row ?? null) : undefined;
        const { status, body: answer } = webhookAnswer(
          await domain.gitops.webhooks.handle({
            stack: param(c),
            header: (name) => c.req.header(name),
            body,
            apiKeyValid,
            ...(found === undefined ? {} : { found }),
          }),
        );
        return c.json({ message: 'Webhook received' as const, ...answer }, status);
      },
    )
    .post(
      '/stacks/:uuid/control',
      doc({
        id: 'supervisorControl',
        summary: 'Run a command: redeploy (a deployment), start, stop, restart, pause, unpause',
        responses: { 204: { description: 'done' } },
        errors: [409],
      }),
      jsonBody(SupervisorControlBody),
      async (c) => {
        const { command } = c.req.valid('json');
        if (command === 'redeploy') deployer.deploy(param(c), { trigger: 'manual', force: true });
        else lifecycle.control(param(c), { command, services: [] });
        return c.body(null, 204);
      },
    )
    .get(
      '/stacks/:uuid/log',
      doc({
        id: 'supervisorLog',
        summary: "The stack's last runs with their output, oldest first",
        description: 'With `follow` (any value but false or 0): Server-Sent Events of new entries.',
        responses: { 200: SupervisorLog },
        stream: SupervisorLog,
      }),
      query(SupervisorLogQuery),
      (c) => {
        const { follow, entries } = c.req.valid('query');
        // Supervisor streams for any value of follow; "false" and "0" read as no here.
        if (follow !== undefined && follow !== 'false' && follow !== '0')
          return followStackLog(c, domain, param(c), clock);
        const stack = deployer.requireStack(param(c));
        return c.json(lastEntries(domain, stack.id, entries ?? 1));
      },
    );
}
