import { parseStackBody } from '@simpledeploy/deployer';
import { Hono } from 'hono';
import {
  ControlBody,
  DeleteQuery,
  ServiceList,
  StackCreate,
  StackDeleted,
  StackEventList,
  StackEventResponse,
  StackInput,
  StackListPage,
  StackListQuery,
  StackResponse,
  StackUpdated,
  Stats,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { describeRoute } from '../openapi';
import { createStackListAnswer } from '../stack-list';
import { jsonBody, query } from '../validate';

const tag = 'stacks';

/** Stacks: CRUD, containers, stats, lifecycle commands and history. */
export function stackRoutes({ stacks, deployer, lifecycle }: DomainDeps) {
  // The stack body's rules and messages are the domain's (deployer/stack-input.ts).
  const stackBody = jsonBody(StackInput, { parse: parseStackBody });
  const listAnswer = createStackListAnswer(stacks);
  const update = (id: string, method: string) =>
    describeRoute({
      id,
      summary: `Change a stack (${method}): only the fields sent change`,
      description:
        'With auto_deploy, a change to a field that shapes the deployment queues one (trigger `api`) and the response carries it.',
      tag,
      responses: { 200: StackUpdated },
      errors: [409, 422],
    });
  return new Hono<AppEnv>()
    .get(
      '/api/v1/stacks',
      describeRoute({
        id: 'listStacks',
        summary: 'Every stack with its current status, or a page of them',
        description:
          'In name order. `limit` and `cursor` page through the list (keyset pages: a stack created meanwhile never shifts the others); `view=summary` sends only what a list shows. Every answer carries an `ETag`; sent back as `If-None-Match`, it is answered `304` with no body while nothing changed.',
        tag,
        responses: {
          200: StackListPage,
          304: { description: 'Not modified: the ETag sent in If-None-Match is still current' },
        },
      }),
      query(StackListQuery),
      (c) => listAnswer(c, c.req.valid('query')),
    )
    .post(
      '/api/v1/stacks',
      describeRoute({
        id: 'createStack',
        summary: 'Create a stack',
        tag,
        responses: { 201: StackResponse },
        errors: [409, 422],
      }),
      jsonBody(StackCreate, { parse: parseStackBody }),
      async (c) => c.json({ stack: await stacks.create(c.req.valid('json')) }, 201),
    )
    .get(
      '/api/v1/stacks/:stack',
      describeRoute({
        id: 'getStack',
        summary: 'One stack',
        tag,
        responses: { 200: StackResponse },
      }),
      (c) => c.json({ stack: stacks.get(c.req.param('stack')) }),
    )
    .patch('/api/v1/stacks/:stack', update('patchStack', 'PATCH'), stackBody, async (c) =>
      c.json(await stacks.update(c.req.param('stack'), c.req.valid('json')), 200),
    )
    .put('/api/v1/stacks/:stack', update('putStack', 'PUT'), stackBody, async (c) =>
      c.json(await stacks.update(c.req.param('stack'), c.req.valid('json')), 200),
    )
    .delete(
      '/api/v1/stacks/:stack',
      describeRoute({
        id: 'deleteStack',
        summary: 'Take the compose project down and delete the stack',
        tag,
        responses: { 202: StackDeleted },
      }),
      query(DeleteQuery),
      async (c) => {
        const stack = deployer.requireStack(c.req.param('stack'));
        const removeVolumes = c.req.valid('query').remove_volumes === 'true';
        await stacks.remove(stack.id, { removeVolumes });
        return c.json(
          { deleted: true as const, stack_id: stack.id, removed_volumes: removeVolumes },
          202,
        );
      },
    )
    .get(
      '/api/v1/stacks/:stack/services',
      describeRoute({
        id: 'listServices',
        summary: "The stack's containers, from the engine",
        tag,
        responses: { 200: ServiceList },
        errors: [503],
      }),
      async (c) => c.json({ services: await deployer.services(c.req.param('stack')) }),
    )
    .get(
      '/api/v1/stacks/:stack/stats',
      describeRoute({
        id: 'getStackStats',
        summary: "The stack's deployment statistics",
        tag,
        responses: { 200: Stats },
      }),
      (c) => c.json(deployer.stats(c.req.param('stack'))),
    )
    .post(
      '/api/v1/stacks/:stack/control',
      describeRoute({
        id: 'controlStack',
        summary:
          'Run a lifecycle command (start, stop, restart, pull, down, scale, pause, unpause)',
        description: "Recorded as an event in the stack's history.",
        tag,
        responses: { 202: StackEventResponse },
        errors: [409],
      }),
      jsonBody(ControlBody),
      (c) => c.json({ event: lifecycle.control(c.req.param('stack'), c.req.valid('json')) }, 202),
    )
    .get(
      '/api/v1/stacks/:stack/events',
      describeRoute({
        id: 'listStackEvents',
        summary: "The stack's history of lifecycle commands and changes",
        tag,
        responses: { 200: StackEventList },
      }),
      (c) => c.json({ events: lifecycle.history(c.req.param('stack')) }),
    );
}
