import { parseControl } from '@simpledeploy/deployer';
import { Hono } from 'hono';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { readJson } from '../errors';

/** Stacks: CRUD, containers, stats, lifecycle commands and history. */
export function stackRoutes({ stacks, deployer, lifecycle }: DomainDeps) {
  const update = async (c: import('hono').Context<AppEnv>) => {
    const res = await stacks.update(c.req.param('stack') ?? '', await readJson(c));
    return c.json(res, 200);
  };
  return new Hono<AppEnv>()
    .get('/api/v1/stacks', (c) => c.json({ stacks: stacks.list() }))
    .post('/api/v1/stacks', async (c) =>
      c.json({ stack: await stacks.create(await readJson(c)) }, 201),
    )
    .get('/api/v1/stacks/:stack', (c) => c.json({ stack: stacks.get(c.req.param('stack')) }))
    .patch('/api/v1/stacks/:stack', update)
    .put('/api/v1/stacks/:stack', update)
    .delete('/api/v1/stacks/:stack', async (c) => {
      const stack = deployer.requireStack(c.req.param('stack'));
      const removeVolumes = c.req.query('remove_volumes') === 'true';
      await lifecycle.remove(stack.id, { removeVolumes });
      return c.json({ deleted: true, stack_id: stack.id, removed_volumes: removeVolumes }, 202);
    })
    .get('/api/v1/stacks/:stack/services', async (c) =>
      c.json({ services: await deployer.services(c.req.param('stack')) }),
    )
    .get('/api/v1/stacks/:stack/stats', (c) => c.json(deployer.stats(c.req.param('stack'))))
    .post('/api/v1/stacks/:stack/control', async (c) => {
      const req = parseControl(await readJson(c));
      return c.json({ event: lifecycle.control(c.req.param('stack'), req) }, 202);
    })
    .get('/api/v1/stacks/:stack/events', (c) =>
      c.json({ events: lifecycle.history(c.req.param('stack')) }),
    );
}
