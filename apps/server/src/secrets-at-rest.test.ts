import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '@simpledeploy/api';
import {
  createRedactor,
  createSecretBox,
  isEncrypted,
  sha256,
  silentLogger,
} from '@simpledeploy/core';
import { createDb, type DbHandle, migrate, SECRET_COLUMNS, stacks } from '@simpledeploy/db';
import { createServices, createSourceResolver, decryptSecrets } from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner } from '@simpledeploy/testing/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { databasePath } from './container';
import { RotateError, rotateSecretKey } from './rotate';

const API_KEY = 'at-rest-api-key-0123456789';
const KEY = 'at-rest-secret-key-0123456789';

// Every kind of secret, each distinctive so a grep cannot match anything else.
const SECRETS = {
  repoToken: 'PLAINTEXT-repo-token-5f1e',
  webhookSecret: 'PLAINTEXT-webhook-secret-9a2c',
  dockerPassword: 'PLAINTEXT-docker-password-77b0',
  registryPassword: 'PLAINTEXT-registry-password-31d4',
  patchedToken: 'PLAINTEXT-patched-token-0c9e',
  patchedHook: 'PLAINTEXT-patched-hook-e4f1',
};

const handles: DbHandle[] = [];
afterEach(() => {
  for (const h of handles.splice(0)) if (h.sqlite.open) h.close();
});

/** The server's database in a fresh data dir, with the real domain and API over it. */
function server(dataDir = mkdtempSync(join(tmpdir(), 'sd-at-rest-')), key = KEY) {
  const handle = createDb(databasePath({ dataDir }));
  handles.push(handle);
  migrate(handle.db);
  const runner = createFakeRunner();
  const services = createServices({
    db: handle.db,
    runner,
    clock: createFakeClock(),
    logger: silentLogger,
    secrets: createSecretBox(key),
    redact: createRedactor([API_KEY]),
    sources: createSourceResolver(),
    config: {
      dataDir,
      projectPrefix: 'simpledeploy',
      maxConcurrent: 3,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
    },
  });
  const app = createApp({
    apiKey: API_KEY,
    logger: silentLogger,
    version: 'test',
    health: {
      database: async () => ({ ok: true }),
      docker: async () => ({ ok: true }),
      compose: async () => ({ ok: true }),
    },
    domain: services,
    rateLimit: false,
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { 'X-API-KEY': API_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return res;
  };
  return { dataDir, handle, services, api, app };
}

/** Stacks with every kind of secret, created and changed through the API. */
async function createSecretStacks(api: ReturnType<typeof server>['api']) {
  await api('POST', '/api/v1/stacks', {
    name: 'git-app',
    repo_url: 'https://git.example/team/app.git',
    repo_username: 'deploy-bot',
    repo_token: SECRETS.repoToken,
    webhook_secret: SECRETS.webhookSecret,
  });
  await api('POST', '/api/v1/stacks', {
    name: 'inline-app',
    compose: 'services:\n  web:\n    image: registry.example/web:1\n',
    docker_registry: 'registry.example',
    docker_username: 'pusher',
    docker_password: SECRETS.dockerPassword,
    registries: [{ registry: 'ghcr.io', username: 'ci-bot', password: SECRETS.registryPassword }],
    webhook_secret: SECRETS.webhookSecret,
  });
  await api('PATCH', '/api/v1/stacks/git-app', {
    repo_token: SECRETS.patchedToken,
    webhook_secret: SECRETS.patchedHook,
  });
  await api('POST', '/api/v1/stacks/inline-app/deploy?wait=true');
}

/** Each secret in the forms a careless store would hold: raw, base64, and docker's user:pass. */
const needles = () =>
  Object.values(SECRETS).flatMap((s) => [
    s,
    Buffer.from(s).toString('base64'),
    Buffer.from(s).toString('hex'),
  ]);

function rawFiles(dataDir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const p = `${join(dataDir, 'simpledeploy.db')}${suffix}`;
    if (existsSync(p)) out[p] = readFileSync(p);
  }
  return out;
}

function expectNoPlaintext(dataDir: string) {
  const files = rawFiles(dataDir);
  expect(Object.keys(files).some((p) => p.endsWith('-wal'))).toBe(true);
  for (const [path, bytes] of Object.entries(files)) {
    for (const n of needles()) {
      expect(bytes.includes(Buffer.from(n)), `${n} in ${path}`).toBe(false);
      expect(bytes.includes(Buffer.from(n, 'utf16le')), `${n} (utf16) in ${path}`).toBe(false);
    }
  }
}

const dump = (h: DbHandle) =>
  JSON.stringify(
    (
      h.sqlite.prepare("select name from sqlite_master where type = 'table'").all() as {
        name: string;
      }[]
    ).map((t) => h.sqlite.prepare(`select * from "${t.name}"`).all()),
  );

describe('secrets at rest', () => {
  it('the raw SQLite file and its WAL hold no plaintext secret after every kind was stored', async () => {
    const s = server();
    await createSecretStacks(s.api);
    // Sanity: the test can see what it greps for once it is in the WAL.
    const probe = Buffer.from('PLAINTEXT-probe-not-secret-c0de');
    s.handle.sqlite
      .prepare('update stacks set repo_branch = ? where name = ?')
      .run(probe.toString(), 'inline-app');
    expect(Object.values(rawFiles(s.dataDir)).some((b) => b.includes(probe))).toBe(true);
    expectNoPlaintext(s.dataDir);
    // And after the WAL is folded into the main file.
    s.handle.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    s.handle.close();
    for (const bytes of Object.values(rawFiles(s.dataDir))) {
      for (const n of needles()) expect(bytes.includes(Buffer.from(n))).toBe(false);
    }
  });

  it('every secret column holds SecretBox ciphertext that decrypts to what was sent', async () => {
    const s = server();
    await createSecretStacks(s.api);
    const box = createSecretBox(KEY);
    for (const row of s.handle.db.select().from(stacks).all()) {
      for (const col of SECRET_COLUMNS) {
        const v = row[col];
        if (v) expect(isEncrypted(v)).toBe(true);
      }
    }
    const rows = s.handle.db.select().from(stacks).all();
    const git = decryptSecrets(rows.find((r) => r.name === 'git-app')!, box);
    expect(git).toMatchObject({
      repoToken: SECRETS.patchedToken,
      webhookSecret: SECRETS.patchedHook,
    });
  });
});

describe('API keys at rest', () => {
  it('the raw SQLite file and its WAL hold only the sha256 of a key, never the key', async () => {
    const s = server();
    await createSecretStacks(s.api);
    const made: string[] = [];
    for (const [name, role, stacks] of [
      ['ci', 'deployer', ['inline-app']],
      ['dash', 'viewer', []],
      ['ops', 'admin', []],
    ] as const) {
      const res = await s.api('POST', '/api/v1/keys', { name, role, stacks });
      made.push(((await res.json()) as { key: { secret: string } }).key.secret);
    }
    // Used (last_used_at, the audit log) and one revoked: every write path has run.
    for (const key of made) {
      const headers = { 'X-API-KEY': key };
      expect((await s.app.request('/api/v1/stacks', { headers })).status).toBe(200);
      const deploy = await s.app.request('/api/v1/stacks/inline-app/deploy?wait=true', {
        method: 'POST',
        headers,
      });
      expect([200, 403]).toContain(deploy.status);
    }
    const { keys } = (await (await s.api('GET', '/api/v1/keys')).json()) as {
      keys: { id: string }[];
    };
    await s.api('DELETE', `/api/v1/keys/${keys[1]!.id}`);
    const stored = s.handle.sqlite.prepare('select key_hash from api_keys').all() as {
      key_hash: string;
    }[];
    expect(stored.map((r) => r.key_hash).sort()).toEqual(made.slice(1).map(sha256).sort());
    const files = rawFiles(s.dataDir);
    expect(Object.keys(files).some((p) => p.endsWith('-wal'))).toBe(true);
    for (const [path, bytes] of Object.entries(files)) {
      for (const key of [...made, API_KEY]) {
        for (const form of [
          key,
          Buffer.from(key).toString('base64'),
          Buffer.from(key).toString('hex'),
        ])
          expect(bytes.includes(Buffer.from(form)), `a key in ${path}`).toBe(false);
      }
    }
  });
});

describe('rotate-key', () => {
  const out: string[] = [];
  const log = (l: string) => out.push(l);

  async function populated(key = KEY) {
    const s = server(undefined, key);
    await createSecretStacks(s.api);
    s.handle.close();
    return s;
  }

  const secretsWith = (dataDir: string, key: string) => {
    const h = createDb(databasePath({ dataDir }));
    handles.push(h);
    const box = createSecretBox(key);
    const all = h.db
      .select()
      .from(stacks)
      .all()
      .map((r) => ({ name: r.name, ...decryptSecrets(r, box) }));
    h.close();
    return all;
  };

  it('re-encrypts every secret under a file-based key and writes the new key (0600)', async () => {
    const s = await populated();
    writeFileSync(join(s.dataDir, 'secret-key'), `${KEY}\n`, { mode: 0o600 });
    const before = secretsWith(s.dataDir, KEY);
    const res = rotateSecretKey({ env: { SIMPLEDEPLOY_DATA_DIR: s.dataDir }, out: log });
    expect(res).toMatchObject({ stacks: 2, values: 4 });
    const keyFile = join(s.dataDir, 'secret-key');
    const newKey = readFileSync(keyFile, 'utf8').trim();
    expect(newKey).not.toBe(KEY);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${keyFile}.old`, 'utf8').trim()).toBe(KEY);
    expect(secretsWith(s.dataDir, newKey)).toEqual(before);
    expect(() => secretsWith(s.dataDir, KEY)).toThrow(/cannot be decrypted/);
    expect(out.join('\n')).toMatch(/re-encrypted 4 secret value\(s\) in 2 stack\(s\)/);
    expectNoPlaintext(s.dataDir);
  });

  it('rotates an environment key to SIMPLEDEPLOY_NEW_SECRET_KEY, round trip included', async () => {
    const s = await populated();
    const next = 'the-next-secret-key-abcdef123';
    const before = secretsWith(s.dataDir, KEY);
    rotateSecretKey({
      env: {
        SIMPLEDEPLOY_DATA_DIR: s.dataDir,
        SIMPLEDEPLOY_SECRET_KEY: KEY,
        SIMPLEDEPLOY_NEW_SECRET_KEY: next,
      },
      out: log,
    });
    expect(existsSync(join(s.dataDir, 'secret-key'))).toBe(false);
    expect(secretsWith(s.dataDir, next)).toEqual(before);
    // And back again.
    rotateSecretKey({
      env: {
        SIMPLEDEPLOY_DATA_DIR: s.dataDir,
        SIMPLEDEPLOY_SECRET_KEY: next,
        SIMPLEDEPLOY_NEW_SECRET_KEY: KEY,
      },
      out: log,
    });
    expect(secretsWith(s.dataDir, KEY)).toEqual(before);
  });

  it('prints a generated key when the current one comes from the environment', async () => {
    const s = await populated();
    const res = rotateSecretKey({
      env: { SIMPLEDEPLOY_DATA_DIR: s.dataDir, SIMPLEDEPLOY_SECRET_KEY: KEY },
      out: log,
    });
    expect(res.printedKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(out).toContain(res.printedKey);
    expect(secretsWith(s.dataDir, res.printedKey!).length).toBe(2);
  });

  it('changes nothing with a wrong old key', async () => {
    const s = await populated();
    writeFileSync(join(s.dataDir, 'secret-key'), 'not-the-key-that-was-used-1234\n', {
      mode: 0o600,
    });
    const h = createDb(databasePath(s));
    const snapshot = dump(h);
    h.close();
    expect(() =>
      rotateSecretKey({
        env: { SIMPLEDEPLOY_DATA_DIR: s.dataDir, SIMPLEDEPLOY_NEW_SECRET_KEY: 'x'.repeat(32) },
        out: log,
      }),
    ).toThrow(RotateError);
    expect(() =>
      rotateSecretKey({
        env: { SIMPLEDEPLOY_DATA_DIR: s.dataDir, SIMPLEDEPLOY_NEW_SECRET_KEY: 'x'.repeat(32) },
        out: log,
      }),
    ).toThrow(/nothing was changed: .*not the key it was written with/);
    const after = createDb(databasePath(s));
    handles.push(after);
    expect(dump(after)).toBe(snapshot);
    after.close();
    expect(readFileSync(join(s.dataDir, 'secret-key'), 'utf8').trim()).toBe(
      'not-the-key-that-was-used-1234',
    );
    expect(existsSync(join(s.dataDir, 'secret-key.new'))).toBe(false);
    expect(secretsWith(s.dataDir, KEY).length).toBe(2);
  });

  it('refuses without a database or without a current key', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sd-rotate-'));
    expect(() => rotateSecretKey({ env: { SIMPLEDEPLOY_DATA_DIR: empty }, out: log })).toThrow(
      /no database/,
    );
  });
});
