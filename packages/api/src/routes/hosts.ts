import { Hono } from 'hono';
import {
  HostCreate,
  HostDeleted,
  HostList,
  HostPatch,
  HostResponse,
  MoveBody,
  MoveResult,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { describeRoute } from '../openapi';
import { jsonBody } from '../validate';

const tag = 'hosts';

/**
 * Hosts (api.md "Hosts"): the Docker engines stacks run on, with their last health check,
 * and moving a stack from one to another. Who may call each is in access.ts.
 */
export function hostRoutes({ hosts, deployer }: Pick<DomainDeps, 'hosts' | 'deployer'>) {
  return new Hono<AppEnv>()
    .get(
      '/api/v1/hosts',
      describeRoute({
        id: 'listHosts',
        summary: 'Every host with its last health check',
        tag,
        responses: { 200: HostList },
      }),
      (c) => c.json({ hosts: hosts.list() }),
    )
    .post(
      '/api/v1/hosts',
      describeRoute({
        id: 'createHost',
        summary: 'Add a Docker host (admin)',
        description:
          'SSH hosts need ssh_private_key and ssh_known_hosts (the key is pinned); TCP hosts need tls_ca, tls_cert and tls_key. The host is checked right after.',
        tag,
        responses: { 201: HostResponse },
        errors: [409],
      }),
      jsonBody(HostCreate),
      (c) => c.json({ host: hosts.create(c.req.valid('json')) }, 201),
    )
    .get(
      '/api/v1/hosts/:host',
      describeRoute({
        id: 'getHost',
        summary: 'One host',
        tag,
        responses: { 200: HostResponse },
        errors: [404],
      }),
      (c) => c.json({ host: hosts.get(c.req.param('host')) }),
    )
    .patch(
      '/api/v1/hosts/:host',
      describeRoute({
        id: 'updateHost',
        summary: 'Change a host (admin); its connection is opened again',
        tag,
        responses: { 200: HostResponse },
        errors: [404, 409],
      }),
      jsonBody(HostPatch),
      async (c) => c.json({ host: await hosts.update(c.req.param('host'), c.req.valid('json')) }),
    )
    .delete(
      '/api/v1/hosts/:host',
      describeRoute({
        id: 'deleteHost',
        summary: 'Delete a host (admin); refused with 409 while a stack targets it',
        tag,
        responses: { 200: HostDeleted },
        errors: [404, 409],
      }),
      async (c) =>
        c.json({ deleted: true as const, host: await hosts.remove(c.req.param('host')) }),
    )
    .post(
      '/api/v1/stacks/:stack/move',
      describeRoute({
        id: 'moveStack',
        summary: 'Move a stack to another host',
        description:
          'Deploys the running version on the new host; the project is taken down on the old host only once it is healthy on the new one. A failed move leaves the stack where it was.',
        tag,
        responses: { 202: MoveResult },
        errors: [404, 409],
      }),
      jsonBody(MoveBody),
      (c) =>
        c.json({ deployment: deployer.move(c.req.param('stack'), c.req.valid('json').host) }, 202),
    );
}
