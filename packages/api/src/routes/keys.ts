import { AppError } from '@simpledeploy/core';
import { ENVIRONMENT_KEY_NAME, parseKeyBody } from '@simpledeploy/deployer';
import { type Context, Hono } from 'hono';
import {
  AuditList,
  AuditQuery,
  KeyCreate,
  KeyCreated,
  KeyDeleted,
  KeyList,
  KeyResponse,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import type { Principal } from '../middleware/auth';
import { describeRoute } from '../openapi';
import { jsonBody, query } from '../validate';

const tag = 'keys';

/** The caller, as the access middleware found it (every route here needs a key). */
const caller = (c: Context<AppEnv>): Principal => {
  const p = c.get('principal');
  if (!p) throw new AppError('UNAUTHORIZED', 'a valid API key is required');
  return p;
};

/** The key from the environment, as the key routes list it: the first admin key. */
const environmentKey = () => ({
  id: ENVIRONMENT_KEY_NAME,
  name: ENVIRONMENT_KEY_NAME,
  role: 'admin' as const,
  stacks: [] as string[],
  created_at: null,
  last_used_at: null,
  from_environment: true,
});

/**
 * API keys (api.md "API keys, roles and audit"): create (the key is in the answer once),
 * list without key material, revoke, and who the caller is. Who may call each is in
 * access.ts.
 */
export function keyRoutes({ keys, deployer }: Pick<DomainDeps, 'keys' | 'deployer'>) {
  const stackName = (id: string) => {
    try {
      return deployer.requireStack(id).name;
    } catch {
      return id;
    }
  };
  return new Hono<AppEnv>()
    .post(
      '/api/v1/keys',
      describeRoute({
        id: 'createKey',
        summary: 'Create an API key with a role (admin)',
        description: 'The key is in this answer only: it is stored as its sha256.',
        tag,
        responses: { 201: KeyCreated },
        errors: [409],
      }),
      jsonBody(KeyCreate, { parse: parseKeyBody }),
      (c) => c.json({ key: keys.create(c.req.valid('json')) }, 201),
    )
    .get(
      '/api/v1/keys',
      describeRoute({
        id: 'listKeys',
        summary: 'Every API key, without key material (admin)',
        description: 'The key from the environment comes first.',
        tag,
        responses: { 200: KeyList },
      }),
      (c) =>
        c.json({
          keys: [environmentKey(), ...keys.list().map((k) => ({ ...k, from_environment: false }))],
        }),
    )
    .get(
      '/api/v1/keys/self',
      describeRoute({
        id: 'getOwnKey',
        summary: 'The key this request was sent with: its name, role and stacks',
        tag,
        responses: { 200: KeyResponse },
      }),
      (c) => {
        const p = caller(c);
        if (p.source === 'environment') return c.json({ key: environmentKey() });
        const key = { ...keys.view(p.id), stacks: p.stacks.map(stackName) };
        return c.json({ key: { ...key, from_environment: false } });
      },
    )
    .delete(
      '/api/v1/keys/:id',
      describeRoute({
        id: 'deleteKey',
        summary: 'Revoke an API key (admin)',
        description:
          'Its next request is a 401, and the log and event streams it has open end (WebSockets close with 1008).',
        tag,
        responses: { 200: KeyDeleted },
        errors: [409],
      }),
      (c) => {
        const id = c.req.param('id');
        if (id === ENVIRONMENT_KEY_NAME)
          throw new AppError(
            'CONFLICT',
            'the key from the environment is changed by setting SIMPLEDEPLOY_API_KEY and restarting',
          );
        return c.json({ deleted: true as const, key: keys.revoke(id) }, 200);
      },
    );
}

/** `GET /api/v1/audit?stack=&key=&limit=`: newest first; a key limited to some stacks reads only theirs. */
export function auditRoutes({ audit }: Pick<DomainDeps, 'audit'>) {
  return new Hono<AppEnv>().get(
    '/api/v1/audit',
    describeRoute({
      id: 'listAudit',
      summary: 'Every change and action, newest first: who, what, target, request id, result',
      description: 'A key limited to some stacks reads only their entries.',
      tag: 'audit',
      responses: { 200: AuditList },
    }),
    query(AuditQuery),
    (c) => {
      const p = caller(c);
      const q = c.req.valid('query');
      const entries = audit.list({
        stack: q.stack || undefined,
        key: q.key || undefined,
        limit: q.limit,
        stackIds: p.stacks.length > 0 ? p.stacks : undefined,
      });
      return c.json({ entries });
    },
  );
}
