import { type Role, roleAllows } from '@simpledeploy/core';
import { describe, expect, it } from 'vitest';
import { ACCESS, type AccessRule, matchAccess, ruleKey } from './access';
import { createApp } from './app';
import { testDomain, testGitops } from './test-domain';
import { json, TEST_KEY, testDeps } from './test-helpers';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

/** Every (method, path) the app answers, from the router itself. */
function appRoutes(): string[] {
  const app = createApp(testDeps());
  const keys = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
  return [...new Set(keys)];
}

describe('the access table', () => {
  it('has a row for every route of the app, and no row without a route', () => {
    const routes = appRoutes();
    const rows = ACCESS.map(ruleKey);
    const missing = routes.filter((r) => !rows.includes(r));
    expect(missing, `routes without a row in access.ts: ${missing.join(', ')}`).toEqual([]);
    expect(rows.filter((r) => !routes.includes(r))).toEqual([]);
    expect(new Set(rows).size).toBe(rows.length);
  });

  it('matches a request to its row, literal paths before parameters', () => {
    expect(matchAccess('GET', '/api/v1/keys/self')?.rule.need).toBe('viewer');
    expect(matchAccess('DELETE', '/api/v1/keys/self')?.rule.need).toBe('admin');
    expect(matchAccess('HEAD', '/api/v1/stacks/web')?.params).toEqual({ stack: 'web' });
    expect(matchAccess('GET', '/api/v1/stacks/a%20b/logs/ws')?.rule.stream).toBe('ws');
    expect(matchAccess('GET', '/api/v1/stacks/web/')).toBeUndefined();
  });

  it('lets a non-admin key write nothing but deploys, cancels and rollbacks', () => {
    const writes = ACCESS.filter(
      (r) => r.method !== 'GET' && r.need !== 'webhook-signed' && r.need !== 'admin',
    ).map(ruleKey);
    // The deployer's actions, and nothing else that writes.
    expect(writes.sort()).toEqual(
      [
        'POST /api/v1/deployments/:id/cancel',
        'POST /api/v1/stacks/:stack/cancel',
        'POST /api/v1/stacks/:stack/deploy',
        'POST /api/v1/stacks/:stack/rollback',
        'POST /webhook',
      ].sort(),
    );
  });
});

/** Who calls: no key, a wrong key, stored keys of each role (some limited to `web`), the env key. */
type Caller =
  | { kind: 'none' }
  | { kind: 'wrong' }
  | { kind: 'environment' }
  | { kind: 'key'; role: Role; scoped: boolean };

const CALLERS: Caller[] = [
  { kind: 'none' },
  { kind: 'wrong' },
  { kind: 'key', role: 'viewer', scoped: true },
  { kind: 'key', role: 'deployer', scoped: true },
  { kind: 'key', role: 'viewer', scoped: false },
  { kind: 'key', role: 'deployer', scoped: false },
  { kind: 'key', role: 'admin', scoped: false },
  { kind: 'environment' },
];

const label = (c: Caller) =>
  c.kind === 'key' ? `${c.role}${c.scoped ? ' (web only)' : ''}` : `${c.kind} key`;

/** A fresh world per row: stacks web and other, each deployed once, and a key of each kind. */
async function world() {
  const domain = testDomain();
  const app = createApp(
    testDeps({ domain: { ...domain, gitops: testGitops(domain) }, rateLimit: false }),
  );
  const stacks = {
    web: await domain.stacks.create({ name: 'web', compose }),
    other: await domain.stacks.create({ name: 'other', compose }),
  };
  const deployments = { web: '', other: '' };
  const versions = { web: '', other: '' };
  for (const name of ['web', 'other'] as const) {
    const { deployment } = domain.deployer.deploy(name, { trigger: 'manual' });
    await domain.deployer.waitFor(deployment.id);
    deployments[name] = deployment.id;
    versions[name] = domain.deployer.listVersions(name)[0]?.id ?? '';
  }
  const secrets = new Map<string, string>();
  for (const role of ['viewer', 'deployer', 'admin'] as const) {
    secrets.set(role, domain.keys.create({ name: role, role }).secret);
    if (role !== 'admin')
      secrets.set(
        `${role}-scoped`,
        domain.keys.create({ name: `${role}-web`, role, stacks: ['web'] }).secret,
      );
  }
  const victim = domain.keys.create({ name: 'victim', role: 'viewer' });
  const keyOf = (c: Caller): string | undefined =>
    c.kind === 'none'
      ? undefined
      : c.kind === 'wrong'
        ? 'not-a-key-0123456789'
        : c.kind === 'environment'
          ? TEST_KEY
          : secrets.get(c.scoped ? `${c.role}-scoped` : c.role);
  let n = 0;
  const request = (rule: AccessRule, caller: Caller, target: 'web' | 'other') => {
    const path = rule.path.replace(/:([a-z]+)/g, (_m, name: string) => {
      if (name === 'stack') return target;
      if (name === 'uuid') return stacks[target].uuid ?? stacks[target].id;
      if (name === 'file') return 'init.js';
      if (rule.path.startsWith('/api/v1/keys')) return victim.id;
      return rule.path.includes('/versions/') ? versions[target] : deployments[target];
    });
    const body =
      rule.method === 'GET' || rule.method === 'DELETE'
        ? undefined
        : rule.path === '/webhook'
          ? { stack: target }
          : rule.path === '/api/v1/keys'
            ? { name: `made-${++n}`, role: 'viewer' }
            : {};
    const key = keyOf(caller);
    return app.request(path, {
      method: rule.method,
      headers: {
        ...(key ? { 'X-API-KEY': key } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  };
  return { request };
}

/** What the caller must get: allowed (neither 401 nor 403), 401 or 403. */
function expected(rule: AccessRule, caller: Caller, target: 'web' | 'other') {
  if (rule.need === 'public') return 'allowed';
  if (rule.need === 'webhook-signed')
    return caller.kind === 'environment' ? 'allowed' : caller.kind === 'key' ? 'not 403' : 401;
  if (caller.kind === 'none' || caller.kind === 'wrong') return 401;
  const role: Role = caller.kind === 'environment' ? 'admin' : caller.role;
  if (!roleAllows(role, rule.need)) return 403;
  if (caller.kind === 'key' && caller.scoped && rule.stack && target === 'other') return 403;
  return 'allowed';
}

describe('every route against every role', () => {
  for (const rule of ACCESS) {
    it(`${ruleKey(rule)} (${rule.need})`, async () => {
      const w = await world();
      const got: string[] = [];
      const want: string[] = [];
      const statuses: string[] = [];
      for (const caller of CALLERS) {
        // A key limited to web is tried on web and on the other stack.
        const targets: ('web' | 'other')[] =
          caller.kind === 'key' && caller.scoped && rule.stack ? ['web', 'other'] : ['web'];
        for (const target of targets) {
          const res = await w.request(rule, caller, target);
          await res.body?.cancel();
          const exp = expected(rule, caller, target);
          const outcome =
            res.status === 403
              ? 403
              : exp === 'not 403'
                ? exp
                : res.status === 401
                  ? 401
                  : 'allowed';
          const who = `${label(caller)} on ${target}`;
          got.push(`${who}: ${outcome}`);
          want.push(`${who}: ${exp}`);
          statuses.push(`${who}: HTTP ${res.status}`);
          if (process.env.SHOW) console.log(ruleKey(rule), who, res.status);
        }
      }
      expect(got, statuses.join('\n')).toEqual(want);
    });
  }
});

describe('what a key limited to some stacks sees', () => {
  it('lists only its stacks, in both APIs', async () => {
    const domain = testDomain();
    const app = createApp(testDeps({ domain }));
    await domain.stacks.create({ name: 'web', compose });
    await domain.stacks.create({ name: 'other', compose });
    const { secret } = domain.keys.create({ name: 'ci', role: 'deployer', stacks: ['web'] });
    const headers = { 'X-API-KEY': secret };
    const list = await json(await app.request('/api/v1/stacks', { headers }));
    expect(list.stacks.map((s: { name: string }) => s.name)).toEqual(['web']);
    const supervisor = await json(await app.request('/stacks', { headers }));
    expect(supervisor.map((s: { name: string }) => s.name)).toEqual(['web']);
    const all = await json(
      await app.request('/api/v1/stacks', { headers: { 'X-API-KEY': TEST_KEY } }),
    );
    expect(all.stacks).toHaveLength(2);
  });

  it('answers 403, not 404, for a stack that does not exist', async () => {
    const domain = testDomain();
    const app = createApp(testDeps({ domain }));
    await domain.stacks.create({ name: 'web', compose });
    const { secret } = domain.keys.create({ name: 'ci', role: 'viewer', stacks: ['web'] });
    const res = await app.request('/api/v1/stacks/nope', { headers: { 'X-API-KEY': secret } });
    expect(res.status).toBe(403);
    expect(await json(res)).toEqual({
      error: {
        code: 'FORBIDDEN',
        message: 'this key is limited to other stacks',
        details: { role: 'viewer' },
      },
    });
  });

  it('refuses policy_exceptions (and every other stack change) to a non-admin key', async () => {
    const domain = testDomain();
    const app = createApp(testDeps({ domain }));
    await domain.stacks.create({ name: 'web', compose });
    const { secret } = domain.keys.create({ name: 'ci', role: 'deployer' });
    const patch = (key: string) =>
      app.request('/api/v1/stacks/web', {
        method: 'PATCH',
        headers: { 'X-API-KEY': key, 'content-type': 'application/json' },
        body: JSON.stringify({ policy_exceptions: ['privileged'] }),
      });
    const denied = await patch(secret);
    expect(denied.status).toBe(403);
    const body = await json(denied);
    expect(body.error.code).toBe('FORBIDDEN');
    expect(body.error.message).toContain('needs an admin key');
    expect(domain.stacks.get('web').policy_exceptions).toEqual([]);
    expect((await patch(TEST_KEY)).status).toBe(200);
    expect(domain.stacks.get('web').policy_exceptions).toEqual(['privileged']);
  });
});
