import { generateKeyPairSync } from 'node:crypto';
import { updateStack } from '@simpledeploy/db';
import { describe, expect, it } from 'vitest';
import { createApi } from '../app';
import { testDomain } from '../test-domain';
import { type Json, json, TEST_KEY, testDeps } from '../test-helpers';

const pair = {
  private: generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey,
};
const knownHosts =
  '10.9.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake';
const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

function setup() {
  const domain = testDomain();
  const api = createApi(testDeps({ domain, rateLimit: false }));
  const call = async (method: string, path: string, body?: unknown, key = TEST_KEY) => {
    const res = await api.app.request(path, {
      method,
      headers: {
        'X-API-KEY': key,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await json(res)) as Json };
  };
  const sshHost = (name = 'edge', extra: Record<string, unknown> = {}) =>
    call('POST', '/api/v1/hosts', {
      name,
      docker_host: 'ssh://deploy@10.9.0.2',
      ssh_private_key: pair.private,
      ssh_known_hosts: knownHosts,
      ...extra,
    });
  return { domain, call, sshHost };
}

describe('hosts routes', () => {
  it('lists the local host, creates an SSH host and never shows its key', async () => {
    const { call, sshHost } = setup();
    const list = await call('GET', '/api/v1/hosts');
    expect(list.body.hosts.map((h: Json) => h.name)).toEqual(['local']);
    const res = await sshHost();
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain('PRIVATE KEY');
    expect(res.body.host).toMatchObject({
      name: 'edge',
      docker_host: 'ssh://deploy@10.9.0.2',
      has_ssh_private_key: true,
      ssh_known_hosts: knownHosts,
      stacks: 0,
    });
    expect((await call('GET', '/api/v1/hosts/edge')).body.host.id).toBe(res.body.host.id);
    expect((await sshHost()).status).toBe(409);
  });

  it('refuses an unreadable key, a TCP host without certificates and an unknown scheme', async () => {
    const { call, sshHost } = setup();
    const bad = await sshHost('bad', { ssh_private_key: 'not a key' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/ssh_private_key cannot be read/);
    const tcp = await call('POST', '/api/v1/hosts', {
      name: 't',
      docker_host: 'tcp://10.9.0.3:2376',
      tls_ca: '-----BEGIN CERTIFICATE-----\n',
    });
    expect(tcp.status).toBe(400);
    expect(tcp.body.error.details.problems).toEqual([
      'tls_cert is required for a tcp:// host: only TLS with client certificates is accepted',
      'tls_key is required for a tcp:// host: only TLS with client certificates is accepted',
    ]);
    const scheme = await call('POST', '/api/v1/hosts', { name: 'u', docker_host: 'http://x' });
    expect(scheme.status).toBe(400);
    expect(scheme.body.error.details.field).toBe('docker_host');
    expect((await call('GET', '/api/v1/hosts')).body.hosts).toHaveLength(1);
  });

  it('keeps the local host: no new address, no deletion', async () => {
    const { call } = setup();
    const patch = await call('PATCH', '/api/v1/hosts/local', { docker_host: 'unix:///x.sock' });
    expect(patch.status).toBe(400);
    const cap = await call('PATCH', '/api/v1/hosts/local', { max_concurrent_deploys: 2 });
    expect(cap.status).toBe(200);
    expect(cap.body.host.max_concurrent_deploys).toBe(2);
    expect((await call('DELETE', '/api/v1/hosts/local')).status).toBe(409);
  });

  it('puts a stack on a host by name, and refuses to delete a host a stack targets', async () => {
    const { call, sshHost } = setup();
    await sshHost();
    const stack = await call('POST', '/api/v1/stacks', { name: 'web', compose, host: 'edge' });
    expect(stack.status).toBe(201);
    expect(stack.body.stack).toMatchObject({ host: 'edge', engine: 'compose' });
    const del = await call('DELETE', '/api/v1/hosts/edge');
    expect(del.status).toBe(409);
    expect(del.body.error.message).toMatch(/still runs 1 stack/);
    const unknown = await call('POST', '/api/v1/stacks', { name: 'w2', compose, host: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/no host named "nope"/);
  });

  it('asks for a swarm manager before a stack may use engine swarm', async () => {
    const { call, sshHost } = setup();
    const res = await call('POST', '/api/v1/stacks', { name: 's', compose, engine: 'swarm' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/engine "swarm" needs a host that is a swarm manager/);
    await sshHost('mgr', { swarm: true });
    const ok = await call('POST', '/api/v1/stacks', {
      name: 's',
      compose,
      engine: 'swarm',
      host: 'mgr',
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('refuses to switch the engine of a stack that has run', async () => {
    const { call, domain } = setup();
    await call('POST', '/api/v1/stacks', { name: 'web', compose });
    const stack = domain.deployer.requireStack('web');
    updateStack(domain.db, stack.id, { currentVersionId: 'ver_x' });
    await call('PATCH', '/api/v1/hosts/local', { swarm: true });
    const res = await call('PATCH', '/api/v1/stacks/web', { engine: 'swarm' });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/create a new stack with engine swarm/);
  });

  it('moves only a stack that runs, to another host', async () => {
    const { call, sshHost } = setup();
    await sshHost();
    await call('POST', '/api/v1/stacks', { name: 'web', compose });
    const notYet = await call('POST', '/api/v1/stacks/web/move', { host: 'edge' });
    expect(notYet.status).toBe(409);
    expect(notYet.body.error.message).toMatch(/no running version to move/);
    const same = await call('POST', '/api/v1/stacks/web/move', { host: 'local' });
    expect(same.status).toBe(409);
    const missing = await call('POST', '/api/v1/stacks/web/move', { host: 'nope' });
    expect(missing.status).toBe(404);
  });
});
